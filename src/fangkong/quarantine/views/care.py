"""Pages of the care of placed persons: the site staff's day (arrivals, checks, tests,
releases, alerts) with its actions, the alert list, the community's home list with its
check-in, and the release certificate (printable).

Thin views: selectors read (scoped), services write. A refused action comes back as a
message on the same page; a scope refusal is a 404 page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fangkong.accounts.types import AuthedRequest
from fangkong.core.errors import DomainError
from fangkong.core.http import client_address
from fangkong.core.pages import refusal_message
from fangkong.core.pagination import ListTotal, sequence_page
from fangkong.quarantine.choices import AlertState, CheckSlot, Symptom
from fangkong.quarantine.forms_care import (
    AlertHandleForm,
    DispatchForm,
    HealthCheckForm,
    HomeCheckInForm,
    HospitalDepartForm,
    ListFilterForm,
    SampleForm,
)
from fangkong.quarantine.selectors import care as selectors
from fangkong.quarantine.services import care as services

# The day page's sections: each shows its count and first rows, and links to its whole
# list, a keyset page (`sequence_page` over the day computed in Python, by primary key).
SECTIONS: dict[str, tuple[str, Callable[[Any], tuple[int, ...]]]] = {
    "arrivals": ("arrivals", lambda row: (row[0].pk,)),
    # Every person staying, those due or missed this slot first (the done ones after,
    # so the staff see what was recorded).
    "checks": ("checks", lambda row: (0 if row.due_now or row.missing else 1, row.placement.pk)),
    # Tests due today and those overdue (not sampled yet), the most overdue first.
    "tests": ("tests", lambda row: (-row[2], row[0].pk)),
    "releases": ("releases", lambda row: (row.placement.pk,)),
    "hospital": ("hospital", lambda row: (row[0].pk,)),
}
SECTION_PAGE = 50


def _day_context(request: AuthedRequest, day: selectors.SiteDay) -> dict[str, Any]:
    from fangkong.testing.selectors.labs import labs_available

    return {
        "day": day,
        "slot_choices": CheckSlot.choices,
        "symptom_choices": Symptom.choices,
        "labs": labs_available(user=request.user),
    }


def _sorted(day: selectors.SiteDay, section: str) -> list[Any]:
    attr, key = SECTIONS[section]
    return sorted(getattr(day, attr), key=key)


@require_GET
@login_required
def site_day(request: AuthedRequest) -> HttpResponse:
    """The site staff's day at their own site: each section's count and first rows."""
    if selectors.own_site_or_none(user=request.user) is None:
        # A site account whose place is not (yet) a site: the page says so.
        return render(request, "quarantine/care_site_day.html", {"day": None})
    day = selectors.site_day(user=request.user)
    context = _day_context(request, day)
    rows: dict[str, list[Any]] = {}
    totals: dict[str, ListTotal] = {}
    for section in SECTIONS:
        full = _sorted(day, section)
        rows[section] = full[: selectors.SECTION_ROWS]
        totals[section] = ListTotal(count=len(full))
    more = {s: totals[s].count > len(rows[s]) for s in SECTIONS}
    context.update(rows=rows, totals=totals, more=more, only="")
    return render(request, "quarantine/care_site_day.html", context)


@require_GET
@login_required
def site_day_section(request: AuthedRequest, section: str) -> HttpResponse:
    """One section of the site staff's day, whole, a page at a time."""
    if section not in SECTIONS:
        raise Http404
    day = selectors.site_day(user=request.user)
    filters = ListFilterForm(request.GET).lenient()
    full = _sorted(day, section)
    page = sequence_page(
        full, key=SECTIONS[section][1], cursor=filters["cursor"], size=SECTION_PAGE
    )
    context = _day_context(request, day)
    context.update(
        rows={section: page.items},
        totals={section: ListTotal(count=len(full))},
        more={},
        only=section,
        page=page,
    )
    return render(request, "quarantine/care_site_day.html", context)


