"""Tracing pages: verification pushes (推送核查), the overdue board and assist requests.

Thin views: selectors read (scoped, masked), services write. A DomainError raised here
becomes a 403/404 page or an htmx fragment (web.middleware.DomainErrorMiddleware).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.permissions import has_capability, scope_path
from fangkong.accounts.roles import Capability
from fangkong.accounts.types import AuthedRequest
from fangkong.areas import selectors as area_selectors
from fangkong.core import jobs
from fangkong.core.errors import DomainError, NotFound, PermissionDenied
from fangkong.core.http import client_address, wants_json
from fangkong.core.pages import JobQueryForm
from fangkong.core.paths import CITY_WIDTH, city_of
from fangkong.people import services as people_services
from fangkong.people.rules import mask_name
from fangkong.tracing import excel, tasks_pushes
from fangkong.tracing.forms import (
    PushFilterForm,
    PushImportForm,
    PushItemsFilterForm,
    PushMarkForm,
    RevealForm,
)
from fangkong.tracing.models import PushItem, PushItemStatus, PushStatus, VerificationPush
from fangkong.tracing.selectors import pushes as selectors
from fangkong.tracing.services import pushes as services

if TYPE_CHECKING:
    from fangkong.accounts.models import User


def _is_city_wide(user: User) -> bool:
    return len(scope_path(user)) == CITY_WIDTH


def _is_htmx(request: HttpRequest) -> bool:
    return bool(request.headers.get("HX-Request"))


def _overdue(push: VerificationPush, now: Any) -> bool:
    return push.status == PushStatus.OPEN and push.deadline < now


def _push_rows(user: User, pushes: list[VerificationPush]) -> list[dict[str, Any]]:
    counts = selectors.push_item_counts(user=user, push_ids=[p.pk for p in pushes])
    now = timezone.now()
    return [
        {
            "push": p,
            "counts": counts[p.pk],
            "overdue": _overdue(p, now),
            "deadline_iso": p.deadline.isoformat(),
        }
        for p in pushes
    ]


def push_cards(counts: selectors.ItemCounts) -> list[dict[str, Any]]:
    """The summary cards: the persons in view, then one card per 核查结果 with the very
    words of the feedback choices (待核查, 已找到, 已集中隔离 ...)."""
    tone = {
        PushItemStatus.PENDING: "kpi-pending",
        PushItemStatus.CENTRALISED: "kpi-held",
        PushItemStatus.HOME: "kpi-held",
        PushItemStatus.HOSPITAL: "kpi-held",
        PushItemStatus.NOT_FOUND: "kpi-sealed",
    }
    cards: list[dict[str, Any]] = [{"key": "total", "label": _("人数"), "n": counts.total}]
    for value, label in PushItemStatus.choices:
        cards.append(
            {
                "key": value,
                "label": label,
                "n": counts.by_status.get(value, 0),
                "tone": tone.get(PushItemStatus(value), ""),
            }
        )
    return cards


def controlled_note(counts: selectors.ItemCounts) -> str:
    """The line under the cards: what 已管控 sums, in the feedback choices' own (translated)
    labels, so an English page does not quote Chinese choices inside an English sentence."""
    return _(
        "已管控 %(n)s 人（%(centralised)s、%(home)s、%(hospital)s之和）；"
        "“%(located)s”尚未管控，须继续落实隔离。"
    ) % {
        "n": counts.controlled,
        "centralised": PushItemStatus.CENTRALISED.label,
        "home": PushItemStatus.HOME.label,
        "hospital": PushItemStatus.HOSPITAL.label,
        "located": PushItemStatus.LOCATED.label,
    }


# --- the lists -------------------------------------------------------------------------


@require_GET
@login_required
def push_list(request: AuthedRequest) -> HttpResponse:
    """ "My pushed lists": a town's lists with countdowns; every town for city-wide roles."""
    user = request.user
    city_wide = _is_city_wide(user)
    filters = PushFilterForm(request.GET).lenient()
    status = filters["status"] if filters["status"] in PushStatus.values else ""
    overdue = bool(filters["overdue"])
    completion = (
        filters["completion"] if filters["completion"] in selectors.PUSH_COMPLETIONS else ""
    )
    town_path = (filters["town"] or "") if city_wide else ""
    page = selectors.pushes(
        user=user,
        status=status or None,
        overdue=True if overdue else None,
        town_path=town_path or None,
        cursor=filters["cursor"] or None,
        completion=completion or None,
    )
    totals = selectors.push_totals(
        user=user,
        status=status or None,
        overdue=True if overdue else None,
        town_path=town_path or None,
        completion=completion or None,
    )
    context = {
        "rows": _push_rows(user, page.items),
        "page": page,
        "status": status,
        "overdue": overdue,
        "completion": completion,
        "completions": [("on_time", _("按时完成")), ("late", _("超时完成"))],
        "town_path": town_path,
        "city_wide": city_wide,
        "towns": (list(area_selectors.jurisdictions(user=user, level="town")) if city_wide else []),
        "totals": totals,
        "cards": push_cards(totals.items),
        "controlled_note": controlled_note(totals.items),
        "statuses": PushStatus.choices,
        "can_see_board": has_capability(user, Capability.OVERDUE_VIEW),
    }
    return render(request, "tracing/push_list.html", context)


