"""Pages of quarantine sites: the list (occupancy, free rooms, capacity reserve, 7-day
forecast) and the site board (rooms by building and floor, coloured by state, with the
occupants' initials)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from fangkong.accounts.permissions import require
from fangkong.accounts.roles import Capability
from fangkong.accounts.types import AuthedRequest
from fangkong.core.pagination import sequence_total
from fangkong.quarantine.choices import RoomState
from fangkong.quarantine.selectors import sites as selectors


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
            "reserve_short": any(r.short for r in reserve),
            "forecast": forecast,
            "peak": max((d.needed for d in forecast.days), default=0),
        },
    )


@require_GET
@login_required
def site_board(request: AuthedRequest, pk: int) -> HttpResponse:
    site, floors = selectors.site_board(user=request.user, pk=pk)
    counts = dict.fromkeys(RoomState.values, 0)
    for floor in floors:
        for r in floor.rooms:
            counts[r.room.state] += 1
    legend = [(value, label, counts[value]) for value, label in RoomState.choices]
    return render(
        request,
        "quarantine/site_board.html",
        {"site": site, "floors": floors, "legend": legend},
    )


urlpatterns: list[URLPattern] = [
    path("sites/", site_list, name="site_list"),
    path("sites/<int:pk>/", site_board, name="site_board"),
]
