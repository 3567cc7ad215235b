"""Sites for the pages and the API: occupancy per site, the site board (rooms by building
and floor with state and occupant initials), the city's capacity reserve (with each
town's share) and the 7-day forecast of rooms needed."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Count, Exists, Max, OuterRef
from django.utils import timezone

from fangkong.accounts.permissions import has_capability, scope_path
from fangkong.accounts.roles import Capability
from fangkong.areas import selectors as area_selectors
from fangkong.core.paths import TOWN_WIDTH, city_of, town_of, under
from fangkong.people import selectors as people_selectors
from fangkong.people.rules import mask_name
from fangkong.protocol import selectors as protocol_selectors
from fangkong.quarantine.choices import OPEN_STATUSES, Measure, PlacementStatus, RoomState
from fangkong.quarantine.models import Occupancy, Placement, Room, Site
from fangkong.quarantine.selectors.scope import (
    placements_visible,
    site_bound,
    site_get,
    sites_visible,
)

if TYPE_CHECKING:
    from fangkong.accounts.models import User

FORECAST_DAYS = 7
RESERVED = "reserved"  # board state of an occupied room whose occupants have not arrived


@dataclass
class SiteRow:
    """A site with its rooms counted by state and its people placed."""

    site: Site
    rooms: int = 0
    ready: int = 0
    occupied: int = 0
    disinfect: int = 0
    out_of_service: int = 0
    reserved: int = 0  # rooms held for persons not yet arrived (counted out of occupied)
    people: int = 0

    @property
    def in_service(self) -> int:
        return self.rooms - self.out_of_service

    @property
    def occupancy_pct(self) -> int:
        used = self.occupied + self.reserved
        return round(100 * used / self.in_service) if self.in_service else 0


def site_rows(*, user: User, active_only: bool = False) -> list[SiteRow]:
    """The sites the user sees with their rooms by state and open placements: four
    queries whatever the number of sites. A room held for persons not yet arrived
    (placements planned or in transit, none checked in) counts as reserved, not
    occupied."""
    sites = sites_visible(user).select_related("place")
    if active_only:
        sites = sites.filter(active=True)
    rows = {s.pk: SiteRow(site=s) for s in sites.order_by("name", "pk")[:500]}
    counts = (
        Room.objects.filter(site_id__in=list(rows))
        .values("site_id", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    for c in counts:
        row = rows[c["site_id"]]
        row.rooms += c["n"]
        setattr(row, c["state"], getattr(row, c["state"]) + c["n"])
    people = (
        Placement.objects.filter(site_id__in=list(rows), status__in=OPEN_STATUSES)
        .values("site_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for p in people:
        rows[p["site_id"]].people = p["n"]
    checked_in = Placement.objects.filter(room=OuterRef("pk"), status=PlacementStatus.ACTIVE)
    reserved = (
        Room.objects.filter(~Exists(checked_in), site_id__in=list(rows), state=RoomState.OCCUPIED)
        .values("site_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for r in reserved:
        row = rows[r["site_id"]]
        row.reserved = r["n"]
        row.occupied -= r["n"]
    return list(rows.values())


# --- the site board ---------------------------------------------------------------------


@dataclass
class BoardRoom:
    room: Room
    initials: list[str] = field(default_factory=list)
    hidden: int = 0  # occupants the user may not see (other towns' residents)
    checked_in: bool = False  # an occupant is active (arrived), not only planned/in transit

    @property
    def state(self) -> str:
        """The room's state for the board: an occupied room whose occupants have not
        arrived yet is `reserved` (已预留（待入住）)."""
        if self.room.state == RoomState.OCCUPIED and not self.checked_in:
            return RESERVED
        return str(self.room.state)


@dataclass
class BoardFloor:
    building: str
    floor: int
    rooms: list[BoardRoom]


def site_board(*, user: User, pk: int) -> tuple[Site, list[BoardFloor]]:
    """A site's rooms by building and floor, each with its state and the initials (the
    masked name's first character) of the occupants the user may see; others count as
    hidden. Three queries."""
    site = site_get(user=user, pk=pk)
    rooms = list(Room.objects.filter(site=site).order_by("building", "floor", "number", "pk"))
    by_room: dict[int, BoardRoom] = {r.pk: BoardRoom(room=r) for r in rooms}
    occupants = (
        Placement.objects.filter(site=site, status__in=OPEN_STATUSES, room__isnull=False)
        .select_related("person")
        .only("pk", "room_id", "status", "person__name", "jurisdiction_path", "site_id")
        .order_by("pk")
    )
    visible_ids = set(placements_visible(user).filter(site=site).values_list("pk", flat=True))
    for p in occupants:
        board_room = by_room.get(p.room_id)  # type: ignore[arg-type]
        if board_room is None:
            continue
        if p.status == PlacementStatus.ACTIVE:
            board_room.checked_in = True
        if p.pk in visible_ids:
            board_room.initials.append(mask_name(p.person.name)[:1])
        else:
            board_room.hidden += 1
    floors: dict[tuple[str, int], list[BoardRoom]] = defaultdict(list)
    for r in rooms:
        floors[(r.building, r.floor)].append(by_room[r.pk])
    return site, [BoardFloor(b, f, rs) for (b, f), rs in floors.items()]


# --- capacity reserve -----------------------------------------------------------------------


@dataclass
class ReserveRow:
    """A town's residents and their share of the city's reserve, for information only:
    the reserve is the city's (the command centre's) and a town's sites may lie in
    another town, so a town is never flagged short."""

    path: str
    name: str
    population: int
    per_10k: int
    needed: int  # the town's residents' share of the city's need
    rooms: int  # rooms in service at active sites located in the town


@dataclass
class CityReserve:
    """The city's reserve: residents × `quarantine_rooms_per_10k` / 10,000 against every
    room in service at the city's active sites."""

    path: str
    name: str
    population: int
    per_10k: int
    needed: int
    rooms: int

    @property
    def short(self) -> bool:
        return self.rooms < self.needed

    @property
    def shortfall(self) -> int:
        return max(self.needed - self.rooms, 0)