def _item_row(user: User, item: PushItem, push: VerificationPush, **extra: Any) -> dict[str, Any]:
    person = item.contact.person
    return {
        "item": item,
        "contact": item.contact,
        "name_masked": mask_name(person.name),
        "id_masked": person.id_masked,
        "phone_masked": person.phone_masked,
        "late": services.push_item_is_late(item, push),
        **extra,
    }


# Persons per page of a list: a page of rows with their forms stays far under 200 KB.
ITEM_PAGE_SIZE_DEFAULT = 50
ITEM_PAGE_SIZE = ITEM_PAGE_SIZE_DEFAULT


def _mark_choices() -> list[tuple[str, str]]:
    return [
        (str(v), str(label)) for v, label in PushItemStatus.choices if v != PushItemStatus.PENDING
    ]


def _summary_context(user: User, push: VerificationPush, show: str) -> dict[str, Any]:
    """The list's head: status, countdown, cards and the filter tabs with their counts
    (swapped in place after every mark, so the last mark shows the list done)."""
    now = timezone.now()
    counts = selectors.push_item_counts(user=user, push_ids=[push.pk])[push.pk]
    late = selectors.push_items_late_count(user=user, push=push, now=now)
    return {
        "push": push,
        "now": now,
        "counts": counts,
        "cards": push_cards(counts),
        "controlled_note": controlled_note(counts),
        "overdue": _overdue(push, now),
        "show": show,
        "shows": [
            {"key": "pending", "label": _("待核查"), "n": counts.pending},
            {"key": "late", "label": _("超时"), "n": late},
            {"key": "all", "label": _("全部"), "n": counts.total},
        ],
    }


def _detail_context(
    request: AuthedRequest, push: VerificationPush, *, show: str = "all", cursor: str = ""
) -> dict[str, Any]:
    user = request.user
    context = _summary_context(user, push, show)
    page = selectors.push_items_page(
        user=user, push=push, show=show, cursor=cursor or None, size=ITEM_PAGE_SIZE
    )
    assists = selectors.assist_requests_of_push(
        user=user, push=push, contact_ids=[i.contact_id for i in page.items]
    )
    rows = [_item_row(user, i, push, assist_id=assists.get(i.contact_id)) for i in page.items]
    shown = next(s["n"] for s in context["shows"] if s["key"] == show)
    context.update(
        {
            "rows": rows,
            "page": page,
            "cursor": cursor,
            "shown_total": shown,
            "mark_choices": _mark_choices(),
            "can_mark": has_capability(user, Capability.PUSH_FEEDBACK),
            "can_export": has_capability(user, Capability.PUSH_EXPORT),
            "can_reveal": has_capability(user, Capability.PERSON_REVEAL),
            "report": None,
        }
    )
    return context


def _show_of(query: QueryDict) -> str:
    show = PushItemsFilterForm(query).lenient()["show"]
    return show if show in selectors.ITEM_SHOWS else "all"


def _current_show(request: HttpRequest) -> str:
    """The filter of the page an htmx request came from (its URL, sent by htmx)."""
    return _show_of(QueryDict(urlsplit(request.headers.get("HX-Current-URL", "")).query))


@require_GET
@login_required
def push_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """A list's page: its head and one keyset page of persons (`?show=pending|late|all`,
    `?cursor=`); an htmx GET with a cursor answers the next rows only (load on scroll)."""
    push = selectors.push_get(user=request.user, pk=pk)
    show = _show_of(request.GET)
    cursor = PushItemsFilterForm(request.GET).lenient()["cursor"] or ""
    context = _detail_context(request, push, show=show, cursor=cursor)
    if cursor and _is_htmx(request):
        return render(request, "tracing/_push_item_rows.html", context)
    return render(request, "tracing/push_detail.html", context)


