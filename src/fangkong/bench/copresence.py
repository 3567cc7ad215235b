"""bench copresence: the co-presence contacts of a case with 20 stops, and secondary
contact expansion.

Product path: `tracing.services.contacts.copresence_for_stops` — the very function
`contacts_find_for_case` uses (scans.selectors.copresence_people: one statement joins the
stops to the (place_id, scanned_at) index and computes the union overlaps and the
per-person sums in the database; one row per person comes back). Baseline: the same
answer (every co-present person and their overlap minutes) by a DuckDB query that scans
ALL the scans, loaded once (untimed) into an in-memory DuckDB table from the same
database.

Data: the drill city in the configured database (DATABASE_URL), built with
`drill city --population N/10 --days 1` when the database has no scans, otherwise
reused as it is. Cases: `--cases` persons chosen deterministically (evenly spaced in id
order among persons with scans); each case's stops are its person's own scans, each
`[scan, scan + --stop-minutes]`, completed up to `--stops` with the scans of the
following persons (by id: usually the same household), as an investigator adds places
from the interview.

Secondary expansion: `--secondary-cases` cases (the same kind of persons, stops = their
own scans) are created with their contacts found by `contacts_find_for_case`, then
`secondary_contacts_find_for_case` is timed for each; all of it inside one transaction
that is rolled back, so the database is left as it was.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from fangkong.bench import Log, result

DESCRIPTION = "co-presence of a 20-stop case (product selector path vs DuckDB full scan)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scans", type=int, default=10_000_000, help="scans (10 per person)")
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--stops", type=int, default=20)
    parser.add_argument("--stop-minutes", type=int, default=60)
    parser.add_argument("--secondary-cases", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2022)


def run(options: dict[str, Any], log: Log) -> dict:
    from django.db import connection

    from fangkong.scans.models import VenueScan

    population = max(100, int(options["scans"]) // 10)
    _ensure_city(population=population, seed=int(options["seed"]), log=log)
    scans_total = VenueScan.objects.count()
    log(f"{scans_total:,} scans in the database ({connection.vendor})")

    from fangkong.tracing.services import contacts as contact_services

    tolerance = contact_services.default_tolerance()
    dwell = contact_services.dwell_minutes()
    stop_minutes = int(options["stop_minutes"])
    cases = _case_stops(
        count=int(options["cases"]), stops=int(options["stops"]), stop_minutes=stop_minutes
    )
    log(f"{len(cases)} cases with {int(options['stops'])} stops each")

    def product(case: tuple[int, list[Any]]) -> dict[int, int]:
        person_id, stops = case
        found = contact_services.copresence_for_stops(
            stops=stops, tolerance_minutes=tolerance, dwell=dwell, exclude_person_ids=[person_id]
        )
        return {pid: f.overlap_minutes for pid, f in found.items()}

    product(cases[0])  # warm the connection and caches once
    service_ms: list[float] = []
    answers: list[dict[int, int]] = []
    for case in cases:
        started = time.perf_counter()
        answers.append(product(case))
        service_ms.append((time.perf_counter() - started) * 1000)

    log("loading every scan into an in-memory DuckDB table (untimed)")
    duck, load_s = _duckdb_load()
    duck_ms: list[float] = []
    duck_answers: list[dict[int, int]] = []
    for person_id, stops in cases:
        started = time.perf_counter()
        duck_answers.append(_duckdb_copresence(duck, person_id, stops, tolerance, dwell))
        duck_ms.append((time.perf_counter() - started) * 1000)
    duck.close()
    same = answers == duck_answers

    secondary = _secondary_expansion(
        count=int(options["secondary_cases"]), stop_minutes=stop_minutes, log=log
    )
    return result(
        "copresence",
        scale={
            "scans": scans_total,
            "persons": _persons(),
            "cases": len(cases),
            "stops_per_case": int(options["stops"]),
            "stop_minutes": stop_minutes,
            "tolerance_minutes": tolerance,
            "dwell_minutes": dwell,
            "database": connection.vendor,
            "secondary_cases": secondary["cases"],
        },
        metrics={
            "service_ms_p50": round(statistics.median(service_ms), 3),
            "duckdb_ms_p50": round(statistics.median(duck_ms), 3),
            "contacts_p50": statistics.median(len(a) for a in answers),
            "service_ms_max": round(max(service_ms), 3),
            "duckdb_load_s": round(load_s, 2),
            "find_contacts_ms_p50": secondary["find_ms_p50"],
            "secondary_total_s": secondary["total_s"],
            "secondary_ms_p50": secondary["ms_p50"],
            "close_contacts_p50": secondary["close_p50"],
            "secondary_contacts_total": secondary["secondary_total"],
        },
        same_answer=same,
    )


def _persons() -> int:
    from fangkong.people.models import Person

    return Person.objects.count()


def _ensure_city(*, population: int, seed: int, log: Log) -> None:
    from fangkong.drill.city import drill_city_build
    from fangkong.scans.models import VenueScan

    if VenueScan.objects.exists():
        log("reusing the scans already in the database")
    else:
        log(f"building a drill city of {population:,} persons with 1 day of scans")
        drill_city_build(population=population, days=1, seed=seed)
    _vacuum_scans(log)


def _vacuum_scans(log: Log) -> None:
    """VACUUM ANALYZE the scans on PostgreSQL (untimed): what autovacuum does to a table
    some minutes after a bulk load; its visibility map lets co-presence read the
    (place_id, scanned_at, person_id) index alone."""
    from django.db import connection

    from fangkong.scans.models import VenueScan

    if connection.vendor != "postgresql":
        return
    table = connection.ops.quote_name(VenueScan._meta.db_table)
    # VACUUM cannot run in a transaction (the bench's own tests run in one): ANALYZE can.
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
    log(f"{command} of the scans (untimed)")
    with connection.cursor() as cursor:
        cursor.execute(f"{command} {table}")


def _case_persons(count: int, offset: int = 0) -> list[int]:
    """`count` persons with scans, evenly spaced in id order (deterministic)."""
    from fangkong.people.models import Person

    ids = list(Person.objects.order_by("pk").values_list("pk", flat=True))
    total = len(ids)
    if total == 0:
        raise RuntimeError("no persons: build a city with `fangkong drill city`")
    step = max(1, total // max(1, count + 1))
    chosen: list[int] = []
    position = step // 2 + offset
    while len(chosen) < count and position < total:
        chosen.append(ids[position])
        position += step
    return chosen


def _stops_for(person_id: int, *, stops: int | None, stop_minutes: int) -> list[Any]:
    from fangkong.scans.models import VenueScan
    from fangkong.scans.selectors import StopSpan

    length = dt.timedelta(minutes=stop_minutes)
    rows = list(
        VenueScan.objects.filter(person_id__gte=person_id)
        .order_by("person_id", "scanned_at", "pk")
        .values_list("person_id", "place_id", "scanned_at")[: stops or 200]
    )
    if stops is None:
        rows = [r for r in rows if r[0] == person_id]
    return [StopSpan(place_id=p, start=t, end=t + length) for _, p, t in rows]


def _case_stops(*, count: int, stops: int, stop_minutes: int) -> list[tuple[int, list[Any]]]:
    return [
        (pid, _stops_for(pid, stops=stops, stop_minutes=stop_minutes))
        for pid in _case_persons(count)
    ]


def _duckdb_load() -> tuple[Any, float]:
    """Every scan as (person_id, place_id, t = epoch seconds) in an in-memory DuckDB."""
    import duckdb
    from django.db import connection

    from fangkong.scans.models import VenueScan

    started = time.perf_counter()
    table = connection.ops.quote_name(VenueScan._meta.db_table)
    with tempfile.TemporaryDirectory(prefix="fk-bench-copresence-") as tmp:
        path = Path(tmp) / "scans.csv"
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                sql = (
                    f"COPY (SELECT person_id, place_id, "  # noqa: S608
                    f"extract(epoch from scanned_at)::bigint FROM {table}) TO STDOUT"
                )
                with path.open("wb") as out, cursor.cursor.copy(sql) as copy:
                    for block in copy:
                        out.write(block)
                delimiter = "\t"
            else:
                cursor.execute(
                    f"SELECT person_id, place_id, CAST(strftime('%%s', scanned_at) AS INTEGER) "  # noqa: S608
                    f"FROM {table}",
                    [],
                )
                with path.open("w", newline="") as out:
                    writer = csv.writer(out, delimiter="\t")
                    while batch := cursor.fetchmany(100_000):
                        writer.writerows(batch)
                delimiter = "\t"
        duck = duckdb.connect(":memory:")
        duck.execute(f"SET threads = {max(1, os.cpu_count() or 1)}")
        duck.execute(
            "CREATE TABLE scans AS SELECT * FROM read_csv(?, delim = ?, header = false, "
            "columns = {'person_id': 'BIGINT', 'place_id': 'BIGINT', 't': 'BIGINT'})",
            [str(path), delimiter],
        )
    return duck, time.perf_counter() - started


DUCKDB_QUERY = """
WITH stops AS (
    SELECT * FROM (VALUES {values}) AS s(idx, place_id, lo, hi)
),
m AS (
    SELECT st.idx, sc.person_id,
           greatest(sc.t, st.lo) AS a, least(sc.t + $dwell, st.hi) AS b
    FROM scans sc JOIN stops st
      ON sc.place_id = st.place_id AND sc.t BETWEEN st.lo - $dwell AND st.hi
    WHERE sc.person_id <> $person
),
o AS (
    SELECT idx, person_id, a, b,
           max(b) OVER (PARTITION BY idx, person_id ORDER BY a, b
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
    FROM m
),
per_stop AS (
    SELECT idx, person_id,
           floor(sum(greatest(0, b - greatest(a, coalesce(reach, a)))) / 60)::BIGINT AS mins
    FROM o GROUP BY idx, person_id
)
SELECT person_id, sum(mins)::BIGINT FROM per_stop GROUP BY person_id
"""


def _duckdb_copresence(
    duck: Any, person_id: int, stops: list[Any], tolerance: int, dwell: int
) -> dict[int, int]:
    tol = tolerance * 60
    values = ", ".join(
        f"({i}, {int(s.place_id)}, {int(s.start.timestamp()) - tol}, "
        f"{int(s.end.timestamp()) + tol})"
        for i, s in enumerate(stops)
    )
    rows = duck.execute(
        DUCKDB_QUERY.format(values=values), {"dwell": dwell * 60, "person": person_id}
    ).fetchall()
    return {int(pid): int(mins) for pid, mins in rows}


class _Rollback(Exception):
    pass


def _secondary_expansion(*, count: int, stop_minutes: int, log: Log) -> dict[str, Any]:
    """Create `count` cases with their contacts, time secondary expansion; roll back."""
    empty: dict[str, Any] = {
        "cases": 0,
        "find_ms_p50": None,
        "total_s": None,
        "ms_p50": None,
        "close_p50": None,
        "secondary_total": 0,
    }
    if count <= 0:
        return empty
    from django.db import transaction

    from fangkong.accounts.models import User
    from fangkong.accounts.roles import Role
    from fangkong.areas.models import Jurisdiction
    from fangkong.people.models import Person
    from fangkong.protocol.selectors import ruleset_for
    from fangkong.tracing.models import Case, ContactClass, Investigation, ItineraryStop
    from fangkong.tracing.services import contacts as contact_services

    outcome: dict[str, Any] = dict(empty)
    try:
        with transaction.atomic():
            root = Jurisdiction.objects.filter(parent__isnull=True).order_by("path").first()
            if root is None:
                return empty
            actor = User.objects.create_user(
                username="bench-copresence",
                password=None,
                role=Role.INVESTIGATOR,
                jurisdiction=root,
                scope_path=root.path,
            )
            persons = _case_persons(count, offset=1)
            cases: list[Case] = []
            for n, pid in enumerate(persons):
                person = Person.objects.get(pk=pid)
                stops = _stops_for(pid, stops=None, stop_minutes=stop_minutes)
                if not stops:
                    continue
                day = stops[-1].end.date()
                rs = ruleset_for(on_date=day, path=person.jurisdiction_path)
                reported = stops[-1].end + dt.timedelta(hours=2)
                case = Case.objects.create(
                    number=f"BENCH-{n:05d}",
                    person=person,
                    jurisdiction_path=person.jurisdiction_path,
                    kind="asymptomatic",
                    first_positive_sampled_on=day,
                    reported_at=reported,
                    ruleset=rs,
                    lookback_start=day - dt.timedelta(days=rs.contact_lookback_days),
                    core_facts_due_at=reported + dt.timedelta(hours=4),
                    report_due_at=reported + dt.timedelta(hours=24),
                )
                investigation = Investigation.objects.create(case=case, started_at=reported)
                ItineraryStop.objects.bulk_create(
                    ItineraryStop(
                        investigation=investigation,
                        place_id=s.place_id,
                        start=s.start,
                        end=s.end,
                        source="scan",
                        confirmed=True,
                    )
                    for s in stops
                )
                cases.append(case)
            log(f"secondary expansion: finding the contacts of {len(cases)} cases")
            find_ms: list[float] = []
            for case in cases:
                started = time.perf_counter()
                contact_services.contacts_find_for_case(actor=actor, case=case)
                find_ms.append((time.perf_counter() - started) * 1000)
            close_counts = [
                len(contact_services.close_contacts_of_case(case)) for case in cases[:20]
            ]
            log("secondary expansion: timing secondary_contacts_find_for_case")
            ms: list[float] = []
            secondary_total = 0
            begun = time.perf_counter()
            for case in cases:
                started = time.perf_counter()
                found = contact_services.secondary_contacts_find_for_case(actor=actor, case=case)
                ms.append((time.perf_counter() - started) * 1000)
                secondary_total += found.by_class.get(ContactClass.SECONDARY, 0)
                if len(ms) % 10 == 0:
                    log(f"  {len(ms)} cases expanded, {time.perf_counter() - begun:.1f} s")
            total = time.perf_counter() - begun
            outcome = {
                "cases": len(cases),
                "find_ms_p50": round(statistics.median(find_ms), 3) if find_ms else None,
                "total_s": round(total, 3),
                "ms_p50": round(statistics.median(ms), 3) if ms else None,
                "close_p50": statistics.median(close_counts) if close_counts else None,
                "secondary_total": secondary_total,
            }
            raise _Rollback
    except _Rollback:
        pass
    return outcome
