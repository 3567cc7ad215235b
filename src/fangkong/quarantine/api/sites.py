"""API of quarantine sites: the sites with their occupancy, a site's rooms (state and
the initials of the occupants the user may see), the capacity reserve and the 7-day
forecast of rooms needed."""

from __future__ import annotations

import datetime as dt

from ninja import Query, Router, Schema

from fangkong.accounts.types import AuthedRequest
from fangkong.core.apitypes import Page, PageQuery
from fangkong.core.pagination import sequence_page
from fangkong.quarantine.selectors import sites as selectors

router = Router()


class QuarantineSiteOut(Schema):
    id: int
    name: str
    place_id: int
    jurisdiction_path: str
    active: bool
    doctor_name: str
    rooms: int
    free: int
    occupied: int
    disinfect: int
    out_of_service: int
    people: int
    occupancy_pct: int

    @staticmethod
    def of(row: selectors.SiteRow) -> QuarantineSiteOut:
        s = row.site
        return QuarantineSiteOut(
            id=s.pk,
            name=s.name,
            place_id=s.place_id,
            jurisdiction_path=s.jurisdiction_path,
            active=s.active,
            doctor_name=s.doctor_name,
            rooms=row.rooms,
            free=row.ready,
            occupied=row.occupied,
            disinfect=row.disinfect,
            out_of_service=row.out_of_service,
            people=row.people,
            occupancy_pct=row.occupancy_pct,
        )


class SiteRoomOut(Schema):
    id: int
    building: str
    floor: int
    number: str
    kind: str
    beds: int
    accessible: bool
    state: str
    initials: list[str]
    hidden_occupants: int


class RoomReserveOut(Schema):
    path: str
    name: str
    population: int
    rooms_per_10k: int
    needed: int
    rooms: int
    short: bool


class RoomForecastDayOut(Schema):
    day: dt.date
    needed: int
    freed: int
    available: int
    short: bool


class RoomCapacityOut(Schema):
    occupied: int
    pipeline: int
    available: int
    short: bool
    reserve: list[RoomReserveOut]
    forecast: list[RoomForecastDayOut]


@router.get(
    "/sites", summary="List quarantine sites with their occupancy", response=Page[QuarantineSiteOut]
)
def site_list(request: AuthedRequest, paging: Query[PageQuery]) -> Page[QuarantineSiteOut]:
    """The sites the user sees (site staff: their own), rooms counted by state."""
    rows = selectors.site_rows(user=request.user)
    page = sequence_page(rows, key=lambda r: (r.site.pk,), cursor=paging.cursor, size=paging.size)
    return Page[QuarantineSiteOut].of(page, QuarantineSiteOut.of)


@router.get("/sites/{int:site_id}", summary="Get a quarantine site", response=QuarantineSiteOut)
def site_detail(request: AuthedRequest, site_id: int) -> QuarantineSiteOut:
    site = selectors.site_get(user=request.user, pk=site_id)
    row = next(r for r in selectors.site_rows(user=request.user) if r.site.pk == site.pk)
    return QuarantineSiteOut.of(row)


@router.get(
    "/sites/{int:site_id}/rooms",
    summary="List a site's rooms with state and occupant initials",
    response=Page[SiteRoomOut],
)
def site_rooms(request: AuthedRequest, site_id: int, paging: Query[PageQuery]) -> Page[SiteRoomOut]:
    _site, floors = selectors.site_board(user=request.user, pk=site_id)
    rooms = [r for f in floors for r in f.rooms]
    page = sequence_page(rooms, key=lambda r: (r.room.pk,), cursor=paging.cursor, size=paging.size)
    return Page[SiteRoomOut].of(
        page,
        lambda r: SiteRoomOut(
            id=r.room.pk,
            building=r.room.building,
            floor=r.room.floor,
            number=r.room.number,
            kind=r.room.kind,
            beds=r.room.beds,
            accessible=r.room.accessible,
            state=r.room.state,
            initials=r.initials,
            hidden_occupants=r.hidden,
        ),
    )


@router.get(
    "/capacity",
    summary="Capacity reserve per town and the 7-day forecast of rooms needed",
    response=RoomCapacityOut,
)
def capacity(request: AuthedRequest) -> RoomCapacityOut:
    user = request.user
    forecast = selectors.forecast(user=user)
    reserve = selectors.capacity_reserve(user=user)
    return RoomCapacityOut(
        occupied=forecast.occupied,
        pipeline=forecast.pipeline,
        available=forecast.available,
        short=forecast.short or any(r.short for r in reserve),
        reserve=[
            RoomReserveOut(
                path=r.path,
                name=r.name,
                population=r.population,
                rooms_per_10k=r.per_10k,
                needed=r.needed,
                rooms=r.rooms,
                short=r.short,
            )
            for r in reserve
        ],
        forecast=[
            RoomForecastDayOut(
                day=d.day, needed=d.needed, freed=d.freed, available=d.available, short=d.short
            )
            for d in forecast.days
        ],
    )