@require_POST
@login_required
def push_item_mark(request: AuthedRequest, pk: int) -> HttpResponse:
    """Mark one person in place (htmx swaps the row, and the list's head out of band);
    without htmx, back to the list."""
    user = request.user
    item = selectors.push_item_get(user=user, pk=pk)
    status_code = 200
    error = ""
    try:
        data = PushMarkForm(request.POST).cleaned()
        services.push_item_mark(
            actor=user,
            item=item,
            status=data["status"],
            note=data["note"],
            ip=client_address(request),
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        if not _is_htmx(request):
            raise
        error, status_code = exc.message, 400
    if not _is_htmx(request):
        messages.success(request, _("已保存核查结果"))
        return redirect("tracing:push_detail", pk=item.push_id)
    item = selectors.push_item_get(user=user, pk=pk)
    push = selectors.push_get(user=user, pk=item.push_id)
    assists = selectors.assist_requests_of_push(user=user, push=push, contact_ids=[item.contact_id])
    context = {
        **_summary_context(user, push, _current_show(request)),
        "row": _item_row(user, item, push, assist_id=assists.get(item.contact_id), error=error),
        "mark_choices": _mark_choices(),
        "can_mark": has_capability(user, Capability.PUSH_FEEDBACK),
        # The list's head goes out of band with the row: status, countdown and cards
        # follow the mark without a reload (the last pending person marked: list done).
        "oob": True,
    }
    return render(request, "tracing/_push_item_row.html", context, status=status_code)


@require_http_methods(["GET", "POST"])
@login_required
def push_export(request: AuthedRequest, pk: int) -> HttpResponse:
    """POST: start the export, masked, or in clear with reveal=1 (confirmed, audited), by
    a background job, and 303 to this page with `?job=`. GET: the page with the export
    buttons and (`?job=`) the job: its progress, then the file to download. A GET never
    starts an export (a reload or a link does not write, nor audit, a workbook)."""
    user = request.user
    if request.method == "POST":
        job = tasks_pushes.push_export_start(
            actor=user,
            push_id=pk,
            reveal=RevealForm(request.POST).lenient()["reveal"] is True,
            ip=client_address(request),
        )
        return jobs.started_answer(job)
    push = tasks_pushes.push_export_check(actor=user, push_id=pk, reveal=False)
    back_url = reverse("tracing:push_detail", args=[pk])
    context: dict[str, Any] = {
        "title": _("核查名单"),
        "subject": push.number,
        "back_url": back_url,
        "export_url": reverse("tracing:push_export", args=[pk]),
        "can_reveal": has_capability(user, Capability.PERSON_REVEAL),
    }
    job_id = JobQueryForm(request.GET).lenient()["job"]
    if job_id is not None:
        job = jobs.job_get(user=user, job_id=job_id)
        context.update(jobs.job_context(job, back_url=back_url, back_label=_("返回名单")))
    return render(request, "web/export.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def push_import(request: AuthedRequest, pk: int) -> HttpResponse:
    """Import the town's feedback; on any bad row nothing changes and the rows are listed
    (on the list's page, answered at this URL). A GET here (the address bar after a
    refused import, reloaded or opened again) goes to the list's page, never a bare 405."""
    push = selectors.push_get(user=request.user, pk=pk)
    if request.method == "GET":
        return redirect("tracing:push_detail", pk=push.pk)
    try:
        upload = PushImportForm(request.POST, request.FILES).cleaned()["file"]
        report = excel.push_import_feedback(
            actor=request.user,
            push=push,
            file=upload.read(excel.MAX_IMPORT_BYTES + 1),
            ip=client_address(request),
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        if wants_json(request):
            raise  # the middleware answers {"code", ...}
        # A file that is no feedback sheet (or none) is refused on the list page itself,
        # where the bad rows of a sheet are shown too.
        context = _detail_context(request, selectors.push_get(user=request.user, pk=pk))
        context["import_error"] = exc
        return render(request, "tracing/push_detail.html", context, status=exc.status)
    if report.ok:
        messages.success(
            request,
            _("导入完成：更新 %(changed)d 人，未变 %(unchanged)d 人")
            % {"changed": report.changed, "unchanged": report.unchanged},
        )
        if report.stale:
            messages.warning(
                request,
                _("以下行的人员在导出后已被修改，未导入（请重新导出后核对）：第 %(rows)s 行")
                % {"rows": "、".join(str(e.row) for e in report.stale)},
            )
        return redirect("tracing:push_detail", pk=push.pk)
    push = selectors.push_get(user=request.user, pk=pk)
    context = _detail_context(request, push)
    context["report"] = report
    return render(request, "tracing/push_detail.html", context, status=400)


# --- the case page's section -------------------------------------------------------------


def _case_page_url(pk: int) -> str:
    """The case page (cases part) when wired, else this section on its own."""
    try:
        return reverse("tracing:case_detail", kwargs={"pk": pk})
    except NoReverseMatch:
        return reverse("tracing:case_pushes", kwargs={"pk": pk})


@require_http_methods(["GET", "POST"])
@login_required
def case_pushes(request: AuthedRequest, pk: int) -> HttpResponse:
    """The lists of a case per town with progress (an htmx fragment of the case page);
    POST pushes the case's newly identified contacts."""
    user = request.user
    case = selectors.case_for_pushes(user=user, pk=pk)
    created: list[VerificationPush] | None = None
    error = ""
    if request.method == "POST":
        try:
            created = services.pushes_create_for_case(
                actor=user, case=case, ip=client_address(request)
            )
        except (PermissionDenied, NotFound):
            raise
        except DomainError as exc:
            error = exc.message
    pushes = selectors.pushes_of_case(user=user, case=case)
    context = {
        "case": case,
        "rows": _push_rows(user, pushes),
        "waiting": selectors.case_contacts_waiting(user=user, case=case),
        "can_push": has_capability(user, Capability.CONTACT_MANAGE),
        "created": created,
        "error": error,
    }
    if request.method == "POST" and not _is_htmx(request):
        if error:
            messages.error(request, error)
        return redirect(_case_page_url(case.pk))
    response = render(request, "tracing/_case_pushes.html", context, status=400 if error else 200)
    if request.method == "POST" and not error:
        response["HX-Trigger"] = "case-pushes-changed"  # the contacts section shows "pushed"
    return response


# --- the overdue board ------------------------------------------------------------------


@require_GET
@login_required
def overdue_board(request: AuthedRequest) -> HttpResponse:
    """The one overdue board is command's (every kind of item, pushed lists and
    investigations among them); this old address leads there."""
    return redirect("command:overdue")


# --- assist requests (协查函) -------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def assist_request(request: AuthedRequest, pk: int) -> HttpResponse:
    """The printable assist request; POST reveal=1 shows the identity in clear (audited)."""
    user = request.user
    assist = selectors.assist_request_get(user=user, pk=pk)
    person = assist.contact.person
    revealed: dict[str, str] = {}
    if request.method == "POST" and RevealForm(request.POST).lenient()["reveal"] is True:
        for field in people_services.REVEALABLE_FIELDS:
            try:
                revealed[field] = people_services.person_reveal(
                    actor=user, person=person, field=field, ip=client_address(request)
                )
            except DomainError as exc:
                if exc.code != "reveal_empty":
                    raise
    city = area_selectors.jurisdiction_summary(path=city_of(assist.jurisdiction_path))
    return render(
        request,
        "tracing/assist_request.html",
        {
            "assist": assist,
            "person": person,
            "contact": assist.contact,
            "name": person.name if revealed else mask_name(person.name),
            "id_number": revealed.get("id_number") or person.id_masked,
            "phone": revealed.get("phone") or person.phone_masked,
            "revealed": bool(revealed),
            "exposures": selectors.assist_request_exposures(user=user, assist=assist),
            "city_name": (city or {}).get("name", ""),
            "command_phone": getattr(settings, "FANGKONG_COMMAND_PHONE", ""),
            "can_reveal": has_capability(user, Capability.PERSON_REVEAL),
            "today": timezone.localdate(),
        },
    )


urlpatterns: list[URLPattern] = [
    path("pushes/", push_list, name="push_list"),
    path("pushes/overdue/", overdue_board, name="overdue_board"),
    path("pushes/<int:pk>/", push_detail, name="push_detail"),
    path("pushes/<int:pk>/export/", push_export, name="push_export"),
    path("pushes/<int:pk>/import/", push_import, name="push_import"),
    path("push-items/<int:pk>/mark/", push_item_mark, name="push_item_mark"),
    path("cases/<int:pk>/pushes/", case_pushes, name="case_pushes"),
    path("assist-requests/<int:pk>/", assist_request, name="assist_request"),
]
