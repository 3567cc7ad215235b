"""bench coverage: the untested lists (应检未检) of every community of a round of a
million persons, 90% of them sampled.

Product path, timed (`service_ms`): what a command user's coverage page asks for —
`testing.selectors.coverage.untested_counts` (the untested count of every community:
two grouped index-only scans, rolled up from paths) plus
`testing.selectors.coverage.untested_page` (the first keyset page of one community's
untested persons, with person, household and grid loaded), for the community with the
most targets. Baseline, same run (`duckdb_ms`): the same answer by a DuckDB anti-join of
the round's targets and samples, loaded once (untimed) into an in-memory DuckDB.

Data: the persons already in the database (the first `--persons` by id, e.g. a drill
city), or a drill city of `--persons` built with no scans when there are fewer. Then a
round over the city whose target is those persons and, set-based (INSERT ... SELECT, no
row through Python): pooled tubes of 10 neighbours (consecutive targets) at one sampling
point and one sample for `--sampled-share` of the targets (every tenth target in id order
is left out, so exactly 90% by default), the tubes sampled over 24 hours in a permuted
order (j × a prime mod tubes) so that the samples reach the table in time order with the
communities interleaved, as they do from sync; then `--retests` second samples late in
the day. Deterministic; a run finds its round by name and reuses it when the counts are
right (a bench round of another shape is deleted).

`untested` is the product's total; `true_untested` the number of targets with no
sample counted by a plain SQL anti-join; `same_answer` says that the per-community counts
and the first page agree with DuckDB.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fangkong.bench import Log, result
from fangkong.core.paths import COMMUNITY_WIDTH, level_prefix_expr, level_prefix_sql

if TYPE_CHECKING:
    from fangkong.accounts.models import User

DESCRIPTION = "untested lists per community of a 1M-person round, 90% sampled (vs DuckDB)"
ROUND_NAME = "bench coverage"
POOL = 10
PAGE_SIZE = 50


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--sampled-share", type=float, default=0.9)
    parser.add_argument("--retests", type=int, default=9_000, help="second samples")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2022)


def run(options: dict[str, Any], log: Log) -> dict:
    from django.db import connection

    persons = int(options["persons"])
    share = float(options["sampled_share"])
    if not 0 < share <= 1:
        raise ValueError("--sampled-share must be in (0, 1]")
    _ensure_persons(persons, seed=int(options["seed"]), log=log)
    rnd, built = _ensure_round(
        persons=persons, share=share, retests=int(options["retests"]), log=log
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The visibility map lets the counts be index-only scans (VACUUM cannot run
            # inside a transaction, e.g. in a test: ANALYZE alone then).
            verb = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            for table in ("testing_roundtarget", "testing_sample", "testing_tube"):
                cursor.execute(f"{verb} {table}")

    from fangkong.testing.models import RoundTarget, Sample

    targets = RoundTarget.objects.filter(round=rnd).count()
    samples = Sample.objects.filter(round=rnd).count()
    true_untested = _true_untested(rnd.pk)
    log(f"round {rnd.pk}: {targets:,} targets, {samples:,} samples, {true_untested:,} untested")
    user = _bench_user()
    from fangkong.testing.selectors import coverage as selectors

    def product() -> tuple[dict[str, int], str, list[int]]:
        counts = selectors.untested_counts(user=user, rnd=rnd)
        community = _biggest_community(rnd)
        page = selectors.untested_page(user=user, rnd=rnd, community_path=community, size=PAGE_SIZE)
        rows = [(t.pk, t.person.name, t.person.id_masked) for t in page.items]
        return counts, community, [pk for pk, _, _ in rows]

    started = time.perf_counter()
    answer = product()
    first_ms = (time.perf_counter() - started) * 1000
    service_ms: list[float] = []
    for _ in range(max(1, int(options["repeat"]))):
        started = time.perf_counter()
        answer = product()
        service_ms.append((time.perf_counter() - started) * 1000)
    counts, community, page_ids = answer

    log("loading the round's targets and samples into an in-memory DuckDB (untimed)")
    duck, load_s = _duckdb_load(rnd.pk)
    duck_ms: list[float] = []
    duck_answer: tuple[dict[str, int], list[int]] = ({}, [])
    for _ in range(max(1, int(options["repeat"]))):
        started = time.perf_counter()
        duck_answer = _duckdb_untested(duck, community)
        duck_ms.append((time.perf_counter() - started) * 1000)
    duck.close()
    product_counts = {c: n for c, n in counts.items() if n}
    same = product_counts == duck_answer[0] and page_ids == duck_answer[1]
    untested = sum(counts.values())
    return result(
        "coverage",
        scale={
            "persons": targets,
            "sampled_persons": targets - true_untested,
            "samples": samples,
            "communities": len(counts),
            "page_size": PAGE_SIZE,
            "database": connection.vendor,
            "round_built_now": built,
        },
        metrics={
            "service_ms": round(statistics.median(service_ms), 3),
            "duckdb_ms": round(statistics.median(duck_ms), 3),
            "service_ms_first": round(first_ms, 3),
            "service_ms_max": round(max(service_ms), 3),
            "duckdb_load_s": round(load_s, 2),
            "untested": untested,
        },
        true_untested=true_untested,
        untested_matches=untested == true_untested,
        same_answer=same,
        target_service_ms=1000,
    )


# --- data ------------------------------------------------------------------------------


def _ensure_persons(persons: int, *, seed: int, log: Log) -> None:
    from fangkong.drill.city import drill_city_build
    from fangkong.people.models import Person

    have = Person.objects.count()
    if have >= persons:
        log(f"reusing {persons:,} of the {have:,} persons in the database")
        return
    log(f"building a drill city of {persons:,} persons (no scans)")
    drill_city_build(population=persons, days=0, seed=seed)


def _root() -> Any:
    from fangkong.areas.models import Jurisdiction

    root = Jurisdiction.objects.filter(parent__isnull=True).order_by("path").first()
    if root is None:
        raise RuntimeError("no city: build one with `fangkong drill city`")
    return root


def _bench_user() -> User:
    from fangkong.accounts.models import User
    from fangkong.accounts.roles import Role

    root = _root()
    user = User.objects.filter(username="bench-coverage").first()
    if user is None:
        user = User.objects.create_user(
            username="bench-coverage",
            password=None,
            role=Role.COMMAND,
            jurisdiction=root,
            scope_path=root.path,
        )
    return user


def _ensure_round(*, persons: int, share: float, retests: int, log: Log) -> tuple[Any, bool]:
    from django.db import transaction

    from fangkong.testing.models import Round, RoundTarget, Sample

    name = f"{ROUND_NAME} v2 {persons} {share} {retests}"
    sampled = persons - _left_out(persons, share)
    for stale in Round.objects.filter(name__startswith=ROUND_NAME).exclude(name=name):
        log(f"deleting the bench round {stale.pk} of another shape ({stale.name})")
        with transaction.atomic():
            _delete_round(stale)
    existing = Round.objects.filter(name=name).first()
    if existing is not None:
        if RoundTarget.objects.filter(round=existing).count() == persons and Sample.objects.filter(
            round=existing
        ).count() == sampled + min(retests, sampled):
            log(f"reusing round {existing.pk} ({name})")
            return existing, False
        log(f"round {existing.pk} is incomplete: building it again")
        _delete_round(existing)
    started = time.perf_counter()
    with transaction.atomic():
        rnd = _build_round(name=name, persons=persons, share=share, retests=min(retests, sampled))
    log(f"built round {rnd.pk} in {time.perf_counter() - started:.1f} s")
    return rnd, True


def _left_out(persons: int, share: float) -> int:
    """Targets with no sample: every k-th in id order, k = 1 / (1 - share)."""
    if share >= 1:
        return 0
    step = max(1, round(1 / (1 - share)))
    return persons // step


def _delete_round(rnd: Any) -> None:
    from fangkong.testing.models import RoundScope, RoundTarget, Sample, Tube

    Sample.objects.filter(round=rnd).delete()
    Tube.objects.filter(round=rnd).delete()
    RoundTarget.objects.filter(round=rnd).delete()
    RoundScope.objects.filter(round=rnd).delete()
    rnd.delete()


def _build_round(*, name: str, persons: int, share: float, retests: int) -> Any:
    from django.db import connection

    from fangkong.areas.models import Place
    from fangkong.protocol.models import RuleSet
    from fangkong.testing.models import Round, RoundScope, RoundStatus, SamplingPoint

    root = _root()
    start = dt.datetime(2022, 7, 10, 6, 0, tzinfo=dt.UTC)
    rnd = Round.objects.create(
        name=name,
        jurisdiction=root,
        jurisdiction_path=root.path,
        ruleset=RuleSet.objects.get(version="v9"),
        status=RoundStatus.OPEN,
        starts_at=start,
        deadline_at=start + dt.timedelta(hours=24),
        opened_at=start,
        target_count=persons,
    )
    RoundScope.objects.create(round=rnd, jurisdiction=root)
    place = Place.objects.create(
        kind="sampling_point",
        name=f"基准测试采样点{rnd.pk}",
        jurisdiction=root,
        jurisdiction_path=root.path,
    )
    point = SamplingPoint.objects.create(place=place, jurisdiction_path=root.path)
    step = 0 if share >= 1 else max(1, round(1 / (1 - share)))
    pg = connection.vendor == "postgresql"
    start_param: Any = start if pg else start.strftime("%Y-%m-%d %H:%M:%S")

    def moment(seconds_expr: str) -> str:
        """SQL for `start + <seconds_expr> seconds` (one %s: the start)."""
        if pg:
            return f"(%s::timestamptz + make_interval(secs => ({seconds_expr})))"
        return f"datetime(%s, '+' || CAST(({seconds_expr}) AS INTEGER) || ' seconds')"

    with connection.cursor() as cursor:
        # Targets: the first `persons` persons by id.
        cursor.execute(
            "INSERT INTO testing_roundtarget (round_id, person_id, jurisdiction_path, "
            "zone_level, pool_size) SELECT %s, id, jurisdiction_path, '', %s "
            "FROM people_person ORDER BY id LIMIT %s",
            [rnd.pk, POOL, persons],
        )
        # The sampled targets, numbered k = 0.. in id order (every step-th target, n,
        # left out); ten consecutive ones (neighbours: a household, a building) share
        # tube j = k / 10. Tubes are sampled in the order of slot(j) = j * STRIDE mod
        # tubes (a permutation): points all over the city work at once, so the samples
        # reach the table in time order, communities interleaved, as they do from sync.
        left_out = f"AND (n %% {step}) <> {step - 1}" if step else ""
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_sampled AS "  # noqa: S608 - fixed fragments, values bound
            "SELECT person_id, jurisdiction_path, "
            "ROW_NUMBER() OVER (ORDER BY person_id) - 1 AS k FROM ("
            "  SELECT person_id, jurisdiction_path, "
            "  ROW_NUMBER() OVER (ORDER BY person_id) - 1 AS n "
            "  FROM testing_roundtarget WHERE round_id = %s) t "
            f"WHERE 1 = 1 {left_out}",
            [rnd.pk],
        )
        cursor.execute("SELECT COUNT(*) FROM bench_sampled")
        sampled = int(cursor.fetchone()[0])
        tubes = (sampled + POOL - 1) // POOL
        stride = next(p for p in (7919, 7907, 7901) if tubes % p)
        slot = f"(((k / {POOL}) * {stride}) %% {tubes})"
        day = 86_400
        # Tubes: j = 0.., opened at their slot; barcodes carry the round and j.
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_slots AS SELECT DISTINCT k / %s AS j, "  # noqa: S608 - fixed fragments, values bound
            f"{slot} AS slot FROM bench_sampled",
            [POOL],
        )
        barcode = "lpad(CAST(j AS TEXT), 8, '0')" if pg else "printf('%%08d', j)"
        tube_time = moment(f"slot * {day}.0 / {tubes}")
        cursor.execute(
            "INSERT INTO testing_tube (barcode, round_id, point_id, jurisdiction_path, "  # noqa: S608 - fixed fragments, values bound
            "pool_size, state, opened_at, closed_at) "
            f"SELECT 'BCV' || %s || '-' || {barcode}, %s, %s, %s, %s, 'closed', "
            f"{tube_time}, {tube_time} FROM bench_slots ORDER BY slot",
            [rnd.pk, rnd.pk, point.pk, root.path, POOL, start_param, start_param],
        )
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_tubes AS SELECT t.id, s.j FROM testing_tube t "  # noqa: S608 - fixed fragments, values bound
            "JOIN bench_slots s ON t.barcode = 'BCV' || %s || '-' || "
            + ("lpad(CAST(s.j AS TEXT), 8, '0')" if pg else "printf('%%08d', s.j)")
            + " WHERE t.round_id = %s",
            [rnd.pk, rnd.pk],
        )
        if pg:
            uuid = "(lpad(to_hex(%s::bigint), 16, '0') || lpad(to_hex({k}), 16, '0'))::uuid"
        else:
            uuid = "printf('%%016x%%016x', %s, {k})"
        no = "false" if pg else "0"
        # Samples: person k in tube k / 10, within the tube's slot, in time order.
        sample_time = moment(f"({slot} * {POOL} + k %% {POOL}) * {day}.0 / {tubes * POOL}")
        cursor.execute(
            "INSERT INTO testing_sample (client_uuid, round_id, tube_id, person_id, "  # noqa: S608 - fixed fragments, values bound
            "jurisdiction_path, walk_in, sampled_at, synced_at) "
            f"SELECT {uuid.format(k='s.k')}, %s, t.id, s.person_id, s.jurisdiction_path, "
            f"{no}, {sample_time}, {sample_time} "
            f"FROM bench_sampled s JOIN bench_tubes t ON t.j = s.k / {POOL} "
            f"ORDER BY {slot.replace('k', 's.k')}, s.k",
            [rnd.pk, rnd.pk, start_param, start_param],
        )
        if retests:
            # The first `retests` sampled persons again, late in the day (from 20:00 on
            # the round's clock, one a second), in the tube of the person `sampled / 2`
            # places further on (another tube, never the person's first one).
            half = sampled // 2
            retest_time = moment(f"{20 * 3600} + s.k")
            cursor.execute(
                "INSERT INTO testing_sample (client_uuid, round_id, tube_id, person_id, "  # noqa: S608 - fixed fragments, values bound
                "jurisdiction_path, walk_in, sampled_at, synced_at) "
                f"SELECT {uuid.format(k=f'(s.k + {sampled})')}, %s, t.id, s.person_id, "
                f"s.jurisdiction_path, {no}, {retest_time}, {retest_time} "
                f"FROM bench_sampled s JOIN bench_tubes t ON t.j = (s.k + {half}) / {POOL} "
                "WHERE s.k < %s ORDER BY s.k",
                [rnd.pk, rnd.pk, start_param, start_param, retests],
            )
        for table in ("bench_sampled", "bench_slots", "bench_tubes"):
            cursor.execute(f"DROP TABLE {table}")
    return rnd


def _true_untested(round_id: int) -> int:
    """Targets with no sample in the round: a plain SQL anti-join (the truth)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM testing_roundtarget t WHERE t.round_id = %s AND NOT EXISTS "
            "(SELECT 1 FROM testing_sample s WHERE s.round_id = t.round_id "
            "AND s.person_id = t.person_id)",
            [round_id],
        )
        return int(cursor.fetchone()[0])


