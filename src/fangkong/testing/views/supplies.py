"""Pages of mass testing: supplies (stock on hand per place and kind, low-stock alerts,
receive / issue / transfer / count, new stock)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.permissions import has_capability, require, scope_path
from fangkong.accounts.roles import Capability
from fangkong.accounts.types import AuthedRequest
from fangkong.areas import selectors as area_selectors
from fangkong.areas.choices import PlaceKind
from fangkong.core.errors import DomainError, NotFound, PermissionDenied
from fangkong.core.http import client_address
from fangkong.testing.forms import SupplyCreateForm, SupplyFilterForm, SupplyMoveForm
from fangkong.testing.models import SupplyKind
from fangkong.testing.selectors import supplies as selectors
from fangkong.testing.services import supplies as services

if TYPE_CHECKING:
    from fangkong.accounts.models import User

ACTIONS = ("receive", "issue", "transfer", "count")


def _stock_places(user: User) -> list[Any]:
    """Points and warehouses in the user's jurisdiction (choices of the forms)."""
    own = scope_path(user)
    out = []
    for kind in (PlaceKind.WAREHOUSE, PlaceKind.SAMPLING_POINT):
        out += [
            p
            for p in area_selectors.places(user=user, kind=kind, size=200).items
            if p.jurisdiction_path.startswith(own)
        ]
    return out


@require_GET
@login_required
def supply_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    filters = SupplyFilterForm(request.GET).lenient()
    low = bool(filters["low"])
    kind = filters["kind"] if filters["kind"] in SupplyKind.values else ""
    rows = list(selectors.stocks(user=user, kind=kind or None, low_only=low)[:500])
    manage = has_capability(user, Capability.SUPPLY_MANAGE)
    return render(
        request,
        "testing/supplies_list.html",
        {
            "rows": [{"stock": s, "low": s.on_hand < s.low_threshold} for s in rows],  # type: ignore[attr-defined]
            "low": low,
            "kind": kind,
            "kinds": SupplyKind.choices,
            "low_count": selectors.low_stock_count(user=user),
            "can_manage": manage,
            "places": _stock_places(user) if manage else [],
            "actions": ACTIONS,
        },
    )


@require_GET
@login_required
def supply_alert_badge(request: AuthedRequest) -> HttpResponse:
    """The low-stock badge (a fragment other pages may load by htmx)."""
    count = selectors.low_stock_count(user=request.user)
    return render(request, "testing/_supplies_badge.html", {"low_count": count})


@require_POST
@login_required
def supply_create(request: AuthedRequest) -> HttpResponse:
    user = request.user
    require(user, Capability.SUPPLY_MANAGE)
    try:
        data = SupplyCreateForm(request.POST).cleaned()
        place = area_selectors.places_resolve(user=user, pks=[data["place"]])[0]
        services.supply_stock_create(
            actor=user,
            place=place,
            kind=data["kind"],
            quantity=data["quantity"],
            low_threshold=data["low_threshold"],
            ip=client_address(request),
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已建立库存"))
    return redirect("testing:supply_list")


@require_http_methods(["POST"])
@login_required
def supply_move(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    """Receive, issue, transfer or count one stock; the outcome is flashed on the list."""
    user = request.user
    stock = selectors.stock_get(user=user, pk=pk)
    if action not in ACTIONS:
        raise NotFound("not_found", _("未知操作"), object="action")
    ip = client_address(request)
    try:
        data = SupplyMoveForm(request.POST, transfer=action == "transfer").cleaned()
        quantity, reason = data["quantity"], data["reason"][:300]
        if action == "receive":
            services.supply_receive(
                actor=user, stock=stock, quantity=quantity, reason=reason, ip=ip
            )
        elif action == "issue":
            services.supply_issue(actor=user, stock=stock, quantity=quantity, reason=reason, ip=ip)
        elif action == "transfer":
            to_place = area_selectors.places_resolve(user=user, pks=[data["to_place"]])[0]
            services.supply_transfer(
                actor=user, stock=stock, to_place=to_place, quantity=quantity, reason=reason, ip=ip
            )
        else:
            services.supply_count(actor=user, stock=stock, quantity=quantity, ip=ip)
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已保存"))
    return redirect("testing:supply_list")


urlpatterns: list[URLPattern] = [
    path("supplies/", supply_list, name="supply_list"),
    path("supplies/badge/", supply_alert_badge, name="supply_alert_badge"),
    path("supplies/new/", supply_create, name="supply_create"),
    path("supplies/<int:pk>/<str:action>/", supply_move, name="supply_move"),
]
