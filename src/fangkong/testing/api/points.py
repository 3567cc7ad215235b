"""API of mass testing: sampling points (register, edit, queue status)."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Query, Router, Schema, Status

from fangkong.accounts.types import AuthedRequest
from fangkong.areas import selectors as area_selectors
from fangkong.core.apitypes import LocalTime, Page, PageQuery, RowId
from fangkong.core.http import client_address
from fangkong.core.pagination import keyset_page
from fangkong.testing.models import QueueStatus, SamplingPoint
from fangkong.testing.selectors import points as selectors
from fangkong.testing.services import points as services

router = Router()

QUEUE_PATTERN = "^(" + "|".join(QueueStatus.values) + ")$"


class PointOut(Schema):
    id: int
    place_id: int
    name: str
    address: str
    jurisdiction_path: str
    jurisdiction_name: str
    lat: float | None
    lon: float | None
    tables: int
    samplers: int
    opens_at: LocalTime | None
    closes_at: LocalTime | None
    queue_status: str
    queue_length: int
    queue_updated_at: dt.datetime | None

    @staticmethod
    def from_point(point: SamplingPoint) -> PointOut:
        place = point.place
        return PointOut(
            id=point.pk,
            place_id=place.pk,
            name=place.name,
            address=place.address,
            jurisdiction_path=point.jurisdiction_path,
            jurisdiction_name=place.jurisdiction.name,
            lat=place.lat,
            lon=place.lon,
            tables=point.tables,
            samplers=point.samplers,
            opens_at=point.opens_at,
            closes_at=point.closes_at,
            queue_status=point.queue_status,
            queue_length=point.queue_length,
            queue_updated_at=point.queue_updated_at,
        )


class PointIn(Schema):
    place_id: RowId
    tables: int = Field(1, ge=1, le=200)
    samplers: int = Field(2, ge=0, le=1000)
    opens_at: dt.time | None = None
    closes_at: dt.time | None = None


class PointUpdateIn(Schema):
    tables: int = Field(..., ge=1, le=200)
    samplers: int = Field(..., ge=0, le=1000)
    opens_at: dt.time | None = None
    closes_at: dt.time | None = None


class QueueIn(Schema):
    status: str = Field(..., pattern=QUEUE_PATTERN)
    length: int = Field(0, ge=0, le=100_000)


@router.get("/points", summary="List sampling points", response=Page[PointOut])
def point_list(
    request: AuthedRequest,
    paging: Query[PageQuery],
    jurisdiction: str | None = Query(None, pattern=r"^\d{6,15}$"),
    queue_status: str | None = Query(None, pattern=QUEUE_PATTERN),
) -> Page[PointOut]:
    """The sampling points of the user's jurisdiction with their queue, by jurisdiction
    then name."""
    qs = selectors.points(
        user=request.user, jurisdiction_path=jurisdiction, queue_status=queue_status
    )
    page = keyset_page(qs, cursor=paging.cursor, size=paging.size, order=selectors.POINT_ORDER)
    return Page[PointOut].of(page, PointOut.from_point)


@router.get("/points/{int:point_id}", summary="Get a sampling point", response=PointOut)
def point_detail(request: AuthedRequest, point_id: int) -> PointOut:
    return PointOut.from_point(selectors.point_get(user=request.user, pk=point_id))


@router.post("/points", summary="Register a sampling point", response={201: PointOut})
def point_register(request: AuthedRequest, payload: PointIn) -> Status[PointOut]:
    place = area_selectors.places_resolve(user=request.user, pks=[payload.place_id])[0]
    point = services.point_register(
        actor=request.user,
        place=place,
        tables=payload.tables,
        samplers=payload.samplers,
        opens_at=payload.opens_at,
        closes_at=payload.closes_at,
        ip=client_address(request),
    )
    return Status(201, PointOut.from_point(selectors.point_get(user=request.user, pk=point.pk)))


@router.put("/points/{int:point_id}", summary="Update a sampling point", response=PointOut)
def point_update(request: AuthedRequest, point_id: int, payload: PointUpdateIn) -> PointOut:
    point = selectors.point_get(user=request.user, pk=point_id)
    services.point_update(
        actor=request.user,
        point=point,
        tables=payload.tables,
        samplers=payload.samplers,
        opens_at=payload.opens_at,
        closes_at=payload.closes_at,
        ip=client_address(request),
    )
    return PointOut.from_point(selectors.point_get(user=request.user, pk=point_id))


@router.post(
    "/points/{int:point_id}/queue", summary="Update a sampling point's queue", response=PointOut
)
def point_queue(request: AuthedRequest, point_id: int, payload: QueueIn) -> PointOut:
    """Update the queue status and length (the point's sampler, its town, command)."""
    point = selectors.point_get(user=request.user, pk=point_id)
    services.point_queue_update(
        actor=request.user,
        point=point,
        status=payload.status,
        length=payload.length,
        ip=client_address(request),
    )
    return PointOut.from_point(selectors.point_get(user=request.user, pk=point_id))