def _biggest_community(rnd: Any) -> str:
    """The community with the most targets (ties: the smallest path); cached per round."""
    cached = _BIGGEST.get(rnd.pk)
    if cached is None:
        from django.db.models import Count

        from fangkong.testing.models import RoundTarget

        row = (
            RoundTarget.objects.filter(round=rnd)
            .annotate(c=level_prefix_expr("jurisdiction_path", COMMUNITY_WIDTH))
            .values("c")
            .annotate(n=Count("*"))
            .order_by("-n", "c")
            .first()
        )
        if row is None:
            raise RuntimeError("the round has no target")
        cached = _BIGGEST[rnd.pk] = str(row["c"])
    return cached


_BIGGEST: dict[int, str] = {}


# --- DuckDB baseline -----------------------------------------------------------------------


def _export(cursor: Any, sql: str, params: list[Any], path: Path, pg: bool) -> None:
    if pg:
        literal = sql.replace("%s", "{}").format(*[int(p) for p in params])
        with path.open("wb") as out, cursor.cursor.copy(f"COPY ({literal}) TO STDOUT") as copy:
            for block in copy:
                out.write(block)
        return
    cursor.execute(sql, params)
    with path.open("w", newline="") as out:
        writer = csv.writer(out, delimiter="\t")
        while batch := cursor.fetchmany(100_000):
            writer.writerows(batch)


