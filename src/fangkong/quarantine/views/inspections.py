"""Pages of inspections against the standard (对照标准): inspections (list, new, detail),
rectifications (list overdue first, complete), the editable checklist, and the closed-loop
staff roster. Site staff see their own site only; a town its town's sites; command all."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.permissions import has_capability, require
from fangkong.accounts.roles import Capability
from fangkong.accounts.types import AuthedRequest
from fangkong.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from fangkong.core.http import client_address
from fangkong.core.pages import refusal_message
from fangkong.core.pagination import keyset_page
from fangkong.quarantine.choices import RectificationStatus, StaffPost, TestResult
from fangkong.quarantine.forms_inspections import (
    ChecklistItemForm,
    InspectionForm,
    RectificationCompleteForm,
    RectificationFilterForm,
    RectificationReassignForm,
    ShiftForm,
    SiteFilterForm,
    StaffTestForm,
)
from fangkong.quarantine.rules.inspections import (
    FLAG_LOOP_ENDED,
    FLAG_POSITIVE,
    FLAG_TEST_OVERDUE,
    staff_standing,
)
from fangkong.quarantine.selectors import inspections as selectors
from fangkong.quarantine.services import inspections as services
from fangkong.quarantine.services import staff as staff_services

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.quarantine.models import Site

PAGE_SIZE = 50


def _site_filter(user: User, raw: int | None) -> tuple[list[Site], Site | None]:
    """The sites the user may pick, and the one picked (a site-staff user: their own)."""
    sites = selectors.sites_for_inspections(user=user)
    own = selectors.own_site(user)
    if own is not None:
        return [own], own
    chosen = next((s for s in sites if s.pk == raw), None) if raw else None
    return sites, chosen


# --- inspections -----------------------------------------------------------------------


@require_GET
@login_required
def inspection_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    filters = SiteFilterForm(request.GET).lenient()
    sites, site = _site_filter(user, filters["site"])
    qs = selectors.inspections(user=user, site_id=site.pk if site else None)
    page = keyset_page(
        qs,
        cursor=filters["cursor"] or None,
        size=PAGE_SIZE,
        order=selectors.INSPECTION_ORDER,
        with_total=True,
    )
    return render(
        request,
        "quarantine/inspection_list.html",
        {
            "page": page,
            "sites": sites,
            "site": site,
            "counts": selectors.rectifications_open_count(user=user),
            "can_inspect": has_capability(user, Capability.INSPECTION_MANAGE)
            and not selectors.bound_to_site(user),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def inspection_create(request: AuthedRequest) -> HttpResponse:
    """Pick a site (?site=), then answer every active item: pass, or fail with a note."""
    user = request.user
    require(user, Capability.INSPECTION_MANAGE)
    filters = SiteFilterForm(request.GET).lenient()
    sites, site = _site_filter(user, filters["site"])
    if site is None:
        return render(request, "quarantine/inspection_site_pick.html", {"sites": sites})
    items = list(selectors.checklist_items(user=user))
    accounts = selectors.site_staff_accounts(site)
    error: DomainError | None = None
    echo: dict[str, str] = {"inspected_on": timezone.localdate().isoformat()}
    if request.method == "POST":
        form = InspectionForm(request.POST, item_ids=[i.pk for i in items])
        echo = form.echo()
        try:
            results = form.results()
            data = form.cleaned_data
            owner = next((a for a in accounts if a.pk == data["owner"]), None)
            if data["owner"] and owner is None:
                raise InvalidInput(
                    "owner_not_site_staff", _("整改责任人账户须为本隔离点的工作人员")
                )
            inspection = services.inspection_create(
                actor=user,
                site=site,
                inspected_on=data["inspected_on"],
                results=results,
                summary=data["summary"],
                owner_name=data["owner_name"],
                owner=owner,
                deadline_at=data["deadline_at"],
                ip=client_address(request),
            )
        except (PermissionDenied, NotFound):
            raise
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, _("已保存检查记录"))
            return redirect("quarantine:inspection_detail", pk=inspection.pk)
    groups = [
        (
            category,
            [
                {
                    "item": item,
                    "result": echo.get(f"result_{item.pk}", ""),
                    "note": echo.get(f"note_{item.pk}", ""),
                }
                for item in group
            ],
        )
        for category, group in selectors.checklist_by_category(items)
    ]
    return render(
        request,
        "quarantine/inspection_form.html",
        {
            "site": site,
            "groups": groups,
            "accounts": accounts,
            "form": echo,
            "error": error,
        },
        status=400 if error else 200,
    )


@require_GET
@login_required
def inspection_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    inspection = selectors.inspection_get(user=user, pk=pk)
    findings = selectors.inspection_findings(inspection)
    now = timezone.now()
    rows: list[dict[str, Any]] = [
        {
            "finding": f,
            "rectification": getattr(f, "rectification", None) if not f.passed else None,
        }
        for f in findings
    ]
    for row in rows:
        rect = row["rectification"]
        row["overdue"] = bool(
            rect and rect.status == RectificationStatus.OPEN and rect.deadline_at < now
        )
    by_category: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_category.setdefault(row["finding"].item.category, []).append(row)
    return render(
        request,
        "quarantine/inspection_detail.html",
        {
            "inspection": inspection,
            "groups": list(by_category.items()),
            "failed": sum(1 for r in rows if not r["finding"].passed),
            "total": len(rows),
        },
    )


# --- rectifications --------------------------------------------------------------------


def _can_complete(user: User, rect: Any) -> bool:
    if rect.status != RectificationStatus.OPEN:
        return False
    if selectors.bound_to_site(user):
        return (
            has_capability(user, Capability.RECTIFICATION_UPDATE)
            and user.place_id == rect.site.place_id
        )
    return has_capability(user, Capability.INSPECTION_MANAGE)


@require_GET
@login_required
def rectification_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    filters = RectificationFilterForm(request.GET).lenient()
    sites, site = _site_filter(user, filters["site"])
    status = filters["status"] or ""
    overdue = filters["overdue"] == "1"
    now = timezone.now()
    qs = selectors.rectifications(
        user=user,
        site_id=site.pk if site else None,
        status=status or None,
        overdue_only=overdue,
        now=now,
    )
    page = keyset_page(
        qs,
        cursor=filters["cursor"] or None,
        size=PAGE_SIZE,
        order=selectors.RECTIFICATION_ORDER,
        with_total=True,
    )
    can_reassign = has_capability(
        user, Capability.INSPECTION_MANAGE
    ) and not selectors.bound_to_site(user)
    rows = [
        {
            "rect": r,
            "overdue": r.rank == 0,  # type: ignore[attr-defined]
            "can_complete": _can_complete(user, r),
            "can_reassign": can_reassign and r.status == RectificationStatus.OPEN,
            "deadline_local": timezone.localtime(r.deadline_at).strftime("%Y-%m-%dT%H:%M"),
        }
        for r in page.items
    ]
    return render(
        request,
        "quarantine/rectification_list.html",
        {
            "page": page,
            "rows": rows,
            "sites": sites,
            "site": site,
            "status": status,
            "overdue": overdue,
            "statuses": RectificationStatus.choices,
            "counts": selectors.rectifications_open_count(user=user, now=now),
            "own_site": selectors.own_site(user),
        },
    )


@require_POST
@login_required
def rectification_complete(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    rect = selectors.rectification_get(user=user, pk=pk)
    form = RectificationCompleteForm(request.POST)
    back = reverse("quarantine:rectification_list")
    try:
        data = form.cleaned()
        nxt = data["next"]
        if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
            back = nxt
        services.rectification_complete(
            actor=user, rectification=rect, note=data["note"], ip=client_address(request)
        )
    except DomainError as exc:
        refusal_message(request, exc)
    else:
        messages.success(request, _("已完成整改"))
    return redirect(back)


@require_POST
@login_required
def rectification_reassign(request: AuthedRequest, pk: int) -> HttpResponse:
    """Command names another owner or deadline (from the list's 调整 form)."""
    user = request.user
    rect = selectors.rectification_get(user=user, pk=pk)
    form = RectificationReassignForm(request.POST)
    back = reverse("quarantine:rectification_list")
    try:
        data = form.cleaned()
        nxt = data["next"]
        if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
            back = nxt
        services.rectification_reassign(
            actor=user,
            rectification=rect,
            owner_name=data["owner_name"],
            owner=rect.owner if data["owner_name"] == rect.owner_name else None,
            deadline_at=data["deadline_at"],
            ip=client_address(request),
        )
    except DomainError as exc:
        refusal_message(request, exc)
    else:
        messages.success(request, _("已调整整改责任人和时限"))
    return redirect(back)


# --- the checklist ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def checklist(request: AuthedRequest) -> HttpResponse:
    """The standard's items by category (retired ones greyed); command adds items here."""
    user = request.user
    manage = has_capability(user, Capability.INSPECTION_MANAGE)
    error: DomainError | None = None
    echo: dict[str, str] = {"code": "", "category": "", "text": "", "order": "0"}
    if request.method == "POST":
        require(user, Capability.INSPECTION_MANAGE)
        form = ChecklistItemForm(request.POST)
        echo = form.echo(300)
        try:
            data = form.cleaned()
            item = services.checklist_item_create(
                actor=user,
                code=data["code"],
                category=data["category"],
                text=data["text"],
                order=data["order"],
                ip=client_address(request),
            )
        except (PermissionDenied, NotFound):
            raise
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, _("已新增条目 %(code)s") % {"code": item.code})
            return redirect("quarantine:checklist")
    items = list(selectors.checklist_items(user=user, include_retired=manage))
    return render(
        request,
        "quarantine/checklist.html",
        {
            "groups": selectors.checklist_by_category(items),
            "can_manage": manage,
            "categories": sorted({i.category for i in items}),
            "form": echo,
            "error": error,
        },
        status=400 if error else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
def checklist_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    require(user, Capability.INSPECTION_MANAGE)
    item = selectors.checklist_item_get(user=user, pk=pk)
    error: DomainError | None = None
    echo = {"category": item.category, "text": item.text, "order": str(item.order)}
    if request.method == "POST":
        form = ChecklistItemForm(request.POST)
        echo = {k: v for k, v in form.echo(300).items() if k != "code"}
        try:
            data = form.cleaned()
            services.checklist_item_update(
                actor=user,
                item=item,
                category=data["category"],
                text=data["text"],
                order=data["order"],
                ip=client_address(request),
            )
        except (PermissionDenied, NotFound):
            raise
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, _("已保存条目 %(code)s") % {"code": item.code})
            return redirect("quarantine:checklist")
    return render(
        request,
        "quarantine/checklist_edit.html",
        {"item": item, "form": echo, "error": error},
        status=400 if error else 200,
    )


