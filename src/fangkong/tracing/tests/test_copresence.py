"""The co-presence query (scans.selectors.copresence) against real scan rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.scans.selectors import StopSpan, copresence, copresence_stops
from fangkong.testkit import areas, people, tracing
from fangkong.testkit.clock import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def venue(tree: Any) -> Any:
    return areas.place(tree.community_a)


def find(venue: Any, tol: int = 0, **kw: Any) -> dict[int, int]:
    found = copresence(
        place_id=venue.pk,
        start=at(4, 10),
        end=at(4, 11),
        tolerance_minutes=tol,
        dwell_minutes=30,
        **kw,
    )
    return {c.person_id: c.overlap_minutes for c in found}


def test_overlapping_touching_and_non_overlapping(tree: Any, venue: Any) -> None:
    inside, touching, before, after, elsewhere = (people.person(tree.community_a) for _ in range(5))
    tracing.scan(inside, venue, at(4, 10, 20))
    tracing.scan(touching, venue, at(4, 9, 30))  # present 9:30-10:00: touches the stop
    tracing.scan(before, venue, at(4, 9, 29))
    tracing.scan(after, venue, at(4, 11, 1))
    tracing.scan(elsewhere, areas.place(tree.community_a), at(4, 10, 20))
    assert find(venue) == {inside.pk: 30, touching.pk: 0}


def test_tolerance_brings_in_near_misses(tree: Any, venue: Any) -> None:
    late = people.person(tree.community_a)
    tracing.scan(late, venue, at(4, 11, 10))
    assert find(venue) == {}
    assert find(venue, tol=15) == {late.pk: 5}


def test_ranked_by_overlap_and_excludes(tree: Any, venue: Any) -> None:
    a, b, case_person = (people.person(tree.community_a) for _ in range(3))
    tracing.scan(a, venue, at(4, 10, 50))
    tracing.scan(b, venue, at(4, 10, 5))
    tracing.scan(b, venue, at(4, 10, 20))  # union 10:05-10:50 = 45
    tracing.scan(case_person, venue, at(4, 10))
    found = copresence(
        place_id=venue.pk,
        start=at(4, 10),
        end=at(4, 11),
        tolerance_minutes=0,
        dwell_minutes=30,
        exclude_person_ids=[case_person.pk],
    )
    assert [(c.person_id, c.overlap_minutes) for c in found] == [(b.pk, 45), (a.pk, 10)]
    assert found[0].first_scan == at(4, 10, 5)
    assert found[0].last_scan == at(4, 10, 20)


def test_many_stops_in_one_statement(tree: Any, venue: Any) -> None:
    other = areas.place(tree.community_a)
    p = people.person(tree.community_a)
    tracing.scan(p, venue, at(4, 10, 10))
    tracing.scan(p, other, at(4, 15, 0))
    stops = [
        StopSpan(venue.pk, at(4, 10), at(4, 11)),
        StopSpan(other.pk, at(4, 14, 45), at(4, 15, 10)),
        StopSpan(other.pk, at(4, 18), at(4, 19)),
    ]
    with CaptureQueriesContext(connection) as ctx:
        per_stop = copresence_stops(stops=stops, tolerance_minutes=0, dwell_minutes=30)
    assert len(ctx.captured_queries) == 1
    assert [[(c.person_id, c.overlap_minutes) for c in s] for s in per_stop] == [
        [(p.pk, 30)],
        [(p.pk, 10)],
        [],
    ]


@pytest.mark.postgres
def test_postgres_uses_the_place_time_index(tree: Any, venue: Any) -> None:
    from fangkong.scans.models import VenueScan
    from fangkong.scans.services import scans_bulk_insert
    from fangkong.tracing.rules.contacts import copresence_window

    # A table with realistic spread (many persons, many places, a day of times) and fresh
    # statistics, so that the planner's choice reflects the indexes, not an empty table.
    base = at(4, 0)
    scans_bulk_insert(
        (
            person,
            venue.pk if person % 50 == 0 else 100_000 + person % 200,
            base + dt.timedelta(minutes=person % 1440),
            base.date(),
            "330483102001",
        )
        for person in range(1, 5001)
    )
    w = copresence_window(start=at(4, 10), end=at(4, 11), tolerance_minutes=15, dwell_minutes=30)
    qs = VenueScan.objects.filter(place_id=venue.pk, scanned_at__gte=w.low, scanned_at__lte=w.high)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE scans_venuescan")
        cursor.execute("SET enable_seqscan = off")
        plan = qs.explain()
        cursor.execute("RESET enable_seqscan")
    assert "scan_place_time_idx" in plan


def test_bench_copresence_contract_at_small_scale() -> None:
    """`fangkong bench copresence --scans N --json`: last line one JSON object, the
    product path and the DuckDB full scan agree."""
    import io
    import json

    from django.core.management import call_command

    from fangkong.tracing.models import Case

    out = io.StringIO()
    call_command(
        "bench",
        "copresence",
        "--json",
        "--scans",
        "3000",
        "--cases",
        "4",
        "--secondary-cases",
        "2",
        stdout=out,
    )
    outcome = json.loads(out.getvalue().strip().splitlines()[-1])
    assert outcome["bench"] == "copresence"
    assert outcome["same_answer"] is True
    assert outcome["scale"]["scans"] > 2500
    assert outcome["scale"]["cases"] == 4
    metrics = outcome["metrics"]
    for key in ("service_ms_p50", "duckdb_ms_p50", "contacts_p50", "secondary_ms_p50"):
        assert metrics[key] > 0, key
    assert outcome["scale"]["secondary_cases"] == 2
    assert not Case.objects.exists()  # the secondary expansion rolled back


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_database_arithmetic_matches_the_pure_rules(tree: Any, seed: int) -> None:
    """The database computes overlaps and merges (scans.selectors.copresence_people); the
    pure rules (tracing.rules.contacts) are the oracle, on random scans and stops:
    overlapping, touching, repeated and non-overlapping, several venues, several groups."""
    import random

    from fangkong.scans.selectors import copresence_people
    from fangkong.scans.services import scans_bulk_insert
    from fangkong.tracing.rules import contacts as rules

    rnd = random.Random(seed)
    places = [areas.place(tree.community_a) for _ in range(3)]
    persons = list(range(1, 41))
    base = at(4, 8)
    scans = [
        (
            rnd.choice(persons),
            rnd.choice(places).pk,
            base + dt.timedelta(minutes=rnd.randrange(0, 8 * 60), seconds=rnd.choice([0, 30])),
        )
        for _ in range(400)
    ]
    scans_bulk_insert((p, pl, t, t.date(), "330483102001") for p, pl, t in scans)
    stops = []
    for _ in range(12):
        start = base + dt.timedelta(minutes=rnd.randrange(0, 7 * 60))
        stops.append(StopSpan(rnd.choice(places).pk, start, start + dt.timedelta(minutes=45)))
    groups = [i % 3 for i in range(len(stops))]
    tol, dwell = rnd.choice([0, 15]), 30

    found = copresence_people(
        stops=stops,
        tolerance_minutes=tol,
        dwell_minutes=dwell,
        groups=groups,
        exclude_person_ids=[7],
        batch_size=5,  # also merges hits split across statements
    )

    expected: dict[int, dict[int, Any]] = {}
    for group in set(groups):
        hits = []
        for stop, g in zip(stops, groups, strict=True):
            if g != group:
                continue
            for person in persons:
                if person == 7:
                    continue
                times = [t for p, pl, t in scans if p == person and pl == stop.place_id]
                minutes = rules.overlap_minutes(
                    times,
                    start=stop.start,
                    end=stop.end,
                    tolerance_minutes=tol,
                    dwell_minutes=dwell,
                )
                if minutes is None:
                    continue
                w = rules.copresence_window(
                    start=stop.start, end=stop.end, tolerance_minutes=tol, dwell_minutes=dwell
                )
                inside = [t for t in times if w.low <= t <= w.high]
                hits.append(rules.StopHit(person, stop.place_id, min(inside), max(inside), minutes))
        merged = rules.merge_stop_hits(hits)
        if merged:
            expected[group] = merged
    assert set(found) == set(expected)
    for group, hits in expected.items():
        got = found[group]
        assert set(got) == set(hits)
        for person, m in hits.items():
            h = got[person]
            assert (h.overlap_minutes, h.first_scan, h.last_scan) == (
                m.overlap_minutes,
                m.first_scan,
                m.last_scan,
            ), person
            assert h.place_ids == m.place_ids
            assert h.best_place_id == m.best_place_id

    # A minimum summed overlap keeps exactly the hits reaching it, whether a group's
    # stops fit in one statement (filtered in SQL) or are split (completed in Python).
    for batch_size in (5, 3):
        filtered = copresence_people(
            stops=stops,
            tolerance_minutes=tol,
            dwell_minutes=dwell,
            groups=groups,
            exclude_person_ids=[7],
            min_overlap_minutes=20,
            batch_size=batch_size,
        )
        want = {
            g: {p: h.overlap_minutes for p, h in hits.items() if h.overlap_minutes >= 20}
            for g, hits in found.items()
        }
        assert {
            g: {p: h.overlap_minutes for p, h in hits.items()} for g, hits in filtered.items()
        } == {g: hits for g, hits in want.items() if hits}
