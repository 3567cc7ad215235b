"""Quarantine sites, rooms and placements built through `fangkong.quarantine.services`.

site_with_rooms(tree_or_jurisdiction_or_place, rooms=4)   -> Site (site_create +
                                        rooms_create: building "1", one floor)
placed_contact(jurisdiction, site=site)                   -> Placement (a close contact
                                        of a case, placed in the first free room)
free_room(site)                                            -> the first ready room
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from .actors import actor_or_admin

_serial = itertools.count(1)


def _jurisdiction_of(where: Any) -> Any:
    if hasattr(where, "town_a"):  # the `tree` fixture
        return where.town_a
    return where


def _home_of(where: Any) -> Any:
    """Where a person lives: `where` if it is a community or grid, else its first
    community (persons are registered to communities)."""
    where = _jurisdiction_of(where)
    if where.level in ("community", "grid"):
        return where
    from fangkong.areas.models import Jurisdiction

    home = (
        Jurisdiction.objects.filter(path__startswith=where.path, level="community")
        .order_by("path")
        .first()
    )
    if home is None:
        raise LookupError(f"no community under {where.path}")
    return home


def site_with_rooms(
    where: Any,
    *,
    rooms: int = 4,
    floors: int = 1,
    building: str = "1",
    kind: str = "single",
    beds: int = 1,
    accessible_per_floor: int = 0,
    name: str | None = None,
    doctor_name: str = "李医生",
    actor: Any = None,
) -> Any:
    """A quarantine site with `rooms` rooms on each of `floors` floors of `building`.

    `where` is a place of kind quarantine_site, a jurisdiction (a new place is made
    there) or the `tree` fixture (its town A)."""
    from fangkong.quarantine.services.sites import rooms_create, site_create

    from .areas import place

    who = actor_or_admin(actor)
    if getattr(where, "kind", None) == "quarantine_site":
        site_place = where
    else:
        n = next(_serial)
        site_place = place(
            _jurisdiction_of(where), "quarantine_site", name or f"隔离酒店{n}", actor=who
        )
    site = site_create(actor=who, place=site_place, doctor_name=doctor_name)
    if rooms:
        rooms_create(
            actor=who,
            site=site,
            building=building,
            floors=floors,
            rooms_per_floor=rooms,
            kind=kind,
            beds=beds,
            accessible_per_floor=accessible_per_floor,
        )
    return site


def more_rooms(
    site: Any, *, building: str, rooms: int, floors: int = 1, actor: Any = None, **kw: Any
) -> int:
    """Another building of rooms at `site` (rooms_create's keywords)."""
    from fangkong.quarantine.services.sites import rooms_create

    return rooms_create(
        actor=actor_or_admin(actor),
        site=site,
        building=building,
        floors=floors,
        rooms_per_floor=rooms,
        **kw,
    )


def free_room(site: Any, **filters: Any) -> Any:
    """The first ready room of `site` without an open occupancy."""
    from django.db.models import Exists, OuterRef

    from fangkong.quarantine.models import Occupancy, Room

    taken = Occupancy.objects.filter(room=OuterRef("pk"), ended_at__isnull=True)
    return (
        Room.objects.filter(~Exists(taken), site=site, state="ready", **filters)
        .order_by("building", "floor", "number")
        .first()
    )


def close_contact(
    jurisdiction: Any,
    *,
    case: Any = None,
    name: str | None = None,
    household: Any = None,
    classification: str = "close",
    exposed_on: dt.date | None = None,
    actor: Any = None,
) -> Any:
    """A contact of `case` (a new case reported now when None) living in `jurisdiction`,
    last exposed yesterday unless `exposed_on` says otherwise."""
    from .people import person
    from .tracing import contact, reported_case

    jurisdiction = _home_of(jurisdiction)
    if case is None:
        case = reported_case(person(jurisdiction, "病例甲"), actor=actor)
    who = person(jurisdiction, name or f"密接{next(_serial)}", household=household)
    return contact(
        who,
        case=case,
        classification=classification,
        exposed_on=exposed_on or timezone.localdate() - dt.timedelta(days=1),
        actor=actor,
    )


def placed_contact(
    jurisdiction: Any,
    *,
    site: Any = None,
    case: Any = None,
    room: Any = None,
    name: str | None = None,
    household: Any = None,
    classification: str = "close",
    exposed_on: dt.date | None = None,
    with_room: bool = True,
    actor: Any = None,
) -> Any:
    """A close contact of a case (see `close_contact`) placed through `placement_create`
    at `site` (a new site of 4 rooms in the same jurisdiction when None), in `room` or
    the first free room (`with_room=False`: no room yet). Returns the Placement."""
    from fangkong.quarantine.services.placements import placement_create

    jurisdiction = _jurisdiction_of(jurisdiction)
    contact = close_contact(
        jurisdiction,
        case=case,
        name=name,
        household=household,
        classification=classification,
        exposed_on=exposed_on,
        actor=actor,
    )
    if site is None:
        site = site_with_rooms(jurisdiction, rooms=4, actor=actor)
    if with_room and room is None:
        room = free_room(site)
    return placement_create(
        actor=actor_or_admin(actor),
        person=contact.person,
        contact=contact,
        measure="centralised",
        site=site,
        room=room if with_room else None,
    )
