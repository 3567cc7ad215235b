"""API of quarantine sites: the sites with their occupancy, a site's rooms (state and
the initials of the occupants the user may see), the capacity reserve and the 7-day
forecast of rooms needed."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from fangkong.accounts.types import AuthedRequest
from fangkong.areas import selectors as area_selectors
from fangkong.core.apitypes import Page, PageQuery, RowId
from fangkong.core.errors import NotFound
from fangkong.core.pagination import sequence_page
from fangkong.quarantine.choices import RoomKind, RoomState
from fangkong.quarantine.selectors import sites as selectors
from fangkong.quarantine.services import sites as services

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
            occupied=row.occupied + row.reserved,  # rooms in state occupied
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
    """A town's residents and their share of the city's reserve (information only: a
    town is never short, its residents go to the city's sites wherever they are)."""

    path: str = Field(description="The town's jurisdiction path")
    name: str
    population: int = Field(description="Residents of the town (in the user's scope)")
    rooms_per_10k: int = Field(description="Rule set's quarantine_rooms_per_10k")
    needed: int = Field(description="The town's residents' share of the city's need")
    rooms: int = Field(description="Rooms in service at active sites located in the town")


class CityReserveOut(Schema):
    """The city's (the command centre's) reserve: residents × rooms_per_10k / 10,000
    against every room in service at the city's active sites."""

    path: str = Field(description="The city's jurisdiction path")
    name: str
    population: int = Field(description="Residents of the city")
    rooms_per_10k: int = Field(description="Rule set's quarantine_rooms_per_10k")
    needed: int = Field(description="Rooms to hold in reserve city-wide")
    rooms: int = Field(description="Rooms in service at the city's active sites")
    short: bool = Field(description="True when rooms < needed")
    shortfall: int


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
    short: bool = Field(description="The forecast or the city's reserve falls short")
    city_reserve: CityReserveOut | None = Field(
        description="The city's reserve; null unless the user's scope is the whole city"
    )
    reserve: list[RoomReserveOut] = Field(
        description="Per town: residents and their share of the need, for information"
    )
    forecast: list[RoomForecastDayOut]


@router.get(
    "/sites", summary="List quarantine sites with their occupancy", response=Page[QuarantineSiteOut]
)
def site_list(request: AuthedRequest, paging: Query[PageQuery]) -> Page[QuarantineSiteOut]:
    """The sites the user sees (site staff: their own), rooms counted by state."""
    rows = sorted(selectors.site_rows(user=request.user), key=lambda r: r.site.pk)
    page = sequence_page(rows, key=lambda r: (r.site.pk,), cursor=paging.cursor, size=paging.size)
    return Page[QuarantineSiteOut].of(page, QuarantineSiteOut.of)


@router.get("/sites/{int:site_id}", summary="Get a quarantine site", response=QuarantineSiteOut)
def site_detail(request: AuthedRequest, site_id: int) -> QuarantineSiteOut:
    return _row(request, site_id)


@router.get(
    "/sites/{int:site_id}/rooms",
    summary="List a site's rooms with state and occupant initials",
    response=Page[SiteRoomOut],
)
def site_rooms(request: AuthedRequest, site_id: int, paging: Query[PageQuery]) -> Page[SiteRoomOut]:
    _site, floors = selectors.site_board(user=request.user, pk=site_id)
    rooms = sorted((r for f in floors for r in f.rooms), key=lambda r: r.room.pk)
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
    summary="The city's capacity reserve (with town shares) and the 7-day forecast",
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
        short=forecast.short or reserve.short,
        city_reserve=None
        if reserve.city is None
        else CityReserveOut(
            path=reserve.city.path,
            name=reserve.city.name,
            population=reserve.city.population,
            rooms_per_10k=reserve.city.per_10k,
            needed=reserve.city.needed,
            rooms=reserve.city.rooms,
            short=reserve.city.short,
            shortfall=reserve.city.shortfall,
        ),
        reserve=[
            RoomReserveOut(
                path=r.path,
                name=r.name,
                population=r.population,
                rooms_per_10k=r.per_10k,
                needed=r.needed,
                rooms=r.rooms,
            )
            for r in reserve.towns
        ],
        forecast=[
            RoomForecastDayOut(
                day=d.day, needed=d.needed, freed=d.freed, available=d.available, short=d.short
            )
            for d in forecast.days
        ],
    )


class SiteCreateIn(Schema):
    place_id: RowId
    doctor_name: str = Field("", max_length=50)
    note: str = Field("", max_length=2000)


class RoomsCreateIn(Schema):
    building: str = Field(..., min_length=1, max_length=32)
    floors: int = Field(..., ge=1, le=60)
    rooms_per_floor: int = Field(..., ge=1, le=200)
    kind: str = Field(RoomKind.SINGLE, pattern="^(" + "|".join(RoomKind.values) + ")$")
    beds: int = Field(1, ge=1, le=8)
    accessible_per_floor: int = Field(0, ge=0, le=200)


class RoomsCreatedOut(Schema):
    created: int


class RoomStateOut(Schema):
    id: int
    state: str


class RoomStateIn(Schema):
    state: str = Field(..., pattern="^(" + "|".join(RoomState.values) + ")$")


def _row(request: AuthedRequest, site_id: int) -> QuarantineSiteOut:
    site = selectors.site_get(user=request.user, pk=site_id)
    row = next(r for r in selectors.site_rows(user=request.user) if r.site.pk == site.pk)
    return QuarantineSiteOut.of(row)


@router.post(
    "/sites", summary="Make a quarantine_site place a site", response={201: QuarantineSiteOut}
)
def site_create(request: AuthedRequest, payload: SiteCreateIn) -> Status[QuarantineSiteOut]:
    place = area_selectors.place_get(user=request.user, pk=payload.place_id)
    site = services.site_create(
        actor=request.user, place=place, doctor_name=payload.doctor_name, note=payload.note
    )
    return Status(201, _row(request, site.pk))


@router.post(
    "/sites/{int:site_id}/rooms",
    summary="Add a building's rooms to a site",
    response={201: RoomsCreatedOut},
)
def rooms_create(
    request: AuthedRequest, site_id: int, payload: RoomsCreateIn
) -> Status[RoomsCreatedOut]:
    site = selectors.site_get(user=request.user, pk=site_id)
    made = services.rooms_create(actor=request.user, site=site, **payload.model_dump())
    return Status(201, RoomsCreatedOut(created=made))


@router.post(
    "/sites/{int:site_id}/rooms/{int:room_id}/state",
    summary="Set a room ready, to disinfect or out of service",
    response=RoomStateOut,
)
def room_state(
    request: AuthedRequest, site_id: int, room_id: int, payload: RoomStateIn
) -> RoomStateOut:
    room = selectors.room_of_site(user=request.user, site_id=site_id, pk=room_id)
    if room is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="room")
    room = services.room_state_set(actor=request.user, room=room, state=payload.state)
    return RoomStateOut(id=room.pk, state=room.state)
