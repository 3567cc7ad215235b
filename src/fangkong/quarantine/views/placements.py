"""Pages of placements: the list (filters: status, measure, site), a placement's page
(person masked, dates with the rule set named, scheduled tests, transfers, room and a
manual room assignment), the bulk page (a case's close contacts placed in one action)
and the transfers of a town."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.permissions import has_capability, require
from fangkong.accounts.roles import Capability
from fangkong.accounts.types import AuthedRequest
from fangkong.core.errors import DomainError
from fangkong.quarantine.choices import Measure, PlacementStatus, TransferStatus
from fangkong.quarantine.forms import (
    BulkChooseForm,
    BulkPlaceForm,
    PlacementFilterForm,
    RoomAssignForm,
    TransferCreateForm,
    TransferFilterForm,
)
from fangkong.quarantine.selectors import placements as selectors
from fangkong.quarantine.selectors import sites as site_selectors
from fangkong.quarantine.services import placements as services

OPEN_TRANSFER = (TransferStatus.WAITING, TransferStatus.EN_ROUTE)
STATUS_FILTERS = [("open", _("进行中")), *PlacementStatus.choices]


@require_GET
@login_required
def placement_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    f = PlacementFilterForm(request.GET).lenient()
    status = f["status"] if f["status"] in {v for v, _l in STATUS_FILTERS} else ""
    measure = f["measure"] if f["measure"] in Measure.values else ""
    sites = site_selectors.site_rows(user=user)
    site_id = f["site"] if f["site"] in {r.site.pk for r in sites} else None
    page = selectors.placements_page(
        user=user,
        status=status or None,
        measure=measure or None,
        site_id=site_id,
        cursor=f["cursor"] or None,
        size=50,
        with_total=True,
    )
    query = "&".join(
        f"{k}={v}" for k, v in (("status", status), ("measure", measure), ("site", site_id)) if v
    )
    return render(
        request,
        "quarantine/placement_list.html",
        {
            "page": page,
            "total": page.total,
            "status": status,
            "measure": measure,
            "site_id": site_id,
            "statuses": [(v, str(label)) for v, label in STATUS_FILTERS],
            "measures": Measure.choices,
            "sites": [r.site for r in sites],
            "query": query,
        },
    )


def _detail_context(request: AuthedRequest, pk: int, **extra: Any) -> dict[str, Any]:
    user = request.user
    placement = selectors.placement_get(user=user, pk=pk)
    manage = has_capability(user, Capability.PLACEMENT_MANAGE)
    open_ = placement.status in (
        PlacementStatus.PLANNED,
        PlacementStatus.IN_TRANSIT,
        PlacementStatus.ACTIVE,
    )
    free_rooms = []
    if manage and open_ and placement.site and placement.measure == Measure.CENTRALISED:
        free_rooms = site_selectors.free_rooms_of_site(user=user, site=placement.site, limit=100)
    transfers = list(placement.transfers.all())
    can_transfer = (
        manage
        and placement.status == PlacementStatus.PLANNED
        and placement.measure == Measure.CENTRALISED
        and placement.room_id is not None
        and not any(
            t.status in (TransferStatus.WAITING, TransferStatus.EN_ROUTE) for t in transfers
        )
    )
    # The staff of the placement's own site release from here (the refusal's reason
    # comes back as a message if it is too early).
    place_id = getattr(user, "place_id", None)
    own_site = bool(
        place_id
        and placement.site is not None
        and placement.site.place_id == place_id
        and has_capability(user, Capability.PLACEMENT_CARE)
    )
    return {
        "p": placement,
        "can_release": own_site and placement.status == PlacementStatus.ACTIVE,
        "has_certificate": placement.status == PlacementStatus.RELEASED
        and bool(placement.certificate_number),
        "tests": list(placement.tests.all()),
        "transfers": transfers,
        "can_manage": manage and open_,
        "free_rooms": free_rooms,
        "can_transfer": can_transfer,
        **extra,
    }


@require_GET
@login_required
def placement_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return render(request, "quarantine/placement_detail.html", _detail_context(request, pk))


@require_POST
@login_required
def placement_assign(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    placement = selectors.placement_for_manage(user=user, pk=pk)
    room_id = RoomAssignForm(request.POST).cleaned()["room"]
    room = site_selectors.room_of_site(user=user, site_id=placement.site_id, pk=room_id)
    if room is None:
        ctx = _detail_context(request, pk, error=_("所选房间不可用，请重新选择"))
        return render(request, "quarantine/placement_detail.html", ctx, status=409)
    try:
        services.placement_room_assign(actor=user, placement=placement, room=room)
    except DomainError as exc:
        ctx = _detail_context(request, pk, error=exc.message)
        return render(request, "quarantine/placement_detail.html", ctx, status=exc.status)
    messages.success(request, _("已分配房间"))
    return redirect("quarantine:placement_detail", pk=pk)


@require_http_methods(["GET", "POST"])
@login_required
def placement_bulk(request: AuthedRequest) -> HttpResponse:
    """Choose a case, see its unplaced close and secondary contacts (in the user's
    scope), place them all with one button; the result is shown on the same page."""
    user = request.user
    require(user, Capability.PLACEMENT_MANAGE)
    site_rows = site_selectors.site_rows(user=user, active_only=True)
    site_names = {r.site.pk: r.site.name for r in site_rows}
    result = None
    error = ""
    placed: list[dict[str, Any]] = []
    if request.method == "POST":
        data = BulkPlaceForm(request.POST).cleaned()
        number = data["case"].strip()
        site_ids = [s for s in data["sites"] if s in site_names] or sorted(site_names)
        to_place = services.contacts_to_place(actor=user, case_number=number)
        persons = {c.person_id: c.person for c in to_place}
        try:
            result = services.placements_create_for_contacts(
                actor=user, contacts=to_place, site_ids=site_ids
            )
        except DomainError as exc:
            error = exc.message
        if result is not None:
            placed = [
                {
                    "placement": p,
                    "who": selectors.masked(persons[p.person_id]),
                    "site": site_names.get(p.site_id or 0, ""),
                    "room": p.room,
                }
                for p in result.placements[:1000]
            ]
    else:
        number = (BulkChooseForm(request.GET).lenient()["case"] or "").strip()
    contacts = services.contacts_to_place(actor=user, case_number=number) if number else []
    if result is not None:
        site_rows = site_selectors.site_rows(user=user, active_only=True)
    for c in contacts:
        c.who = selectors.masked(c.person)  # type: ignore[attr-defined]
    return render(
        request,
        "quarantine/placement_bulk.html",
        {
            "cases": services.cases_with_unplaced_contacts(actor=user),
            "case": number,
            "contacts": contacts[:1000],
            "moving": services.persons_to_move(
                actor=user, person_ids=[c.person_id for c in contacts[:1000]]
            ),
            "sites": site_rows,
            "free_total": sum(r.ready for r in site_rows),
            "result": result,
            "placed": placed,
            "error": error,
        },
        status=409 if error else 200,
    )


@require_GET
@login_required
def transfer_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    require(user, Capability.PLACEMENT_MANAGE)
    f = TransferFilterForm(request.GET).lenient()
    status = f["status"] if f["status"] in TransferStatus.values else ""
    page = selectors.transfers_page(
        user=user, status=status or None, cursor=f["cursor"] or None, size=50, with_total=True
    )
    return render(
        request,
        "quarantine/transfer_list.html",
        {
            "page": page,
            "total": page.total,
            "status": status,
            "statuses": TransferStatus.choices,
            "query": f"status={status}" if status else "",
        },
    )


@require_POST
@login_required
def transfer_create(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    placement = selectors.placement_for_manage(user=user, pk=pk)
    values = TransferCreateForm(request.POST).cleaned_values()
    services.transfer_create(actor=user, placement=placement, **values)
    messages.success(request, _("已安排转运"))
    return redirect("quarantine:placement_detail", pk=pk)


@require_POST
@login_required
def transfer_step(request: AuthedRequest, pk: int, step: str) -> HttpResponse:
    user = request.user
    transfer = selectors.transfer_for_manage(user=user, pk=pk)
    if step == "depart":
        services.transfer_depart(actor=user, transfer=transfer)
        messages.success(request, _("已出发"))
    else:
        services.transfer_arrive(actor=user, transfer=transfer)
        messages.success(request, _("已到达隔离点"))
    nxt = request.POST.get("next", "")
    if nxt == "placement":
        return redirect("quarantine:placement_detail", pk=transfer.placement_id)
    return redirect("quarantine:transfer_list")


urlpatterns: list[URLPattern] = [
    path("placements/", placement_list, name="placement_list"),
    path("bulk/", placement_bulk, name="placement_bulk"),
    path("placements/<int:pk>/", placement_detail, name="placement_detail"),
    path("placements/<int:pk>/assign/", placement_assign, name="placement_assign"),
    path("placements/<int:pk>/transfer/", transfer_create, name="transfer_create"),
    path("transfers/", transfer_list, name="transfer_list"),
    path(
        "transfers/<int:pk>/depart/",
        transfer_step,
        {"step": "depart"},
        name="transfer_depart",
    ),
    path(
        "transfers/<int:pk>/arrive/",
        transfer_step,
        {"step": "arrive"},
        name="transfer_arrive",
    ),
]
