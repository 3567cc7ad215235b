"""Pages of quarantine sites: the list (occupancy, free rooms, capacity reserve, 7-day
forecast) and the site board (rooms by building and floor, coloured by state, with the
occupants' initials)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fangkong.accounts.permissions import has_capability, require
from fangkong.accounts.roles import Capability
from fangkong.accounts.types import AuthedRequest
from fangkong.areas import selectors as area_selectors
from fangkong.core.errors import NotFound
from fangkong.core.pagination import sequence_total
from fangkong.quarantine.choices import RoomKind, RoomState
from fangkong.quarantine.forms import RoomsCreateForm, RoomStateForm, SiteCreateForm
from fangkong.quarantine.selectors import sites as selectors
from fangkong.quarantine.selectors.scope import site_get
from fangkong.quarantine.services import sites as services


@require_GET
@login_required
def site_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    require(user, Capability.SITE_VIEW)
    rows = selectors.site_rows(user=user)
    reserve = selectors.capacity_reserve(user=user)
    forecast = selectors.forecast(user=user)
    return render(
        request,
        "quarantine/site_list.html",
        {
            "rows": rows,
            "total": sequence_total(rows),
            "reserve": reserve,
            "forecast": forecast,
            "peak": max((d.needed for d in forecast.days), default=0),
            "new_places": selectors.places_without_site(user=user),
        },
    )


@require_GET
@login_required
def site_board(request: AuthedRequest, pk: int) -> HttpResponse:
    site, floors = selectors.site_board(user=request.user, pk=pk)
    counts = dict.fromkeys([*RoomState.values, selectors.RESERVED], 0)
    for floor in floors:
        for r in floor.rooms:
            counts[r.state] += 1
    states: list[tuple[str, str]] = [(v, str(label)) for v, label in RoomState.choices]
    states.insert(2, (selectors.RESERVED, _("已预留（待入住）")))
    legend = [(value, label, counts[value]) for value, label in states]
    user = request.user
    can_state = selectors.can_set_room_state(user, site)
    return render(
        request,
        "quarantine/site_board.html",
        {
            "site": site,
            "floors": floors,
            "legend": legend,
            "can_manage": has_capability(user, Capability.SITE_MANAGE),
            "can_state": can_state,
            # An occupied room keeps its state until it is vacated: not offered.
            "rooms": [r.room for f in floors for r in f.rooms if r.room.state != RoomState.OCCUPIED]
            if can_state
            else [],
            "manual_states": [(v, label) for v, label in RoomState.choices if v != "occupied"],
            "room_kinds": RoomKind.choices,
        },
    )


@require_POST
@login_required
def site_create(request: AuthedRequest) -> HttpResponse:
    user = request.user
    require(user, Capability.SITE_MANAGE)
    data = SiteCreateForm(request.POST).cleaned()
    place = area_selectors.place_get(user=user, pk=data["place"])
    site = services.site_create(actor=user, place=place, doctor_name=data["doctor_name"] or "")
    messages.success(request, _("已新建隔离点"))
    return redirect("quarantine:site_board", pk=site.pk)


@require_POST
@login_required
def rooms_create(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    require(user, Capability.SITE_MANAGE)
    site = site_get(user=user, pk=pk)
    data = RoomsCreateForm(request.POST).cleaned()
    made = services.rooms_create(
        actor=user,
        site=site,
        building=data["building"],
        floors=data["floors"],
        rooms_per_floor=data["rooms_per_floor"],
        kind=data["kind"],
        beds=data["beds"] or 1,
        accessible_per_floor=data["accessible_per_floor"] or 0,
    )
    messages.success(request, _("已新建 %(n)d 间房") % {"n": made})
    return redirect("quarantine:site_board", pk=site.pk)


@require_POST
@login_required
def room_state(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    site = site_get(user=user, pk=pk)
    data = RoomStateForm(request.POST).cleaned()
    room = selectors.room_of_site(user=user, site_id=site.pk, pk=data["room"])
    if room is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="room")
    services.room_state_set(actor=user, room=room, state=data["state"])
    messages.success(request, _("已变更房间状态"))
    return redirect("quarantine:site_board", pk=site.pk)


urlpatterns: list[URLPattern] = [
    path("sites/", site_list, name="site_list"),
    path("sites/create/", site_create, name="site_create"),
    path("sites/<int:pk>/", site_board, name="site_board"),
    path("sites/<int:pk>/rooms/", rooms_create, name="rooms_create"),
    path("sites/<int:pk>/room-state/", room_state, name="room_state"),
]