@require_POST
@login_required
def checklist_retire(request: AuthedRequest, pk: int) -> HttpResponse:
    """Retire an active item, or restore a retired one."""
    user = request.user
    require(user, Capability.INSPECTION_MANAGE)
    item = selectors.checklist_item_get(user=user, pk=pk)
    services.checklist_item_retire(
        actor=user, item=item, active=not item.active, ip=client_address(request)
    )
    messages.success(
        request,
        (_("已恢复条目 %(code)s") if item.active else _("已停用条目 %(code)s"))
        % {"code": item.code},
    )
    return redirect("quarantine:checklist")


# --- the closed-loop staff roster ------------------------------------------------------

FLAG_LABELS = {
    FLAG_TEST_OVERDUE: _lazy("核酸逾期"),
    FLAG_POSITIVE: _lazy("核酸阳性"),
    FLAG_LOOP_ENDED: _lazy("闭环期已满"),
}


@require_GET
@login_required
def staff_roster(request: AuthedRequest) -> HttpResponse:
    """The closed-loop staff of the sites in scope (a site staff's: their own), flagged
    when their last test is older than two days, positive, or their period has ended."""
    user = request.user
    filters = SiteFilterForm(request.GET).lenient()
    sites, site = _site_filter(user, filters["site"])
    today = timezone.localdate()
    qs = selectors.staff_shifts(user=user, site_id=site.pk if site else None, current_on=today)
    page = keyset_page(
        qs,
        cursor=filters["cursor"] or None,
        size=PAGE_SIZE,
        order=selectors.SHIFT_ORDER,
        with_total=True,
    )
    rows: list[dict[str, Any]] = []
    for shift in page.items:
        standing = staff_standing(
            today=today,
            starts_on=shift.starts_on,
            ends_on=shift.ends_on,
            last_test_on=shift.last_test_on,  # type: ignore[attr-defined]
            last_result=shift.last_result,  # type: ignore[attr-defined]
        )
        rows.append(
            {
                "shift": shift,
                "standing": standing,
                "flag_labels": [str(FLAG_LABELS[f]) for f in standing.flags],
                "can_record": staff_services.can_record_test(user, shift.site),
                "last_result_label": TestResult(shift.last_result).label  # type: ignore[attr-defined]
                if shift.last_result  # type: ignore[attr-defined]
                else "",
            }
        )
    manage = has_capability(user, Capability.SITE_MANAGE) and not selectors.bound_to_site(user)
    return render(
        request,
        "quarantine/staff_roster.html",
        {
            "page": page,
            "rows": rows,
            "flagged": sum(1 for r in rows if r["standing"].flagged),
            "sites": sites,
            "site": site,
            "can_manage": manage,
            "posts": StaffPost.choices,
            "results": TestResult.choices,
            "today": today,
            "default_end": today + dt.timedelta(days=14),
        },
    )


