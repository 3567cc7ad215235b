"""Reads of venue scans. Scans carry no personal data beyond ids; callers that show them
scope by the person or case they already resolved through a scoped selector."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

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
# The rule (tracing.rules.contacts) in short: a scan at t means presence over
# [t, t + dwell]; a stop [start, end] is widened by the tolerance; the two are co-present
# when the spans overlap or touch, i.e. start - tol - dwell <= t <= end + tol, which is
# one indexed range on (place_id, scanned_at) per stop. The overlap of one person at one
# stop is the union of their presence spans inside the widened stop, floored to whole
# minutes; one person over several stops is one hit with the minutes summed.
#
# All of that arithmetic runs in the database, in one set-based statement for a batch of
# stops (the same SQL on PostgreSQL and SQLite, and the shape a columnar engine runs too):
# only one row per person (or per stop and person) comes back to Python.


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


@dataclass(frozen=True)
class StopEvidence:
    """One stop through which a person was found: its index in the stops given, the
    place, the person's first scan there and their overlap minutes."""

    index: int
    place_id: int
    first_scan: dt.datetime
    overlap_minutes: int


@dataclass(frozen=True, slots=True)
class PersonCoPresence:
    """One person co-present with a group of stops (a case's itinerary, or one close
    contact's scans): overlap minutes summed over the stops, earliest first scan, latest
    last scan. Times stay epoch seconds until asked for; `stops` holds the per-stop
    evidence as (first scan epoch, stop index, place, minutes) tuples."""

    person_id: int
    overlap_minutes: int
    first_epoch: float
    last_epoch: float
    stops: tuple[tuple[float, int, int, int], ...]

    @property
    def first_scan(self) -> dt.datetime:
        return _moment(self.first_epoch)

    @property
    def last_scan(self) -> dt.datetime:
        return _moment(self.last_epoch)

    def evidence(self) -> list[StopEvidence]:
        """The stops, in order of the person's first scan there (then stop order)."""
        return [
            StopEvidence(index=i, place_id=p, first_scan=_moment(f), overlap_minutes=m)
            for f, i, p, m in sorted(self.stops)
        ]

    @property
    def place_ids(self) -> tuple[int, ...]:
        """Distinct places, in order of the first scan at each."""
        seen: dict[int, None] = {}
        for _f, _i, place, _m in sorted(self.stops):
            seen.setdefault(place, None)
        return tuple(seen)

    @property
    def best_place_id(self) -> int:
        """The place with the longest overlap (ties: the earliest first scan)."""
        best = min(sorted(self.stops), key=lambda s: -s[3])
        return best[2]


COPRESENCE_BATCH = 500


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


def _epoch_sql(column: str) -> str:
    """A timestamp column as float seconds since the epoch (rows and arithmetic stay
    numbers, not aware datetimes)."""
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM {column})::float8"
    # SQLite stores UTC text 'YYYY-MM-DD HH:MM:SS[.ffffff]': whole seconds from %s plus
    # the fraction (millisecond precision) from %f.
    return (
        f"(CAST(strftime('%%s', {column}) AS REAL)"
        f" + (strftime('%%f', {column}) - CAST(strftime('%%S', {column}) AS REAL)))"
    )


def _moment(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC)


def _check_minutes(tolerance_minutes: int, dwell_minutes: int) -> None:
    if tolerance_minutes < 0 or dwell_minutes < 0:
        raise ValueError("tolerance and dwell must not be negative")


