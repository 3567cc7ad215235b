"""Services of supplies (兵马粮草): stocks at sampling points and warehouses, and their
movements: receive, issue, transfer, count. Every change is audited.

Quantities consumed by sampling are derived from registrations (selectors.supplies), so
an issue or transfer checks the DERIVED on-hand quantity and refuses to go below zero.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require, require_in_scope
from fangkong.accounts.roles import Capability
from fangkong.accounts.services import audit_record
from fangkong.areas.choices import PlaceKind
from fangkong.core.errors import Conflict, DomainError
from fangkong.testing.models import MovementKind, SupplyKind, SupplyMovement, SupplyStock
from fangkong.testing.selectors.supplies import with_on_hand

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.areas.models import Place

STOCK_PLACE_KINDS = frozenset({PlaceKind.SAMPLING_POINT, PlaceKind.WAREHOUSE})
MAX_QUANTITY = 10_000_000
REASON_MAX = 200


def _quantity(value: Any, field: str = "quantity", *, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError("quantity_invalid", _("数量必须是整数"), field=field)
    if value < (0 if allow_zero else 1) or value > MAX_QUANTITY:
        raise DomainError("quantity_invalid", _("数量超出范围"), field=field, value=value)
    return value


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise DomainError("reason_too_long", _("事由过长"), field="reason")
    return reason


def _check_place(actor: User, place: Place) -> None:
    require_in_scope(actor, place.jurisdiction_path, what="place")
    if place.kind not in STOCK_PLACE_KINDS:
        raise DomainError(
            "place_not_stock_holder", _("只有采样点和物资仓库可以存放物资"), kind=place.kind
        )


def _audit(actor: User, action: str, stock: SupplyStock, ip: str, **detail: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="supply_stock",
        object_id=stock.pk,
        object_label=f"{stock.place.name} {stock.get_kind_display()}",
        jurisdiction_path=stock.jurisdiction_path,
        detail={"kind": stock.kind, "place": stock.place_id, **detail},
        ip=ip,
    )


def _locked(stock: SupplyStock) -> SupplyStock:
    return SupplyStock.objects.select_for_update().select_related("place").get(pk=stock.pk)


def _on_hand(stock: SupplyStock) -> int:
    return int(
        with_on_hand(SupplyStock.objects.filter(pk=stock.pk)).values_list("on_hand", flat=True)[0]  # type: ignore[misc]
    )


@transaction.atomic
def supply_stock_create(
    *,
    actor: User,
    place: Place,
    kind: str,
    quantity: int = 0,
    low_threshold: int = 0,
    now: dt.datetime | None = None,
    ip: str = "",
) -> SupplyStock:
    """Start keeping a kind of supply at a point or warehouse, with its first count."""
    require(actor, Capability.SUPPLY_MANAGE)
    _check_place(actor, place)
    if kind not in SupplyKind.values:
        raise DomainError("supply_kind_invalid", _("物资种类无效"), kind=kind)
    quantity = _quantity(quantity, allow_zero=True)
    low_threshold = _quantity(low_threshold, "low_threshold", allow_zero=True)
    if SupplyStock.objects.filter(place=place, kind=kind).exists():
        raise Conflict("supply_stock_exists", _("该场所已有这种物资的库存"), kind=kind)
    stock = SupplyStock.objects.create(
        place=place,
        jurisdiction_path=place.jurisdiction_path,
        kind=kind,
        counted_quantity=quantity,
        counted_at=now or timezone.now(),
        low_threshold=low_threshold,
    )
    _audit(actor, "supply.stock_create", stock, ip, quantity=quantity, low_threshold=low_threshold)
    return stock


def _move(
    *,
    actor: User,
    stock: SupplyStock,
    kind: str,
    delta: int,
    reason: str,
    now: dt.datetime | None,
) -> SupplyMovement:
    return SupplyMovement.objects.create(
        stock=stock, kind=kind, delta=delta, reason=reason, at=now or timezone.now(), actor=actor
    )


def _manage(actor: User, stock: SupplyStock) -> SupplyStock:
    require(actor, Capability.SUPPLY_MANAGE)
    require_in_scope(actor, stock.jurisdiction_path, what="supply_stock")
    return _locked(stock)


@transaction.atomic
def supply_receive(
    *,
    actor: User,
    stock: SupplyStock,
    quantity: int,
    reason: str = "",
    now: dt.datetime | None = None,
    ip: str = "",
) -> SupplyMovement:
    """Stock arrives (入库)."""
    stock = _manage(actor, stock)
    quantity = _quantity(quantity)
    move = _move(
        actor=actor,
        stock=stock,
        kind=MovementKind.RECEIVE,
        delta=quantity,
        reason=_reason(reason),
        now=now,
    )
    _audit(actor, "supply.receive", stock, ip, quantity=quantity, reason=move.reason)
    return move


@transaction.atomic
def supply_issue(
    *,
    actor: User,
    stock: SupplyStock,
    quantity: int,
    reason: str = "",
    now: dt.datetime | None = None,
    ip: str = "",
) -> SupplyMovement:
    """Stock leaves to someone outside the system's places (出库); never below zero."""
    stock = _manage(actor, stock)
    quantity = _quantity(quantity)
    on_hand = _on_hand(stock)
    if quantity > on_hand:
        raise Conflict("supply_insufficient", _("库存不足"), on_hand=on_hand, quantity=quantity)
    move = _move(
        actor=actor,
        stock=stock,
        kind=MovementKind.ISSUE,
        delta=-quantity,
        reason=_reason(reason),
        now=now,
    )
    _audit(actor, "supply.issue", stock, ip, quantity=quantity, reason=move.reason)
    return move


