"""Reads of venue scans. Scans carry no personal data beyond ids; callers that show them
scope by the person or case they already resolved through a scoped selector."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Q

from fangkong.scans.models import VenueScan


@dataclass(frozen=True)
class PersonScan:
    place_id: int
    scanned_at: dt.datetime


def person_scans(*, person_id: int, since: dt.datetime, until: dt.datetime) -> list[PersonScan]:
    """One person's scans in [since, until), oldest first (served by the
    (person_id, scanned_at) index)."""
    rows = (
        VenueScan.objects.filter(person_id=person_id, scanned_at__gte=since, scanned_at__lt=until)
        .order_by("scanned_at", "id")
        .values_list("place_id", "scanned_at")
    )
    return [PersonScan(place_id=place_id, scanned_at=at) for place_id, at in rows]


# --- Co-presence (时空伴随): who scanned the same venue while a case was there -----------
# The overlap arithmetic is the pure rule of tracing (fangkong.tracing.rules.contacts,
# no ORM, imported where used); this module owns only the indexed reads.


@dataclass(frozen=True)
class CoPresence:
    """One person co-present with one stop: first and last matching scan, and the minutes
    of their presence (union of [scan, scan + dwell]) inside the stop widened by the
    tolerance (0 for a span that only touches it)."""

    person_id: int
    first_scan: dt.datetime
    overlap_minutes: int
    last_scan: dt.datetime


@dataclass(frozen=True)
class StopSpan:
    """A case's stop at a venue: the place and the time span."""

    place_id: int
    start: dt.datetime
    end: dt.datetime


COPRESENCE_BATCH = 200


def copresence(
    *,
    place_id: int,
    start: dt.datetime,
    end: dt.datetime,
    tolerance_minutes: int,
    dwell_minutes: int,
    exclude_person_ids: Iterable[int] = (),
) -> list[CoPresence]:
    """Everyone who scanned `place_id` co-present with the stop [start, end], ranked by
    overlap (longest first, then person id). One indexed range query on
    (place_id, scanned_at): `scanned_at BETWEEN start - tol - dwell AND end + tol`."""
    return copresence_stops(
        stops=[StopSpan(place_id=place_id, start=start, end=end)],
        tolerance_minutes=tolerance_minutes,
        dwell_minutes=dwell_minutes,
        exclude_person_ids=exclude_person_ids,
    )[0]


def copresence_stops(
    *,
    stops: Sequence[StopSpan],
    tolerance_minutes: int,
    dwell_minutes: int,
    exclude_person_ids: Iterable[int] = (),
    batch_size: int = COPRESENCE_BATCH,
) -> list[list[CoPresence]]:
    """`copresence` for many stops, answered per stop in the order given. Each stop is
    one indexed range on (place_id, scanned_at); up to `batch_size` ranges go to the
    database as one statement (an OR of ranges: a BitmapOr of index scans on PostgreSQL,
    a multi-index OR on SQLite), so 20 stops cost one round trip, not 20."""
    from fangkong.tracing.rules.contacts import copresence_window, overlap_minutes

    excluded = set(exclude_person_ids)
    windows = [
        copresence_window(
            start=s.start,
            end=s.end,
            tolerance_minutes=tolerance_minutes,
            dwell_minutes=dwell_minutes,
        )
        for s in stops
    ]
    # (stop index) -> person -> scan times
    found: list[dict[int, list[dt.datetime]]] = [{} for _ in stops]
    for first in range(0, len(stops), batch_size):
        indexes = range(first, min(first + batch_size, len(stops)))
        by_place: dict[int, list[int]] = {}
        ranges: list[Q] = []
        for i in indexes:
            place = stops[i].place_id
            w = windows[i]
            by_place.setdefault(place, []).append(i)
            ranges.append(Q(place_id=place, scanned_at__gte=w.low, scanned_at__lte=w.high))
        # One flat OR (building it with |= would copy the tree at every step).
        condition = Q(*ranges, _connector=Q.OR)
        rows = VenueScan.objects.filter(condition).values_list(
            "place_id", "person_id", "scanned_at"
        )
        for place_id, person_id, scanned_at in rows:
            if person_id in excluded:
                continue
            for i in by_place.get(place_id, ()):
                w = windows[i]
                if w.low <= scanned_at <= w.high:
                    found[i].setdefault(person_id, []).append(scanned_at)
    answer: list[list[CoPresence]] = []
    for stop, persons in zip(stops, found, strict=True):
        hits: list[CoPresence] = []
        for person_id, times in persons.items():
            minutes = overlap_minutes(
                times,
                start=stop.start,
                end=stop.end,
                tolerance_minutes=tolerance_minutes,
                dwell_minutes=dwell_minutes,
            )
            if minutes is None:  # cannot happen inside the window; kept for safety
                continue
            hits.append(
                CoPresence(
                    person_id=person_id,
                    first_scan=min(times),
                    overlap_minutes=minutes,
                    last_scan=max(times),
                )
            )
        hits.sort(key=lambda h: (-h.overlap_minutes, h.person_id))
        answer.append(hits)
    return answer
