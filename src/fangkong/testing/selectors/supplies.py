"""Reads of supplies (兵马粮草): stock on hand per place and kind, low-stock alerts, and
stock per town for the planner.

On hand = last count + movements since the count − consumption since the count, all in
one query (correlated subqueries). Consumption is DERIVED from registrations at a
sampling point, never written per sample:

- tubes: tubes opened at the point since the count, by pool size (1 → tube_1,
  2..10 → tube_10, 11..50 → tube_20; rules.rounds.supply_kind_for_pool_size);
- swabs: samples registered in the point's tubes since the count;
- protective equipment: only counted and moved (a sampler's shifts are not registered,
  so consumption per sampler-shift would be a guess; the planner estimates the demand).

A warehouse consumes nothing by itself; its stock moves by issues and transfers.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require, scope_q
from fangkong.accounts.roles import Capability
from fangkong.core.errors import NotFound
from fangkong.core.paths import town_of, under
from fangkong.testing.models import Sample, SupplyKind, SupplyMovement, SupplyStock, Tube

if TYPE_CHECKING:
    from fangkong.accounts.models import User

TUBE_KIND_SIZES = {
    SupplyKind.TUBE_1: (1, 1),
    SupplyKind.TUBE_10: (2, 10),
    SupplyKind.TUBE_20: (11, 50),
}


def _int_subquery(qs: QuerySet[Any]) -> Coalesce:
    return Coalesce(Subquery(qs, output_field=IntegerField()), Value(0))


def _tubes_opened(lo: int, hi: int) -> Coalesce:
    return _int_subquery(
        Tube.objects.filter(
            point__place_id=OuterRef("place_id"),
            opened_at__gt=OuterRef("counted_at"),
            pool_size__gte=lo,
            pool_size__lte=hi,
        )
        .order_by()
        .values("point_id")
        .annotate(n=Count("pk"))
        .values("n")
    )


def with_on_hand(qs: QuerySet[SupplyStock]) -> QuerySet[SupplyStock]:
    """Annotate `moved`, `consumed` and `on_hand` (see the module's docstring)."""
    moved = _int_subquery(
        SupplyMovement.objects.filter(stock_id=OuterRef("pk"), at__gt=OuterRef("counted_at"))
        .order_by()
        .values("stock_id")
        .annotate(s=Sum("delta"))
        .values("s")
    )
    swabs = _int_subquery(
        Sample.objects.filter(
            tube__point__place_id=OuterRef("place_id"), sampled_at__gt=OuterRef("counted_at")
        )
        .order_by()
        .values("tube__point_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    consumed = Case(
        When(kind=SupplyKind.SWAB, then=swabs),
        *(
            When(kind=kind, then=_tubes_opened(lo, hi))
            for kind, (lo, hi) in TUBE_KIND_SIZES.items()
        ),
        default=Value(0),
        output_field=IntegerField(),
    )
    return qs.annotate(moved=moved, consumed=consumed).annotate(
        on_hand=F("counted_quantity") + F("moved") - F("consumed")
    )


# By jurisdiction, place name and kind; the primary key last (a unique order, for
# keyset pages).
STOCK_ORDER = ("jurisdiction_path", "place__name", "kind", "pk")


def stocks(
    *,
    user: User,
    place_id: int | None = None,
    town_path: str | None = None,
    kind: str | None = None,
    low_only: bool = False,
) -> QuerySet[SupplyStock]:
    """The stocks in the user's jurisdiction with their on-hand quantity, by place."""
    require(user, Capability.SUPPLY_VIEW)
    qs = SupplyStock.objects.filter(scope_q(user)).select_related("place")
    if place_id is not None:
        qs = qs.filter(place_id=place_id)
    if town_path:
        qs = qs.filter(under("jurisdiction_path", town_path))
    if kind:
        qs = qs.filter(kind=kind)
    qs = with_on_hand(qs)
    if low_only:
        qs = qs.filter(on_hand__lt=F("low_threshold"))  # type: ignore[misc]
    return qs.order_by(*STOCK_ORDER)


def low_stock(*, user: User) -> QuerySet[SupplyStock]:
    """Low-stock alerts: stocks whose on-hand quantity is below their threshold."""
    return stocks(user=user, low_only=True)


def low_stock_count(*, user: User) -> int:
    return low_stock(user=user).count()


def stock_get(*, user: User, pk: int) -> SupplyStock:
    require(user, Capability.SUPPLY_VIEW)
    found = with_on_hand(
        SupplyStock.objects.filter(scope_q(user), pk=pk).select_related("place")
    ).first()
    if found is None:
        raise NotFound("not_found", _("未找到该库存或不在您的辖区内"), object="supply_stock")
    return found


def stock_movements(*, user: User, stock: SupplyStock, limit: int = 50) -> list[SupplyMovement]:
    require(user, Capability.SUPPLY_VIEW)
    return list(
        SupplyMovement.objects.filter(
            stock=stock, stock__in=SupplyStock.objects.filter(scope_q(user))
        )
        .select_related("actor")
        .order_by("-at", "-pk")[:limit]
    )


def on_hand_by_town(*, user: User, town_paths: list[str]) -> dict[str, dict[str, int]]:
    """Stock on hand per town and kind (points and warehouses together), for the planner.
    Empty without `supply.view` (the planner then shows the demand only)."""
    from fangkong.accounts.permissions import has_capability

    if not town_paths or not has_capability(user, Capability.SUPPLY_VIEW):
        return {}
    out: dict[str, dict[str, int]] = defaultdict(dict)
    qs = with_on_hand(SupplyStock.objects.filter(scope_q(user)))
    for stock in qs.values("jurisdiction_path", "kind", "on_hand"):  # type: ignore[misc]
        town = town_of(stock["jurisdiction_path"])
        if town in town_paths:
            out[town][stock["kind"]] = out[town].get(stock["kind"], 0) + stock["on_hand"]
    return dict(out)