@transaction.atomic
def supply_transfer(
    *,
    actor: User,
    stock: SupplyStock,
    to_place: Place,
    quantity: int,
    reason: str = "",
    now: dt.datetime | None = None,
    ip: str = "",
) -> tuple[SupplyMovement, SupplyMovement]:
    """Move stock to another point or warehouse in the actor's jurisdiction (调拨): one
    movement out, one in; the destination's stock of that kind is created if needed."""
    stock = _manage(actor, stock)
    _check_place(actor, to_place)
    if to_place.pk == stock.place_id:
        raise DomainError("transfer_same_place", _("调出和调入场所不能相同"))
    quantity = _quantity(quantity)
    on_hand = _on_hand(stock)
    if quantity > on_hand:
        raise Conflict("supply_insufficient", _("库存不足"), on_hand=on_hand, quantity=quantity)
    moment = now or timezone.now()
    target = SupplyStock.objects.filter(place=to_place, kind=stock.kind).first()
    if target is None:
        target = SupplyStock.objects.create(
            place=to_place,
            jurisdiction_path=to_place.jurisdiction_path,
            kind=stock.kind,
            counted_quantity=0,
            # Counted "empty" just before the transfer, so the transfer counts.
            counted_at=moment - dt.timedelta(microseconds=1),
        )
    target = _locked(target)
    text = _reason(reason)
    out = _move(
        actor=actor,
        stock=stock,
        kind=MovementKind.TRANSFER_OUT,
        delta=-quantity,
        reason=text,
        now=moment,
    )
    into = _move(
        actor=actor,
        stock=target,
        kind=MovementKind.TRANSFER_IN,
        delta=quantity,
        reason=text,
        now=moment,
    )
    _audit(
        actor,
        "supply.transfer",
        stock,
        ip,
        quantity=quantity,
        to_place=to_place.pk,
        to_stock=target.pk,
        reason=text,
    )
    return out, into


@transaction.atomic
def supply_count(
    *,
    actor: User,
    stock: SupplyStock,
    quantity: int,
    low_threshold: int | None = None,
    now: dt.datetime | None = None,
    ip: str = "",
) -> SupplyStock:
    """Record a physical count (盘点): it replaces the derived quantity from now on; the
    difference to the derived quantity is audited (losses, unregistered use)."""
    stock = _manage(actor, stock)
    quantity = _quantity(quantity, allow_zero=True)
    derived = _on_hand(stock)
    stock.counted_quantity = quantity
    stock.counted_at = now or timezone.now()
    fields = ["counted_quantity", "counted_at"]
    if low_threshold is not None:
        stock.low_threshold = _quantity(low_threshold, "low_threshold", allow_zero=True)
        fields.append("low_threshold")
    stock.save(update_fields=fields)
    _audit(
        actor,
        "supply.count",
        stock,
        ip,
        quantity=quantity,
        derived=derived,
        difference=quantity - derived,
        low_threshold=stock.low_threshold,
    )
    return stock
