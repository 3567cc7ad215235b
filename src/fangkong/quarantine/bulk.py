"""Set-based paths of quarantine: a built city's sites and rooms.

`site_bulk_create` and `room_bulk_create` lay the sites and rooms of a synthetic city
(the drill city) in a few INSERTs, with the ids the caller gives (deterministic builds).
No actor and no audit: a build step, not a user's action, like testing's
`points_create_for_places` (an account bound to the city, needed by the services'
scope checks, would keep the city from being rebuilt). A user adds a site and its rooms
through `services.sites` (`site_create`, `rooms_create`), audited. The rows go with the
city through `quarantine_delete_under`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from django.db import transaction

from fangkong.quarantine.choices import RoomKind
from fangkong.quarantine.models import HomeCheckIn, Room, Site


def _batched(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def site_bulk_create(*, rows: Iterable[dict[str, Any]], batch_size: int = 500) -> int:
    """Rows: id, place_id, jurisdiction_path, name, doctor_name (optional), note
    (optional). One site per place (the place must be of kind quarantine_site)."""
    written = 0
    for chunk in _batched(rows, batch_size):
        with transaction.atomic():
            Site.objects.bulk_create([Site(**row) for row in chunk])
        written += len(chunk)
    return written


def room_bulk_create(*, rows: Iterable[dict[str, Any]], batch_size: int = 2000) -> int:
    """Rows: id, site_id, building, floor, number, kind, beds, accessible. A single room
    has one bed; an accessible room is of kind accessible (the table's constraints)."""
    written = 0
    for chunk in _batched(rows, batch_size):
        objs = []
        for row in chunk:
            room = Room(**row)
            if room.kind == RoomKind.SINGLE:
                room.beds = 1
            objs.append(room)
        with transaction.atomic():
            Room.objects.bulk_create(objs)
        written += len(chunk)
    return written


def home_checkins_bulk_create(*, rows: Iterable[dict[str, Any]], batch_size: int = 2000) -> int:
    """Rows: placement_id, on_date, temperature (or None), note, checked_at,
    checked_by_id. The drill's daily check-ins on a big city's persons at home, where
    one `services.care.home_checkin_record` call each (a locked read, an insert and an
    audit event) would take minutes; a row already there for the day is skipped (the
    table's one-a-day constraint). Returns the rows offered."""
    written = 0
    for chunk in _batched(rows, batch_size):
        with transaction.atomic():
            HomeCheckIn.objects.bulk_create(
                [HomeCheckIn(**row) for row in chunk], ignore_conflicts=True
            )
        written += len(chunk)
    return written