def _copresence_sql(stop_count: int, excluded: int, tail: str) -> str:
    """The statement for `stop_count` stops given as parameters (idx, grp, place_id,
    scan_low, scan_high, low, high), then the excluded persons, then the dwell seconds.
    CTE `per_stop` has one row per stop and co-present person (idx, grp, place_id,
    person_id, first_t, last_t, mins); `tail` selects from it.

    The union of a person's presence spans at a stop: a = max(t, low) and
    b = min(t + dwell, high) both grow with t, so in order of t the furthest any earlier
    span reached is simply the previous span's end (LAG), and each span adds what it
    covers beyond that."""
    pg = connection.vendor == "postgresql"
    greatest, least = ("GREATEST", "LEAST") if pg else ("MAX", "MIN")
    if pg:
        first = (
            "(%s::int, %s::bigint, %s::bigint, %s::timestamptz, %s::timestamptz,"
            " %s::float8, %s::float8)"
        )
    else:
        first = "(%s, %s, %s, %s, %s, %s, %s)"
    values = ", ".join([first] + ["(%s, %s, %s, %s, %s, %s, %s)"] * (stop_count - 1))
    table = connection.ops.quote_name(VenueScan._meta.db_table)
    not_in = f" AND v.person_id NOT IN ({', '.join(['%s'] * excluded)})" if excluded else ""
    whole_minutes = "FLOOR" if pg else ""
    if pg:
        # A lateral subquery per stop: the planner cannot estimate a join on a range from
        # a VALUES list and would scan the whole table; per stop it is one index range
        # (OFFSET 0 keeps the subquery from being flattened back into that join).
        join = (
            f"CROSS JOIN LATERAL (SELECT person_id, scanned_at FROM {table}"  # noqa: S608
            " WHERE place_id = st.place_id AND scanned_at >= st.scan_low"
            f" AND scanned_at <= st.scan_high OFFSET 0) v WHERE TRUE{not_in}"
        )
    else:
        join = (
            f"JOIN {table} v ON v.place_id = st.place_id AND v.scanned_at >= st.scan_low"
            f" AND v.scanned_at <= st.scan_high{not_in}"
        )
    return f"""
WITH st(idx, grp, place_id, scan_low, scan_high, lo, hi) AS (VALUES {values}),
m AS (
    SELECT st.idx, st.grp, st.place_id, v.person_id, st.lo, st.hi,
           {_epoch_sql("v.scanned_at")} AS t
    FROM st {join}
),
spans AS (
    SELECT idx, grp, place_id, person_id, t,
           {greatest}(t, lo) AS a, {least}(t + %s, hi) AS b
    FROM m
),
reached AS (
    SELECT idx, grp, place_id, person_id, t, a, b,
           LAG(b) OVER (PARTITION BY idx, person_id ORDER BY t) AS reach
    FROM spans
),
per_stop AS (
    SELECT idx, grp, place_id, person_id, MIN(t) AS first_t, MAX(t) AS last_t,
           CAST({whole_minutes}((SUM({greatest}(0, b - {greatest}(a, COALESCE(reach, a))))
                + 0.000001) / 60) AS INTEGER) AS mins
    FROM reached GROUP BY idx, grp, place_id, person_id
)
{tail}"""  # noqa: S608 - only %s parameters and identifiers are interpolated


PER_STOP_ROWS = "SELECT idx, grp, place_id, person_id, first_t, last_t, mins FROM per_stop"


# Only the stops of persons whose overlap summed over the group reaches a minimum.
PER_STOP_ROWS_AT_LEAST = (
    "SELECT idx, grp, place_id, person_id, first_t, last_t, mins FROM ("
    " SELECT idx, grp, place_id, person_id, first_t, last_t, mins,"
    " SUM(mins) OVER (PARTITION BY grp, person_id) AS total FROM per_stop"
    ") AS summed WHERE total >= %s"
)


def _stop_params(
    stops: Sequence[StopSpan],
    groups: Sequence[int],
    indexes: Sequence[int],
    tolerance_minutes: int,
    dwell_minutes: int,
) -> list[Any]:
    adapt = connection.ops.adapt_datetimefield_value
    tol = dt.timedelta(minutes=tolerance_minutes)
    dwell = dt.timedelta(minutes=dwell_minutes)
    params: list[Any] = []
    for index, stop, group in zip(indexes, stops, groups, strict=True):
        if stop.end < stop.start:
            raise ValueError("a stop ends after it starts")
        low, high = stop.start - tol, stop.end + tol
        params += [
            index,
            group,
            stop.place_id,
            adapt(low - dwell),
            adapt(high),
            low.timestamp(),
            high.timestamp(),
        ]
    return params


