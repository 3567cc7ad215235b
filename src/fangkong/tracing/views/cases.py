"""Tracing pages: cases (list, create, case page with timeline and itinerary).

Views are thin: selectors read (scoped), services write. A refusal of the role (403)
or a case outside the user's jurisdiction (404) escapes to the DomainErrorMiddleware;
other refusals are shown where the action was (inline, or as a flash message).
The case page loads the other parts' sections (contacts, pushes, chain, map) by htmx
from their URL names, skipping a section whose URL is not wired yet.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.permissions import has_capability, in_scope, require, scope_path
from fangkong.accounts.roles import Capability
from fangkong.accounts.types import AuthedRequest
from fangkong.areas import selectors as area_selectors
from fangkong.core.errors import DomainError, NotFound, PermissionDenied
from fangkong.core.http import client_address
from fangkong.core.pages import PkField
from fangkong.core.paths import is_under, town_of
from fangkong.people import rules as people_rules
from fangkong.people import selectors as people_selectors
from fangkong.people import services as people_services
from fangkong.tracing.forms import (
    CaseCreateForm,
    CaseFilterForm,
    CaseLifecycleForm,
    ContactPickForm,
    PersonSearchForm,
    StopForm,
)
from fangkong.tracing.models import Case, CaseKind, CaseOrigin, CaseStatus, ContactClass
from fangkong.tracing.rules import cases as rules
from fangkong.tracing.selectors import cases as selectors
from fangkong.tracing.selectors import contacts as contact_selectors
from fangkong.tracing.services import cases as services
from fangkong.tracing.services import itinerary as itinerary_services

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.areas.models import Place

# Sections of the case page served by the other parts of tracing (URL name, title).
CASE_SECTIONS = (
    ("tracing:case_contacts", gettext_lazy("接触者")),
    ("tracing:case_pushes", gettext_lazy("推送核查")),
    ("tracing:case_chain", gettext_lazy("传播链")),
    ("tracing:case_map", gettext_lazy("轨迹地图")),
)


def _is_htmx(request: HttpRequest) -> bool:
    return bool(request.headers.get("HX-Request"))


def _duration(delta: dt.timedelta) -> str:
    minutes = int(abs(delta).total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return _("%(h)d小时%(m)d分") % {"h": hours, "m": minutes}


def _deadline(due: dt.datetime, done: dt.datetime | None, now: dt.datetime) -> dict[str, Any]:
    """A deadline as the pages show it: done (on time or late), counting down, or overdue."""
    if done is not None:
        return {"due": due, "done": done, "state": "late" if done > due else "done", "text": ""}
    left = due - now
    if left.total_seconds() < 0:
        return {"due": due, "state": "overdue", "text": _("超时 %(d)s") % {"d": _duration(left)}}
    return {"due": due, "state": "open", "text": _("剩余 %(d)s") % {"d": _duration(left)}}


def _row(case: Case, now: dt.datetime, towns: dict[str, str]) -> dict[str, Any]:
    closed = case.status == CaseStatus.CLOSED
    return {
        "case": case,
        "name_masked": people_rules.mask_name(case.person.name),
        "town": towns.get(town_of(case.jurisdiction_path), ""),
        "core": None if closed else _deadline(case.core_facts_due_at, case.core_facts_done_at, now),
        "report": None if closed else _deadline(case.report_due_at, case.report_done_at, now),
        "overdue": rules.case_is_overdue(
            status=case.status,
            now=now,
            core_facts_due_at=case.core_facts_due_at,
            core_facts_done_at=case.core_facts_done_at,
            report_due_at=case.report_due_at,
            report_done_at=case.report_done_at,
        ),
    }


def _towns(user: User) -> list[Any]:
    """The towns of the user's city the user may filter by (within the scope)."""
    if not has_capability(user, Capability.AREA_VIEW):
        return []
    own = scope_path(user)
    return [
        t
        for t in area_selectors.jurisdictions(user=user, level="town")
        if is_under(t.path, own) or is_under(own, t.path)
    ]


# --- list -------------------------------------------------------------------------------


