"""API of mass testing: supplies (stock on hand, low-stock alerts, receive, issue,
transfer, count)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Query, Router, Schema, Status

from fangkong.accounts.types import AuthedRequest
from fangkong.areas import selectors as area_selectors
from fangkong.core.apitypes import ROW_ID_MAX, Page, PageQuery, RowId
from fangkong.core.http import client_address
from fangkong.core.pagination import keyset_page
from fangkong.core.paths import TOWN_WIDTH, path_pattern
from fangkong.testing.models import SupplyKind, SupplyMovement, SupplyStock
from fangkong.testing.selectors import supplies as selectors
from fangkong.testing.services import supplies as services

router = Router()

KIND_PATTERN = "^(" + "|".join(SupplyKind.values) + ")$"


class StockOut(Schema):
    id: int
    place_id: int
    place_name: str
    place_kind: str
    jurisdiction_path: str
    kind: str
    counted_quantity: int
    counted_at: dt.datetime
    moved: int
    consumed: int
    on_hand: int
    low_threshold: int
    low: bool

    @staticmethod
    def from_stock(stock: SupplyStock) -> StockOut:
        s: Any = stock
        return StockOut(
            id=stock.pk,
            place_id=stock.place_id,
            place_name=stock.place.name,
            place_kind=stock.place.kind,
            jurisdiction_path=stock.jurisdiction_path,
            kind=stock.kind,
            counted_quantity=stock.counted_quantity,
            counted_at=stock.counted_at,
            moved=s.moved,
            consumed=s.consumed,
            on_hand=s.on_hand,
            low_threshold=stock.low_threshold,
            low=s.on_hand < stock.low_threshold,
        )


class MovementOut(Schema):
    id: int
    stock_id: int
    kind: str
    delta: int
    reason: str
    at: dt.datetime

    @staticmethod
    def from_movement(m: SupplyMovement) -> MovementOut:
        return MovementOut(
            id=m.pk, stock_id=m.stock_id, kind=m.kind, delta=m.delta, reason=m.reason, at=m.at
        )


class StockIn(Schema):
    place_id: RowId
    kind: str = Field(..., pattern=KIND_PATTERN)
    quantity: int = Field(0, ge=0, le=10_000_000)
    low_threshold: int = Field(0, ge=0, le=10_000_000)


class QuantityIn(Schema):
    quantity: int = Field(..., ge=1, le=10_000_000)
    reason: str = Field("", max_length=200)


class TransferIn(QuantityIn):
    to_place_id: RowId


class CountIn(Schema):
    quantity: int = Field(..., ge=0, le=10_000_000)
    low_threshold: int | None = Field(None, ge=0, le=10_000_000)


class TransferOut(Schema):
    out: MovementOut
    into: MovementOut


@router.get("/supplies", summary="List supply stocks", response=Page[StockOut])
def stock_list(
    request: AuthedRequest,
    paging: Query[PageQuery],
    place_id: int | None = Query(None, ge=1, le=ROW_ID_MAX),
    town: str | None = Query(None, pattern=path_pattern(TOWN_WIDTH)),
    kind: str | None = Query(None, pattern=KIND_PATTERN),
    low: bool = False,
) -> Page[StockOut]:
    """Stock on hand (last count + movements − consumption derived from registrations)."""
    qs = selectors.stocks(
        user=request.user, place_id=place_id, town_path=town, kind=kind, low_only=low
    )
    page = keyset_page(qs, cursor=paging.cursor, size=paging.size, order=selectors.STOCK_ORDER)
    return Page[StockOut].of(page, StockOut.from_stock)


@router.get("/supplies/alerts", summary="List low-stock alerts", response=Page[StockOut])
def stock_alerts(request: AuthedRequest, paging: Query[PageQuery]) -> Page[StockOut]:
    """Low-stock alerts: on hand below the stock's threshold."""
    page = keyset_page(
        selectors.low_stock(user=request.user),
        cursor=paging.cursor,
        size=paging.size,
        order=selectors.STOCK_ORDER,
    )
    return Page[StockOut].of(page, StockOut.from_stock)


@router.get("/supplies/{int:stock_id}", summary="Get a supply stock", response=StockOut)
def stock_detail(request: AuthedRequest, stock_id: int) -> StockOut:
    return StockOut.from_stock(selectors.stock_get(user=request.user, pk=stock_id))


@router.post("/supplies", summary="Create a supply stock", response={201: StockOut})
def stock_create(request: AuthedRequest, payload: StockIn) -> Status[StockOut]:
    place = area_selectors.places_resolve(user=request.user, pks=[payload.place_id])[0]
    stock = services.supply_stock_create(
        actor=request.user,
        place=place,
        kind=payload.kind,
        quantity=payload.quantity,
        low_threshold=payload.low_threshold,
        ip=client_address(request),
    )
    return Status(201, StockOut.from_stock(selectors.stock_get(user=request.user, pk=stock.pk)))


@router.post(
    "/supplies/{int:stock_id}/receive",
    summary="Receive supplies into a stock",
    response={201: MovementOut},
)
def stock_receive(
    request: AuthedRequest, stock_id: int, payload: QuantityIn
) -> Status[MovementOut]:
    stock = selectors.stock_get(user=request.user, pk=stock_id)
    move = services.supply_receive(
        actor=request.user,
        stock=stock,
        quantity=payload.quantity,
        reason=payload.reason,
        ip=client_address(request),
    )
    return Status(201, MovementOut.from_movement(move))


@router.post(
    "/supplies/{int:stock_id}/issue",
    summary="Issue supplies from a stock",
    response={201: MovementOut},
)
def stock_issue(request: AuthedRequest, stock_id: int, payload: QuantityIn) -> Status[MovementOut]:
    stock = selectors.stock_get(user=request.user, pk=stock_id)
    move = services.supply_issue(
        actor=request.user,
        stock=stock,
        quantity=payload.quantity,
        reason=payload.reason,
        ip=client_address(request),
    )
    return Status(201, MovementOut.from_movement(move))


@router.post(
    "/supplies/{int:stock_id}/transfer",
    summary="Transfer supplies to another place",
    response={201: TransferOut},
)
def stock_transfer(
    request: AuthedRequest, stock_id: int, payload: TransferIn
) -> Status[TransferOut]:
    stock = selectors.stock_get(user=request.user, pk=stock_id)
    to_place = area_selectors.places_resolve(user=request.user, pks=[payload.to_place_id])[0]
    out, into = services.supply_transfer(
        actor=request.user,
        stock=stock,
        to_place=to_place,
        quantity=payload.quantity,
        reason=payload.reason,
        ip=client_address(request),
    )
    return Status(
        201, TransferOut(out=MovementOut.from_movement(out), into=MovementOut.from_movement(into))
    )


@router.post("/supplies/{int:stock_id}/count", summary="Record a stock count", response=StockOut)
def stock_count(request: AuthedRequest, stock_id: int, payload: CountIn) -> StockOut:
    stock = selectors.stock_get(user=request.user, pk=stock_id)
    services.supply_count(
        actor=request.user,
        stock=stock,
        quantity=payload.quantity,
        low_threshold=payload.low_threshold,
        ip=client_address(request),
    )
    return StockOut.from_stock(selectors.stock_get(user=request.user, pk=stock_id))