def _run(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def copresence_stops(
    *,
    stops: Sequence[StopSpan],
    tolerance_minutes: int,
    dwell_minutes: int,
    exclude_person_ids: Iterable[int] = (),
    batch_size: int = COPRESENCE_BATCH,
) -> list[list[CoPresence]]:
    """`copresence` for many stops, answered per stop in the order given (each ranked by
    overlap, then person id). Up to `batch_size` stops go to the database as one
    statement, so 20 stops cost one round trip, not 20."""
    _check_minutes(tolerance_minutes, dwell_minutes)
    excluded = sorted(set(exclude_person_ids))
    answer: list[list[CoPresence]] = [[] for _ in stops]
    for first in range(0, len(stops), batch_size):
        batch = stops[first : first + batch_size]
        sql = _copresence_sql(len(batch), len(excluded), PER_STOP_ROWS)
        params = [
            *_stop_params(
                batch,
                [0] * len(batch),
                range(first, first + len(batch)),
                tolerance_minutes,
                dwell_minutes,
            ),
            *excluded,
            dwell_minutes * 60.0,
        ]
        for idx, _group, _place, person_id, first_t, last_t, mins in _run(sql, params):
            answer[idx].append(
                CoPresence(
                    person_id=person_id,
                    first_scan=_moment(first_t),
                    overlap_minutes=int(mins),
                    last_scan=_moment(last_t),
                )
            )
    for hits in answer:
        hits.sort(key=lambda h: (-h.overlap_minutes, h.person_id))
    return answer


def _group_batches(group_of: Sequence[int], batch_size: int) -> list[tuple[list[int], bool]]:
    """Stop indexes in batches of at most `batch_size`, each group's stops kept together
    (groups packed whole into batches). Returns (indexes, whole): `whole` is False for
    the pieces of a group larger than a batch, whose sums only Python can complete."""
    members: dict[int, list[int]] = {}
    for index, group in enumerate(group_of):
        members.setdefault(group, []).append(index)
    batches: list[tuple[list[int], bool]] = []
    current: list[int] = []
    for indexes in members.values():
        if len(indexes) > batch_size:
            for start in range(0, len(indexes), batch_size):
                batches.append((indexes[start : start + batch_size], False))
            continue
        if len(current) + len(indexes) > batch_size:
            batches.append((current, True))
            current = []
        current = current + indexes
    if current:
        batches.append((current, True))
    return batches


def copresence_people(
    *,
    stops: Sequence[StopSpan],
    tolerance_minutes: int,
    dwell_minutes: int,
    groups: Sequence[int] | None = None,
    exclude_person_ids: Iterable[int] = (),
    min_overlap_minutes: int = 0,
    batch_size: int = COPRESENCE_BATCH,
) -> dict[int, dict[int, PersonCoPresence]]:
    """Everyone co-present with the stops, one hit per person and group of stops
    (`groups[i]` names the group of stop i: one case's itinerary, or each close contact's
    scans in a secondary expansion; all stops are one group 0 by default). Returns
    group -> person -> hit, the overlaps summed over the group's stops; with
    `min_overlap_minutes`, only the hits whose sum reaches it (filtered in the database
    when a group's stops fit in one statement, so that a dense venue's crowd never
    reaches Python). One statement per batch of up to `batch_size` stops, groups kept
    whole; hits split across batches are merged here."""
    _check_minutes(tolerance_minutes, dwell_minutes)
    group_of = list(groups) if groups is not None else [0] * len(stops)
    if len(group_of) != len(stops):
        raise ValueError("one group per stop")
    excluded = sorted(set(exclude_person_ids))
    # group -> person -> [minutes, first, last, stops]; most persons meet one stop, so
    # the per-stop rows are merged here rather than by a second aggregate in SQL.
    merged: dict[int, dict[int, list[Any]]] = {}
    for indexes, whole in _group_batches(group_of, batch_size):
        batch = [stops[i] for i in indexes]
        at_least = min_overlap_minutes > 0 and whole
        tail = PER_STOP_ROWS_AT_LEAST if at_least else PER_STOP_ROWS
        sql = _copresence_sql(len(batch), len(excluded), tail)
        params = [
            *_stop_params(
                batch, [group_of[i] for i in indexes], indexes, tolerance_minutes, dwell_minutes
            ),
            *excluded,
            dwell_minutes * 60.0,
            *([min_overlap_minutes] if at_least else []),
        ]
        for idx, group, place_id, person_id, first_t, last_t, mins in _run(sql, params):
            hits = merged.get(group)
            if hits is None:
                hits = merged[group] = {}
            hit = hits.get(person_id)
            if hit is None:
                hits[person_id] = [mins, first_t, last_t, [(first_t, idx, place_id, mins)]]
            else:
                hit[0] += mins
                hit[1] = min(hit[1], first_t)
                hit[2] = max(hit[2], last_t)
                hit[3].append((first_t, idx, place_id, mins))
    found: dict[int, dict[int, PersonCoPresence]] = {}
    for group, hits in merged.items():
        kept = {
            pid: PersonCoPresence(pid, int(h[0]), h[1], h[2], tuple(h[3]))
            for pid, h in hits.items()
            if h[0] >= min_overlap_minutes
        }
        if kept:
            found[group] = kept
    return found


def scans_of_persons(
    *, person_ids: Sequence[int], since: dt.datetime, until: dt.datetime
) -> list[tuple[int, int, dt.datetime]]:
    """(person id, place id, scanned at) of these persons' scans from `since` to `until`
    (both included). One query; the caller chunks long id lists."""
    return list(
        VenueScan.objects.filter(
            person_id__in=list(person_ids), scanned_at__gte=since, scanned_at__lte=until
        ).values_list("person_id", "place_id", "scanned_at")
    )