@require_GET
@login_required
def case_list(request: AuthedRequest) -> HttpResponse:
    require(request.user, Capability.CASE_VIEW)
    towns = _towns(request.user)
    filter_form = CaseFilterForm(request.GET, towns=towns)
    filters = filter_form.echo()
    filters.pop("cursor")
    error = ""
    page = None
    try:
        data = filter_form.cleaned()
        page = selectors.cases(
            user=request.user,
            status=data["status"] or None,
            kind=data["kind"] or None,
            source=data["source"] or None,
            town=data["town"],
            since=data["since"],
            until=data["until"],
            overdue=data["overdue"],
            cursor=data["cursor"] or None,
            with_total=True,
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        error = exc.message
    now = timezone.now()
    town_names = {t.path: t.name for t in towns}
    query = urlencode({k: v for k, v in filters.items() if v})
    context = {
        "filters": filters,
        "query": query,
        "towns": towns,
        "statuses": CaseStatus.choices,
        "kinds": CaseKind.choices,
        "sources": [("known", _("来源明确")), ("unknown", _("来源不明"))],
        "page": page,
        "rows": [_row(c, now, town_names) for c in (page.items if page else [])],
        "error": error,
        "can_create": has_capability(request.user, Capability.CASE_MANAGE),
    }
    template = "tracing/_case_rows.html" if _is_htmx(request) else "tracing/case_list.html"
    return render(request, template, context, status=400 if error else 200)


# --- create -----------------------------------------------------------------------------


def _person_results(request: AuthedRequest, q: str) -> list[dict[str, Any]]:
    """The persons matching a search. A full ID number or phone is an audited lookup,
    run only when the search form posts it (case_person_search, or case_create with
    step=search): a re-rendered page never repeats it silently."""
    if not q or people_rules.search_key(q).exact:
        return []
    page = people_selectors.person_search(user=request.user, q=q, size=20)
    return [{"person": p, "name_masked": people_rules.mask_name(p.name)} for p in page.items]


def _chosen_person(request: AuthedRequest, raw: str) -> list[dict[str, Any]]:
    """The person a refused case form was sent with, as the one (masked) row to choose
    again: read by id through the scoped selector (the search that listed them already
    ran, and its full-ID lookup is never repeated); none when the id is bad or out of
    scope."""
    try:
        pk = PkField(required=False).clean(raw)
        if pk is None:
            return []
        person = people_selectors.person_get(user=request.user, pk=pk)
    except (ValidationError, NotFound, PermissionDenied):
        return []
    return [{"person": person, "name_masked": people_rules.mask_name(person.name)}]


def _person_search(request: AuthedRequest, q: str) -> tuple[list[dict[str, Any]], str, int]:
    """The search form's answer: (results, error message, status). A full ID number,
    document number or phone only by POST, as people's audited, budgeted lookup; by GET
    it is refused (400 lookup_needs_post)."""
    try:
        if not q:
            persons = []
        elif request.method == "POST" and people_rules.search_key(q).exact:
            persons = people_services.person_lookup(
                actor=request.user, query=q, ip=client_address(request)
            )
        else:
            persons = people_selectors.person_search(user=request.user, q=q, size=20).items
    except PermissionDenied:
        raise
    except DomainError as exc:
        return [], exc.message, exc.status
    return [{"person": p, "name_masked": people_rules.mask_name(p.name)} for p in persons], "", 200


@require_http_methods(["GET", "POST"])
@login_required
def case_person_search(request: AuthedRequest) -> HttpResponse:
    """The persons matching a search, as the fragment htmx swaps into the case form
    (name, initials, ID tail by GET; a full ID number, document number or phone only
    by POST). Without htmx the search form posts to case_create, which answers a page."""
    require(request.user, Capability.CASE_MANAGE)
    q = PersonSearchForm(request.POST if request.method == "POST" else request.GET).cleaned()["q"]
    results, error, status = _person_search(request, q)
    return render(
        request,
        "tracing/_case_person_results.html",
        {"q": q, "results": results, "selected": "", "error": error},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def case_create(request: AuthedRequest) -> HttpResponse:
    """The case form. A POST with step=search is the person search form sent without
    htmx: the page comes back whole with the results (the same audited lookup as
    case_person_search); any other POST reports the case."""
    require(request.user, Capability.CASE_MANAGE)
    today = timezone.localdate()
    search = PersonSearchForm(request.GET).cleaned()
    form = {
        "q": search["q"],
        "person": search["person"],
        "kind": CaseKind.ASYMPTOMATIC.value,
        "origin": CaseOrigin.LOCAL.value,
        "first_positive_sampled_on": today.isoformat(),
        "onset_date": "",
        "reporting_unit": "",
    }
    error: DomainError | None = None
    existing_case: int | None = None
    search_error = ""
    # From a contact's "转为病例": the form comes prefilled with that person (by id, in
    # the user's scope: no ID number to reveal and paste); the case is linked to the
    # contact's source cases when it is reported.
    contact_pk = ContactPickForm(request.GET).cleaned()["contact"]
    from_contact = (
        contact_selectors.contact_for_new_case(user=request.user, pk=contact_pk)
        if contact_pk is not None
        else None
    )
    status = 200
    posted = PersonSearchForm(request.POST).cleaned() if request.method == "POST" else None
    if posted is not None and posted["step"] == "search":
        form["q"] = posted["q"]
        form["person"] = ""
        results, search_error, status = _person_search(request, form["q"])
    elif posted is not None:
        create_form = CaseCreateForm(request.POST)
        form = {key: create_form.echo(limit=300).get(key, "") for key in form}
        try:
            data = create_form.cleaned()
            person = people_selectors.person_get(user=request.user, pk=data["person"])
            case = services.case_create(
                actor=request.user,
                person=person,
                kind=data["kind"],
                first_positive_sampled_on=data["first_positive_sampled_on"],
                onset_date=data["onset_date"],
                origin=data["origin"],
                reporting_unit=data["reporting_unit"],
                ip=client_address(request),
            )
        except PermissionDenied:
            raise
        except DomainError as exc:
            error = exc
            status = 400
            if exc.code == "case_exists":
                existing_case = exc.detail.get("case")
        else:
            messages.success(request, _("已报告病例 %(n)s") % {"n": case.number})
            return redirect("tracing:case_detail", pk=case.pk)
        results = _chosen_person(request, form["person"]) or _person_results(request, form["q"])
    elif from_contact is not None:
        form["person"] = str(from_contact.person_id)
        person = from_contact.person
        results = [{"person": person, "name_masked": people_rules.mask_name(person.name)}]
    else:
        results = _person_results(request, form["q"])
    return render(
        request,
        "tracing/case_create.html",
        {
            "form": form,
            "error": error,
            "search_error": search_error,
            "existing_case": existing_case,
            "results": results,
            "selected": form["person"],
            "kinds": CaseKind.choices,
            "origins": CaseOrigin.choices,
            "today": today.isoformat(),
            "from_contact": from_contact,
        },
        status=status,
    )


# --- case page --------------------------------------------------------------------------


def _sections(pk: int, *, contact_class: str = "") -> list[dict[str, Any]]:
    """The sections to load; `contact_class` (a valid contact class, else ignored) opens the
    contacts section filtered (the filter links' plain href: a new tab gets the page)."""
    found = []
    for name, title in CASE_SECTIONS:
        try:
            url = reverse(name, args=[pk])
        except NoReverseMatch:
            continue
        if name == "tracing:case_contacts" and contact_class in ContactClass.values:
            url += "?" + urlencode({"classification": contact_class})
        found.append({"key": name.split(":")[1], "title": str(title), "url": url})
    return found


def _itinerary_context(request: AuthedRequest, case: Case, **extra: Any) -> dict[str, Any]:
    window_start, window_end = itinerary_services.lookback_window(case)
    local_start = timezone.localtime(window_start)
    stops = selectors.case_stops(case)
    if has_capability(request.user, Capability.CONTACT_VIEW):
        # Each stop's companions, matched to persons or not (to resolve by hand).
        matches: dict[int, list[Any]] = {}
        for m in contact_selectors.companions_of_case(
            user=request.user, case=case, confirmed_only=False
        ):
            matches.setdefault(m.stop.pk, []).append(m)
        for stop in stops:
            stop.companion_matches = matches.get(stop.pk, [])  # type: ignore[attr-defined]
    unmatched = any(m.person_id is None for s in stops for m in getattr(s, "companion_matches", []))
    return {
        "case": case,
        "investigation": selectors.case_investigation(case),
        "stops": stops,
        "unmatched_companions": unmatched,
        "can_manage": has_capability(request.user, Capability.CASE_MANAGE),
        "editable": case.status in rules.ITINERARY_OPEN_STATUSES,
        "window_start": window_start,
        "window_end": window_end,
        "default_start": local_start.strftime("%Y-%m-%dT%H:%M"),
        "window_end_input": timezone.localtime(window_end).strftime("%Y-%m-%dT%H:%M"),
        "stop_form": extra.pop("stop_form", {}),
        **extra,
    }


@require_GET
@login_required
def case_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return _case_page(request, pk)


def _case_page(
    request: AuthedRequest, pk: int, *, typed: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    """The case page; `typed` is what a refused action form was sent with (it comes back
    filled in with it)."""
    case = selectors.case_get(user=request.user, pk=pk)
    now = timezone.now()
    closed = case.status == CaseStatus.CLOSED
    context = _itinerary_context(request, case)
    context.update(
        {
            "name_masked": people_rules.mask_name(case.person.name),
            "person_link": has_capability(request.user, Capability.PERSON_VIEW)
            and in_scope(request.user, case.person.jurisdiction_path),
            "core": None
            if closed
            else _deadline(case.core_facts_due_at, case.core_facts_done_at, now),
            "report": None if closed else _deadline(case.report_due_at, case.report_done_at, now),
            "timeline": selectors.case_timeline(case),
            "sections": _sections(case.pk, contact_class=request.GET.get("contacts", "")),
            "can_start": case.status == CaseStatus.REPORTED,
            "can_core_facts": case.status in rules.ITINERARY_OPEN_STATUSES,
            "can_complete": case.status == CaseStatus.INVESTIGATING,
            "can_close": case.status == CaseStatus.INVESTIGATED,
            "typed": typed,
        }
    )
    return render(request, "tracing/case_detail.html", context, status=status)


def _lifecycle(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    """One lifecycle button. Done: back to the case page with a message. Refused: the case
    page at once (400) with the message and the forms filled in with what was typed."""
    case = selectors.case_get(user=request.user, pk=pk)
    ip = client_address(request)
    try:
        post = CaseLifecycleForm(request.POST).cleaned()
        if action == "start":
            services.case_start_investigation(actor=request.user, case=case, ip=ip)
            messages.success(request, _("已开始流调"))
        elif action == "core_facts":
            services.case_record_core_facts(
                actor=request.user,
                case=case,
                symptoms=post["symptoms"],
                vaccination=post["vaccination"],
                interview_notes=post["interview_notes"],
                ip=ip,
            )
            messages.success(request, _("已记录核心信息"))
        elif action == "complete":
            services.case_complete_report(
                actor=request.user,
                case=case,
                interview_notes=post["interview_notes"],
                ip=ip,
            )
            messages.success(request, _("流调报告已完成"))
        else:
            services.case_close(actor=request.user, case=case, reason=post["reason"], ip=ip)
            messages.success(request, _("已结案"))
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
        typed = CaseLifecycleForm(request.POST).echo(limit=20000)
        return _case_page(request, pk, typed=typed, status=exc.status)
    return redirect("tracing:case_detail", pk=case.pk)


@require_POST
@login_required
def case_start_investigation(request: AuthedRequest, pk: int) -> HttpResponse:
    return _lifecycle(request, pk, "start")


@require_POST
@login_required
def case_core_facts(request: AuthedRequest, pk: int) -> HttpResponse:
    return _lifecycle(request, pk, "core_facts")


@require_POST
@login_required
def case_complete_report(request: AuthedRequest, pk: int) -> HttpResponse:
    return _lifecycle(request, pk, "complete")


@require_POST
@login_required
def case_close(request: AuthedRequest, pk: int) -> HttpResponse:
    return _lifecycle(request, pk, "close")


# --- itinerary (htmx fragments; plain forms redirect) -----------------------------------


def _itinerary_answer(
    request: AuthedRequest, case: Case, error: DomainError | None = None, **extra: Any
) -> HttpResponse:
    if not _is_htmx(request):
        if error is not None:
            messages.error(request, error.message)
        return redirect("tracing:case_detail", pk=case.pk)
    case = selectors.case_get(user=request.user, pk=case.pk)
    context = _itinerary_context(request, case, error=error, **extra)
    status = error.status if error is not None and 400 <= error.status < 500 else 200
    response = render(request, "tracing/_case_itinerary.html", context, status=status)
    response["HX-Trigger"] = "case-itinerary-changed"
    if extra.get("companions_found"):
        # confirmed companions became contacts: the contacts section reloads too
        response["HX-Trigger"] = "case-itinerary-changed, case-companions-found"
    return response


def _place_by_code(request: AuthedRequest, code: str) -> Place | None:
    code = code.strip()
    if not code:
        return None
    page = area_selectors.places(user=request.user, q=code[:100], size=20)
    place = next((p for p in page.items if p.venue_code == code), None)
    if place is None:
        raise DomainError("unknown_place", _("场所不存在"), field="venue_code")
    return place


@require_POST
@login_required
def case_propose_itinerary(request: AuthedRequest, pk: int) -> HttpResponse:
    case = selectors.case_get(user=request.user, pk=pk)
    try:
        created = itinerary_services.itinerary_propose_from_scans(
            actor=request.user, case=case, ip=client_address(request)
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        return _itinerary_answer(request, case, exc)
    notice = _("由扫码记录生成 %(n)d 个轨迹点") % {"n": len(created)}
    if not _is_htmx(request):
        messages.success(request, notice)
    return _itinerary_answer(request, case, notice=notice)


@require_POST
@login_required
def case_confirm_itinerary(request: AuthedRequest, pk: int) -> HttpResponse:
    case = selectors.case_get(user=request.user, pk=pk)
    try:
        itinerary_services.itinerary_confirm(
            actor=request.user, case=case, ip=client_address(request)
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        return _itinerary_answer(request, case, exc)
    companions = any(s.companions for s in selectors.case_stops(case))
    return _itinerary_answer(request, case, notice=_("活动轨迹已确认"), companions_found=companions)


@require_POST
@login_required
def case_stop_add(request: AuthedRequest, pk: int) -> HttpResponse:
    case = selectors.case_get(user=request.user, pk=pk)
    stop_form = StopForm(request.POST)
    form = stop_form.echo()
    try:
        data = stop_form.cleaned()
        itinerary_services.itinerary_stop_add(
            actor=request.user,
            case=case,
            place=_place_by_code(request, data["venue_code"]),
            address=data["address"],
            start=data["start"],
            end=data["end"],
            companions=data["companions"],
            note=data["note"],
            ip=client_address(request),
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        return _itinerary_answer(request, case, exc, stop_form=form)
    return _itinerary_answer(request, case, notice=_("已添加轨迹点"))


@require_POST
@login_required
def case_stop_delete(request: AuthedRequest, pk: int, stop_id: int) -> HttpResponse:
    case = selectors.case_get(user=request.user, pk=pk)
    stop = selectors.case_stop_get(case=case, pk=stop_id)
    try:
        itinerary_services.itinerary_stop_delete(
            actor=request.user, stop=stop, ip=client_address(request)
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        return _itinerary_answer(request, case, exc)
    return _itinerary_answer(request, case, notice=_("已删除轨迹点"))


@require_GET
@login_required
def case_timeline(request: AuthedRequest, pk: int) -> HttpResponse:
    """The timeline fragment (refreshed on the page after itinerary changes)."""
    case = selectors.case_get(user=request.user, pk=pk)
    return render(
        request,
        "tracing/_case_timeline.html",
        {"case": case, "timeline": selectors.case_timeline(case)},
    )


urlpatterns: list[URLPattern] = [
    path("cases/", case_list, name="case_list"),
    path("cases/new/", case_create, name="case_create"),
    path("cases/new/persons/", case_person_search, name="case_person_search"),
    path("cases/<int:pk>/", case_detail, name="case_detail"),
    path("cases/<int:pk>/timeline/", case_timeline, name="case_timeline"),
    path(
        "cases/<int:pk>/start-investigation/",
        case_start_investigation,
        name="case_start_investigation",
    ),
    path("cases/<int:pk>/core-facts/", case_core_facts, name="case_core_facts"),
    path("cases/<int:pk>/complete-report/", case_complete_report, name="case_complete_report"),
    path("cases/<int:pk>/close/", case_close, name="case_close"),
    path(
        "cases/<int:pk>/propose-itinerary/", case_propose_itinerary, name="case_propose_itinerary"
    ),
    path(
        "cases/<int:pk>/confirm-itinerary/", case_confirm_itinerary, name="case_confirm_itinerary"
    ),
    path("cases/<int:pk>/stops/", case_stop_add, name="case_stop_add"),
    path("cases/<int:pk>/stops/<int:stop_id>/delete/", case_stop_delete, name="case_stop_delete"),
]