@require_POST
@login_required
def staff_shift_create(request: AuthedRequest) -> HttpResponse:
    user = request.user
    require(user, Capability.SITE_MANAGE)
    form = ShiftForm(request.POST)
    back = reverse("quarantine:staff_roster")
    try:
        data = form.cleaned()
        site = selectors.site_for_inspections(user=user, pk=data["site"])
        back = f"{back}?site={site.pk}"
        staff_services.staff_shift_create(
            actor=user,
            site=site,
            name=data["name"],
            post=data["post"],
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            ip=client_address(request),
        )
    except DomainError as exc:
        refusal_message(request, exc)
    else:
        messages.success(request, _("已登记闭环工作人员"))
    return redirect(back)


@require_POST
@login_required
def staff_test_record(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    shift = selectors.staff_shift_get(user=user, pk=pk)
    form = StaffTestForm(request.POST)
    try:
        data = form.cleaned()
        staff_services.staff_test_record(
            actor=user,
            shift=shift,
            tested_on=data["tested_on"],
            result=data["result"],
            ip=client_address(request),
        )
    except DomainError as exc:
        refusal_message(request, exc)
    else:
        messages.success(request, _("已登记 %(name)s 的核酸结果") % {"name": shift.name})
    return redirect(f"{reverse('quarantine:staff_roster')}?site={shift.site_id}")


urlpatterns: list[URLPattern] = [
    path("inspections/", inspection_list, name="inspection_list"),
    path("inspections/new/", inspection_create, name="inspection_create"),
    path("inspections/<int:pk>/", inspection_detail, name="inspection_detail"),
    path("rectifications/", rectification_list, name="rectification_list"),
    path(
        "rectifications/<int:pk>/complete/",
        rectification_complete,
        name="rectification_complete",
    ),
    path(
        "rectifications/<int:pk>/reassign/",
        rectification_reassign,
        name="rectification_reassign",
    ),
    path("checklist/", checklist, name="checklist"),
    path("checklist/<int:pk>/edit/", checklist_edit, name="checklist_edit"),
    path("checklist/<int:pk>/retire/", checklist_retire, name="checklist_retire"),
    path("staff/", staff_roster, name="staff_roster"),
    path("staff/new/", staff_shift_create, name="staff_shift_create"),
    path("staff/<int:pk>/tests/", staff_test_record, name="staff_test_record"),
]