@dataclass
class Reserve:
    city: CityReserve | None  # None unless the user's scope is the whole city
    towns: list[ReserveRow]

    @property
    def short(self) -> bool:
        return bool(self.city and self.city.short)

    def __bool__(self) -> bool:
        return bool(self.city or self.towns)


def rooms_needed(population: int, per_10k: int) -> int:
    """Rooms to hold in reserve: population × rooms per 10,000 residents (rule set)."""
    return math.ceil(population * per_10k / 10_000)


def capacity_reserve(*, user: User) -> Reserve:
    """The capacity reserve is the city's figure: the city's residents × the rule set's
    `quarantine_rooms_per_10k` / 10,000 against all rooms in service at the city's
    active sites, flagged short when they do not reach it (shown to users whose scope is
    the city, i.e. the command centre). Per town of the user's scope: the residents, their
    share of the need and the rooms located in the town, for information (never flagged:
    a town's residents are placed at the city's sites wherever they are). Site staff get
    nothing."""
    empty = Reserve(city=None, towns=[])
    if site_bound(user) or not has_capability(user, Capability.SITE_VIEW):
        return empty
    if not has_capability(user, Capability.PERSON_VIEW):
        return empty
    scope = scope_path(user)
    counts = people_selectors.person_counts_by_prefix(user=user, width=TOWN_WIDTH)
    if not scope or not counts:
        return empty
    city = city_of(scope)
    rooms_by_town: dict[str, int] = defaultdict(int)
    for path, n in (
        Room.objects.filter(
            under("site__jurisdiction_path", city),
            site__active=True,
        )
        .exclude(state=RoomState.OUT_OF_SERVICE)
        .values_list("site__jurisdiction_path")
        .annotate(n=Count("id"))
        .order_by()
    ):
        rooms_by_town[town_of(path)] += n
    names = area_selectors.jurisdiction_names(paths=[*counts, city])
    today = timezone.localdate()
    per_10k = protocol_selectors.ruleset_for(on_date=today, path=city).quarantine_rooms_per_10k
    towns = [
        ReserveRow(
            path=path,
            name=names.get(path, path),
            population=counts[path],
            per_10k=per_10k,
            needed=rooms_needed(counts[path], per_10k),
            rooms=rooms_by_town.get(path, 0),
        )
        for path in sorted(counts)
    ]
    city_row = None
    if len(scope) <= len(city):
        population = sum(counts.values())
        city_row = CityReserve(
            path=city,
            name=names.get(city, city),
            population=population,
            per_10k=per_10k,
            needed=rooms_needed(population, per_10k),
            rooms=sum(rooms_by_town.values()),
        )
        # The towns' shares add up to the city's figure (each rounded up would not).
        shares = split_largest_remainder(city_row.needed, [t.population for t in towns])
        for town, share in zip(towns, shares, strict=True):
            town.needed = share
    return Reserve(city=city_row, towns=towns)


def split_largest_remainder(total: int, weights: list[int]) -> list[int]:
    """`total` split in proportion to `weights`, in whole numbers adding up to `total`
    (largest-remainder rounding; ties to the earlier weight)."""
    weight = sum(weights)
    if weight <= 0 or total <= 0:
        return [0 for _w in weights]
    floors = [total * w // weight for w in weights]
    left = total - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % weight), i))
    for i in order[:left]:
        floors[i] += 1
    return floors


# --- 7-day forecast ---------------------------------------------------------------------------


@dataclass
class ForecastDay:
    day: dt.date
    needed: int
    freed: int
    available: int

    @property
    def short(self) -> bool:
        return self.needed > self.available