def _back(request: AuthedRequest, default: str = "quarantine:site_day") -> HttpResponse:
    section = request.POST.get("section", "")
    if section in SECTIONS:
        return redirect("quarantine:site_day_section", section=section)
    return redirect(default)


@require_POST
@login_required
def check_in(request: AuthedRequest, pk: int) -> HttpResponse:
    placement = selectors.placement_for_care(user=request.user, pk=pk)
    try:
        services.placement_check_in(
            actor=request.user, placement=placement, ip=client_address(request)
        )
        messages.success(request, _("已入住登记"))
    except DomainError as exc:
        refusal_message(request, exc)
    return _back(request)


@require_POST
@login_required
def health_check(request: AuthedRequest, pk: int) -> HttpResponse:
    placement = selectors.placement_for_care(user=request.user, pk=pk)
    try:
        data = HealthCheckForm(request.POST).cleaned()
        check = services.health_check_record(
            actor=request.user,
            placement=placement,
            slot=data["slot"],
            temperature=data["temperature"],
            symptoms=data["symptoms"],
            note=data["note"],
            ip=client_address(request),
        )
        if check.temperature >= services.FEVER_FROM or check.symptoms:
            messages.warning(request, _("已记录健康监测，已发出健康预警"))
        else:
            messages.success(request, _("已记录健康监测"))
    except DomainError as exc:
        refusal_message(request, exc)
    return _back(request)


@require_POST
@login_required
def test_sample(request: AuthedRequest, pk: int) -> HttpResponse:
    test = selectors.test_for_care(user=request.user, pk=pk)
    try:
        data = SampleForm(request.POST).cleaned()
        services.placement_test_sample(
            actor=request.user, test=test, barcode=data["barcode"], ip=client_address(request)
        )
        messages.success(request, _("已登记采样"))
    except DomainError as exc:
        refusal_message(request, exc)
    return _back(request)


@require_POST
@login_required
def tubes_dispatch(request: AuthedRequest) -> HttpResponse:
    from fangkong.testing.selectors.labs import lab_get

    try:
        data = DispatchForm(request.POST).cleaned()
        lab = lab_get(user=request.user, pk=data["lab"])
        box = services.site_tubes_dispatch(
            actor=request.user,
            lab=lab,
            box_barcode=data["box_barcode"],
            ip=client_address(request),
        )
        messages.success(request, _("已装箱送检：%(box)s") % {"box": box.barcode})
    except DomainError as exc:
        refusal_message(request, exc)
    return _back(request)


@require_POST
@login_required
def release(request: AuthedRequest, pk: int) -> HttpResponse:
    placement = selectors.placement_for_care(user=request.user, pk=pk)
    try:
        done = services.placement_release(
            actor=request.user, placement=placement, ip=client_address(request)
        )
        messages.success(request, _("已解除隔离，证明编号 %(n)s") % {"n": done.certificate_number})
        return redirect("quarantine:certificate", pk=done.pk)
    except DomainError as exc:
        refusal_message(request, exc)
    if request.POST.get("back") == "detail":
        return redirect("quarantine:placement_detail", pk=placement.pk)
    return _back(request)


@require_POST
@login_required
def hospital_depart(request: AuthedRequest, pk: int) -> HttpResponse:
    transfer = selectors.transfer_for_care(user=request.user, pk=pk)
    try:
        data = HospitalDepartForm(request.POST).cleaned()
        services.transfer_hospital_depart(
            actor=request.user,
            transfer=transfer,
            vehicle=data["vehicle"] or "",
            ip=client_address(request),
        )
        messages.success(request, _("已登记出发"))
    except DomainError as exc:
        refusal_message(request, exc)
    return _back(request)