def _duckdb_load(round_id: int) -> tuple[Any, float]:
    import duckdb
    from django.db import connection

    started = time.perf_counter()
    pg = connection.vendor == "postgresql"
    with tempfile.TemporaryDirectory(prefix="fk-bench-coverage-") as tmp:
        targets = Path(tmp) / "targets.tsv"
        samples = Path(tmp) / "samples.tsv"
        with connection.cursor() as cursor:
            _export(
                cursor,
                "SELECT id, person_id, jurisdiction_path FROM testing_roundtarget "
                "WHERE round_id = %s",
                [round_id],
                targets,
                pg,
            )
            _export(
                cursor,
                "SELECT person_id FROM testing_sample WHERE round_id = %s",
                [round_id],
                samples,
                pg,
            )
        duck = duckdb.connect(":memory:")
        duck.execute(
            "CREATE TABLE targets AS SELECT * FROM read_csv(?, delim = '\t', header = false, "
            "columns = {'id': 'BIGINT', 'person_id': 'BIGINT', 'path': 'VARCHAR'})",
            [str(targets)],
        )
        duck.execute(
            "CREATE TABLE samples AS SELECT * FROM read_csv(?, delim = '\t', header = false, "
            "columns = {'person_id': 'BIGINT'})",
            [str(samples)],
        )
    return duck, time.perf_counter() - started


def _duckdb_untested(duck: Any, community: str) -> tuple[dict[str, int], list[int]]:
    counts = {
        str(c): int(n)
        for c, n in duck.execute(
            f"SELECT {level_prefix_sql('t.path', COMMUNITY_WIDTH)} AS c, count(*) "  # noqa: S608
            "FROM targets t ANTI JOIN samples s ON s.person_id = t.person_id GROUP BY c"
        ).fetchall()
    }
    page = [
        int(pk)
        for (pk,) in duck.execute(
            "SELECT t.id FROM targets t ANTI JOIN samples s ON s.person_id = t.person_id "
            "WHERE t.path >= ? AND t.path < ? ORDER BY t.id LIMIT ?",
            [community, community + ":", PAGE_SIZE],
        ).fetchall()
    ]
    return counts, page
