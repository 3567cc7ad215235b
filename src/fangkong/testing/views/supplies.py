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
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.permissions import has_capability, require, scope_path
from fangkong.accounts.roles import Capability
from fangkong.accounts.types import AuthedRequest
from fangkong.areas import selectors as area_selectors
from fangkong.areas.choices import Level, PlaceKind
from fangkong.core.errors import DomainError, NotFound, PermissionDenied
from fangkong.core.http import client_address
from fangkong.testing.forms import (
    SupplyCreateForm,
    SupplyFilterForm,
    SupplyMoveForm,
    SupplyPickForm,
)
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


ACTION_LABELS = {
    "receive": _lazy("入库"),
    "issue": _lazy("出库"),
    "transfer": _lazy("调拨"),
    "count": _lazy("盘点"),
}


def _totals(rows: list[Any]) -> list[dict[str, Any]]:
    """Per kind, over the rows shown: counted, moved, consumed, on hand, low rows."""
    by_kind: dict[str, dict[str, Any]] = {}
    for stock in rows:
        t = by_kind.setdefault(
            stock.kind,
            {"label": stock.get_kind_display(), "places": 0, "consumed": 0, "on_hand": 0, "low": 0},
        )
        t["places"] += 1
        t["consumed"] += stock.consumed
        t["on_hand"] += stock.on_hand
        t["low"] += int(stock.on_hand < stock.low_threshold)
    order = {kind: n for n, kind in enumerate(SupplyKind.values)}
    return [by_kind[k] for k in sorted(by_kind, key=lambda k: order.get(k, 99))]


@require_GET
@login_required
def supply_list(request: AuthedRequest) -> HttpResponse:
    """One compact table of the stocks (filters: town, kind, low only), totals per kind,
    and ONE movement form below it (a row's 出入库 link preselects its stock). A sampler
    sees what her point draws from: its own stock, else its town's warehouse, labelled."""
    user = request.user
    filters = SupplyFilterForm(request.GET).lenient()
    low = bool(filters["low"])
    kind = filters["kind"] if filters["kind"] in SupplyKind.values else ""
    point_place = selectors.point_place(user)
    towns = (
        []
        if point_place is not None
        else area_selectors.jurisdictions_in_scope(user=user, levels=[Level.TOWN], limit=100)
    )
    town = filters["town"] if filters["town"] in {t.path for t in towns} else ""
    rows = list(
        selectors.stocks(user=user, town_path=town or None, kind=kind or None, low_only=low)[:500]
    )
    manage = has_capability(user, Capability.SUPPLY_MANAGE)
    chosen = filters["stock"] if filters["stock"] in {s.pk for s in rows} else None
    kinds_present = [k for k in SupplyKind.values if any(st.kind == k for st in rows)]
    return render(
        request,
        "testing/supplies_list.html",
        {
            "rows": [
                {"stock": st, "low": st.on_hand < st.low_threshold}  # type: ignore[attr-defined]
                for st in rows
            ],
            "places_rows": _by_place(rows, kinds_present, point_place),
            "kind_columns": [SupplyKind(k).label for k in kinds_present],
            "totals": _totals(rows),
            "low": low,
            "kind": kind,
            "kinds": SupplyKind.choices,
            "towns": towns,
            "town": town,
            "point_place": point_place,
            "low_count": selectors.low_stock_count(user=user),
            "can_manage": manage,
            "places": _stock_places(user) if manage else [],
            "actions": list(ACTION_LABELS.items()),
            "chosen": chosen,
        },
    )


def _by_place(rows: list[Any], kinds: list[str], point_place: Any) -> list[dict[str, Any]]:
    """One line per place (in the stocks' order) with one cell per kind column: the
    stock (on hand, consumed, low) or None where the place holds none of that kind."""
    places: dict[int, dict[str, Any]] = {}
    for st in rows:
        line = places.setdefault(
            st.place_id,
            {
                "place": st.place,
                "supplier": point_place is not None and st.place_id != point_place.pk,
                "stocks": {},
            },
        )
        line["stocks"][st.kind] = {"stock": st, "low": st.on_hand < st.low_threshold}
    for line in places.values():
        line["cells"] = [line["stocks"].get(k) for k in kinds]
    return list(places.values())


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


@require_POST
@login_required
def supply_move_form(request: AuthedRequest) -> HttpResponse:
    """The list's one movement form: the stock and the action come in the POST."""
    data = SupplyPickForm(request.POST).lenient()
    if not data["stock"] or data["action"] not in ACTIONS:
        messages.error(request, _("请选择库存和操作"))
        return redirect("testing:supply_list")
    return supply_move(request, data["stock"], data["action"])


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
    path("supplies/move/", supply_move_form, name="supply_move_form"),
    path("supplies/<int:pk>/<str:action>/", supply_move, name="supply_move"),
]
