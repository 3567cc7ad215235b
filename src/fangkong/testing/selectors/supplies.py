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

A sampling point with no stock of a kind draws it from its town's warehouse: a
warehouse's consumption is what the points of its town WITHOUT their own stock of that
kind registered since the warehouse's count (one warehouse per town and kind does: the
one with the smallest place id, so a tube never counts twice). A point with its own
stock consumes from it. So the drill's towns, whose points hold no stock, see their
warehouse go down as samples are taken, and the sampling sync writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Substr
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require, scope_q
from fangkong.accounts.roles import Capability, Role
from fangkong.areas.choices import PlaceKind
from fangkong.core.errors import NotFound
from fangkong.core.paths import TOWN_WIDTH, town_of, under
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


TubeFilter = Callable[[int], Q]


def _outer(name: str, depth: int) -> OuterRef:
    """A field of the stock row, seen from a subquery `depth` levels below it."""
    ref = OuterRef(name)
    for _level in range(depth - 1):
        ref = OuterRef(ref)
    return ref


def _tubes_opened(where: TubeFilter, lo: int, hi: int) -> Coalesce:
    return _int_subquery(
        Tube.objects.filter(
            where(1), opened_at__gt=OuterRef("counted_at"), pool_size__gte=lo, pool_size__lte=hi
        )
        .order_by()
        .values(group=Value(1))
        .annotate(n=Count("pk"))
        .values("n")
    )


def _swabs(where: TubeFilter) -> Coalesce:
    """Samples in the tubes `where` selects (the few tubes first, then their samples by
    the (tube, person) index)."""
    tubes = Tube.objects.filter(where(2)).values("pk")
    return _int_subquery(
        Sample.objects.filter(tube_id__in=tubes, sampled_at__gt=OuterRef("counted_at"))
        .order_by()
        .values(group=Value(1))
        .annotate(n=Count("pk"))
        .values("n")
    )


def _consumed(where: TubeFilter) -> Case:
    """What the tubes `where` selects consumed of the outer stock's kind since its count.
    `where(depth)` is a Q over tubes in a subquery `depth` levels below the stock."""
    return Case(
        When(kind=SupplyKind.SWAB, then=_swabs(where)),
        *(
            When(kind=kind, then=_tubes_opened(where, lo, hi))
            for kind, (lo, hi) in TUBE_KIND_SIZES.items()
        ),
        default=Value(0),
        output_field=IntegerField(),
    )


def _own_tubes(depth: int) -> Q:
    """Tubes opened at the stock's own place (a sampling point)."""
    return Q(point__place_id=_outer("place_id", depth))


def _supplied_tubes(depth: int) -> Q:
    """Tubes of the points a warehouse stock supplies: the sampling points of its town
    with no stock of that kind of their own (the drill stocks only the towns'
    warehouses, so every point draws from its town's)."""
    own_stock = SupplyStock.objects.filter(
        place_id=OuterRef("point__place_id"), kind=_outer("kind", depth + 1)
    )
    town = Substr(_outer("jurisdiction_path", depth), 1, TOWN_WIDTH)
    return Q(jurisdiction_path__startswith=town) & ~Q(Exists(own_stock))


def _first_warehouse_of_its_town() -> Q:
    """The outer stock is at a warehouse, and no warehouse of its town with a smaller id
    stocks the kind: one warehouse supplies a town's points, so a tube counts once."""
    earlier = SupplyStock.objects.filter(
        kind=OuterRef("kind"),
        place__kind=PlaceKind.WAREHOUSE,
        place_id__lt=OuterRef("place_id"),
        jurisdiction_path__startswith=Substr(OuterRef("jurisdiction_path"), 1, TOWN_WIDTH),
    )
    return Q(place__kind=PlaceKind.WAREHOUSE) & ~Q(Exists(earlier))


def with_on_hand(qs: QuerySet[SupplyStock]) -> QuerySet[SupplyStock]:
    """Annotate `moved`, `consumed` and `on_hand` (see the module's docstring)."""
    moved = _int_subquery(
        SupplyMovement.objects.filter(stock_id=OuterRef("pk"), at__gt=OuterRef("counted_at"))
        .order_by()
        .values("stock_id")
        .annotate(s=Sum("delta"))
        .values("s")
    )
    consumed = Case(
        When(_first_warehouse_of_its_town(), then=_consumed(_supplied_tubes)),
        default=_consumed(_own_tubes),
        output_field=IntegerField(),
    )
    return qs.annotate(moved=moved, consumed=consumed).annotate(
        on_hand=F("counted_quantity") + F("moved") - F("consumed")
    )


# By jurisdiction, place name and kind; the primary key last (a unique order, for
# keyset pages).
STOCK_ORDER = ("jurisdiction_path", "place__name", "kind", "pk")


def point_place(user: User) -> Any:
    """The sampling point's place a sampler works at (User.place), or None."""
    if user.role != Role.SAMPLER or not user.place_id:
        return None
    place = user.place
    return place if place is not None and place.kind == PlaceKind.SAMPLING_POINT else None


def supplier_stock_ids(*, point_place: Any) -> list[int]:
    """The stocks a sampling point draws from: for each kind, its own stock, else its
    town's warehouse stock (the first warehouse of the town that holds the kind, as
    `with_on_hand` counts the point's consumption there)."""
    own = dict(SupplyStock.objects.filter(place_id=point_place.pk).values_list("kind", "pk"))
    town = town_of(point_place.jurisdiction_path)
    for kind, pk in (
        SupplyStock.objects.filter(
            under("jurisdiction_path", town), place__kind=PlaceKind.WAREHOUSE
        )
        .order_by("place_id", "pk")
        .values_list("kind", "pk")
    ):
        own.setdefault(kind, pk)
    return list(own.values())


def _visible_q(user: User) -> Q:
    """Stocks the user sees: those of her jurisdiction; a sampler those her point draws
    from (its own, else its town's warehouse), never another point's or town's."""
    place = point_place(user)
    if place is not None:
        return Q(pk__in=supplier_stock_ids(point_place=place))
    return scope_q(user)


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
    qs = SupplyStock.objects.filter(_visible_q(user)).select_related("place")
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
        SupplyStock.objects.filter(_visible_q(user), pk=pk).select_related("place")
    ).first()
    if found is None:
        raise NotFound("not_found", _("未找到该库存或不在您的辖区内"), object="supply_stock")
    return found


def stock_movements(*, user: User, stock: SupplyStock, limit: int = 50) -> list[SupplyMovement]:
    require(user, Capability.SUPPLY_VIEW)
    return list(
        SupplyMovement.objects.filter(
            stock=stock, stock__in=SupplyStock.objects.filter(_visible_q(user))
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