@require_POST
@login_required
def hospital_arrive(request: AuthedRequest, pk: int) -> HttpResponse:
    transfer = selectors.transfer_for_care(user=request.user, pk=pk)
    try:
        services.transfer_hospital_arrive(
            actor=request.user, transfer=transfer, ip=client_address(request)
        )
        messages.success(request, _("已送达医院"))
    except DomainError as exc:
        refusal_message(request, exc)
    return _back(request)


@require_GET
@login_required
def alert_list(request: AuthedRequest) -> HttpResponse:
    filters = ListFilterForm(request.GET).lenient()
    state = filters["state"] if filters["state"] in AlertState.values else ""
    page = selectors.alerts(user=request.user, state=state or None, cursor=filters["cursor"])
    rows = [(a, selectors.person_label(a.placement.person)) for a in page.items]
    context = {"page": page, "rows": rows, "state": state, "states": AlertState.choices}
    return render(request, "quarantine/care_alert_list.html", context)


@require_POST
@login_required
def alert_handle(request: AuthedRequest, pk: int) -> HttpResponse:
    alert = selectors.alert_get(user=request.user, pk=pk)
    try:
        data = AlertHandleForm(request.POST).cleaned()
        services.alert_handle(
            actor=request.user, alert=alert, outcome=data["outcome"], ip=client_address(request)
        )
        messages.success(request, _("已处置健康预警"))
    except DomainError as exc:
        refusal_message(request, exc)
    return redirect("quarantine:alert_list")


@require_GET
@login_required
def home_list(request: AuthedRequest) -> HttpResponse:
    filters = ListFilterForm(request.GET).lenient()
    missed = filters["missed"] == "1"
    page, rows = selectors.home_list(
        user=request.user, cursor=filters["cursor"], missed_only=missed
    )
    context = {"page": page, "rows": rows, "missed": missed, "symptom_choices": Symptom.choices}
    return render(request, "quarantine/care_home_list.html", context)


@require_POST
@login_required
def home_checkin(request: AuthedRequest, pk: int) -> HttpResponse:
    placement = selectors.home_placement_get(user=request.user, pk=pk)
    try:
        data = HomeCheckInForm(request.POST).cleaned()
        services.home_checkin_record(
            actor=request.user,
            placement=placement,
            temperature=data["temperature"],
            symptoms=data["symptoms"],
            note=data["note"],
            ip=client_address(request),
        )
        messages.success(request, _("已打卡"))
    except DomainError as exc:
        refusal_message(request, exc)
    return redirect("quarantine:home_list")


@require_GET
@login_required
def certificate(request: AuthedRequest, pk: int) -> HttpResponse:
    cert = selectors.certificate(user=request.user, pk=pk)
    name = services.certificate_name(
        actor=request.user, placement=cert.placement, ip=client_address(request)
    )
    if name:
        cert.name = name
    return render(request, "quarantine/care_certificate.html", {"cert": cert})


urlpatterns: list[URLPattern] = [
    path("site/day/", site_day, name="site_day"),
    path("site/day/<slug:section>/", site_day_section, name="site_day_section"),
    path("site/placements/<int:pk>/check-in/", check_in, name="check_in"),
    path("site/placements/<int:pk>/health-check/", health_check, name="health_check"),
    path("site/placements/<int:pk>/release/", release, name="release"),
    path("site/tests/<int:pk>/sample/", test_sample, name="test_sample"),
    path("site/tubes/dispatch/", tubes_dispatch, name="tubes_dispatch"),
    path("site/transfers/<int:pk>/hospital-depart/", hospital_depart, name="hospital_depart"),
    path("site/transfers/<int:pk>/hospital-arrive/", hospital_arrive, name="hospital_arrive"),
    path("alerts/", alert_list, name="alert_list"),
    path("alerts/<int:pk>/handle/", alert_handle, name="alert_handle"),
    path("home/", home_list, name="home_list"),
    path("home/<int:pk>/check-in/", home_checkin, name="home_checkin"),
    path("placements/<int:pk>/certificate/", certificate, name="certificate"),
]