@dataclass
class Forecast:
    occupied: int
    pipeline: int
    available: int
    days: list[ForecastDay]
    free: int = 0  # ready rooms without an open occupancy at the active sites seen

    @property
    def short(self) -> bool:
        return any(d.short for d in self.days)


def pipeline_count(*, user: User) -> int:
    """Contacts in the user's scope bound for centralised quarantine and not yet placed:
    close contacts, and secondary contacts where the rule set sends them to a site (a
    placement at home marked `needs_move` counts as not placed)."""
    if site_bound(user) or not has_capability(user, Capability.CONTACT_VIEW):
        return 0
    from fangkong.tracing.selectors import contacts as tracing_contacts

    today = timezone.localdate()
    classes = ["close"]
    path = scope_path(user)
    if path and protocol_selectors.ruleset_for(on_date=today, path=path).secondary_measure == (
        Measure.CENTRALISED
    ):
        classes.append("secondary")
    placed = Placement.objects.filter(
        person_id=OuterRef("person_id"), status__in=OPEN_STATUSES, needs_move=False
    )
    return (
        tracing_contacts.contacts_in_scope(user=user)
        .filter(classification__in=classes)
        .exclude(status__in=["released", "became_case", "outside", "not_found"])
        .filter(~Exists(placed))
        .count()
    )


def forecast(*, user: User, days: int = FORECAST_DAYS) -> Forecast:
    """Rooms needed on each of the next `days` days: the rooms in use by the user's
    placements, plus the contacts in the pipeline (placed today, one room each), less
    the rooms freed as quarantines end (a room frees the day after its last occupant's
    end date). `available`: rooms in service at the active sites the user sees."""
    today = timezone.localdate()
    ends = (
        placements_visible(user)
        .filter(status__in=OPEN_STATUSES, measure=Measure.CENTRALISED, occupancy__isnull=False)
        .values("occupancy_id")
        .annotate(end=Max("quarantine_end_on"))
        .order_by()
    )
    freed_on: dict[dt.date, int] = defaultdict(int)
    occupied = 0
    for row in ends:
        occupied += 1
        if row["end"] is not None:
            freed_on[max(row["end"] + dt.timedelta(days=1), today)] += 1
    pipeline = pipeline_count(user=user)
    available = (
        Room.objects.filter(site__in=sites_visible(user).filter(active=True))
        .exclude(state=RoomState.OUT_OF_SERVICE)
        .count()
    )
    taken = Occupancy.objects.filter(room=OuterRef("pk"), ended_at__isnull=True)
    free = Room.objects.filter(
        ~Exists(taken),
        site__in=sites_visible(user).filter(active=True),
        state=RoomState.READY,
    ).count()
    out = []
    freed = 0
    for k in range(days):
        day = today + dt.timedelta(days=k)
        freed += freed_on.get(day, 0)
        out.append(
            ForecastDay(
                day=day,
                needed=max(occupied + pipeline - freed, 0),
                freed=freed_on.get(day, 0),
                available=available,
            )
        )
    return Forecast(occupied=occupied, pipeline=pipeline, available=available, days=out, free=free)


def free_rooms_of_site(*, user: User, site: Site, limit: int = 200) -> list[Room]:
    """Ready rooms of the site without an open occupancy (for the manual assignment)."""
    taken = Occupancy.objects.filter(room=OuterRef("pk"), ended_at__isnull=True)
    site = site_get(user=user, pk=site.pk)
    return list(
        Room.objects.filter(~Exists(taken), site=site, state=RoomState.READY).order_by(
            "accessible", "building", "floor", "number"
        )[:limit]
    )


def room_of_site(*, user: User, site_id: int | None, pk: int) -> Room | None:
    """A room of a site the user sees (None when not there)."""
    if site_id is None:
        return None
    site = site_get(user=user, pk=site_id)
    return Room.objects.filter(site=site, pk=pk).select_related("site").first()


def places_without_site(*, user: User) -> list[tuple[int, str]]:
    """(place id, name) of the quarantine_site places in the user's city that are not
    sites yet: what a new site may be made of (site.manage)."""
    from fangkong.areas.choices import PlaceKind

    path = scope_path(user)
    if not path or site_bound(user) or not has_capability(user, Capability.SITE_MANAGE):
        return []
    rows = area_selectors.place_rows_under(path=path, kind=PlaceKind.QUARANTINE_SITE)
    taken = set(
        Site.objects.filter(place_id__in=[pk for pk, _p in rows]).values_list("place_id", flat=True)
    )
    free = [pk for pk, _p in rows if pk not in taken]
    names = area_selectors.place_names(pks=free)
    return [(pk, names.get(pk, str(pk))) for pk in free]


def can_set_room_state(user: User, site: Site) -> bool:
    if has_capability(user, Capability.SITE_MANAGE):
        return True
    return has_capability(user, Capability.PLACEMENT_CARE) and (
        getattr(user, "place_id", None) == site.place_id
    )
