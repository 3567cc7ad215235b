"""Reads of venue scans. Scans carry no personal data beyond ids; callers that show them
scope by the person or case they already resolved through a scoped selector."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

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


def _epoch_sql() -> RawSQL:
    """scanned_at as float seconds since the epoch: rows arrive as floats, not datetimes
    (parsing ten thousand aware datetimes costs more than the indexed query itself)."""
    if connection.vendor == "postgresql":
        return RawSQL("EXTRACT(EPOCH FROM scanned_at)::float8", ())
    # SQLite stores UTC text 'YYYY-MM-DD HH:MM:SS[.ffffff]': whole seconds from %s plus
    # the fraction (millisecond precision) from %f.
    return RawSQL(
        "CAST(strftime('%%s', scanned_at) AS REAL)"
        " + (strftime('%%f', scanned_at) - CAST(strftime('%%S', scanned_at) AS REAL))",
        (),
    )


def _moment(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC)


def _union_seconds(times: list[float], low: float, high: float, dwell: float) -> float:
    """Seconds of the union of [t, t + dwell] clipped to [low, high] (0.0 when touching);
    the same arithmetic as tracing.rules.contacts.overlap_seconds, on epoch floats."""
    if len(times) == 1:
        t = times[0]
        return max(0.0, min(t + dwell, high) - max(t, low))
    total = 0.0
    reach: float | None = None
    for a, b in sorted((max(t, low), min(t + dwell, high)) for t in times):
        begin = a if reach is None else max(a, reach)
        if b > begin:
            total += b - begin
        reach = b if reach is None else max(reach, b)
    return total


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
    from fangkong.tracing.rules.contacts import copresence_window

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
    bounds = [(w.low.timestamp(), w.high.timestamp()) for w in windows]
    tol = tolerance_minutes * 60.0
    dwell = dwell_minutes * 60.0
    # (stop index) -> person -> scan times (epoch seconds)
    found: list[dict[int, list[float]]] = [{} for _ in stops]
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
        rows = (
            VenueScan.objects.filter(condition)
            .annotate(epoch=_epoch_sql())
            .values_list("place_id", "person_id", "epoch")
        )
        for place_id, person_id, epoch in rows:
            if person_id in excluded:
                continue
            for i in by_place.get(place_id, ()):
                low, high = bounds[i]
                # Compare with a microsecond of slack: the float epoch of a time equal to
                # a bound may differ from the bound's own float by rounding.
                if low - 1e-6 <= epoch <= high + 1e-6:
                    found[i].setdefault(person_id, []).append(epoch)
    answer: list[list[CoPresence]] = []
    for stop, persons in zip(stops, found, strict=True):
        low = stop.start.timestamp() - tol
        high = stop.end.timestamp() + tol
        hits: list[CoPresence] = []
        for person_id, times in persons.items():
            seconds = _union_seconds(times, low, high, dwell)
            hits.append(
                CoPresence(
                    person_id=person_id,
                    first_scan=_moment(min(times)),
                    overlap_minutes=int((seconds + 1e-6) // 60),
                    last_scan=_moment(max(times)),
                )
            )
        hits.sort(key=lambda h: (-h.overlap_minutes, h.person_id))
        answer.append(hits)
    return answer
