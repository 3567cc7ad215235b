"""bench results-import: a lab's results file for 100,000 pooled tubes (1,000,000 persons)
with 0.1% positive pools, imported through the product's service.

Product path: `testing.services.results.results_import_file` — the very function the lab's
import page and `POST /api/testing/results/import` call: the CSV is read and every row
checked (tubes fetched by barcode in chunks, received by this lab, once in the file), the
results are stored (bulk_create), the tubes moved to resulted, and every member of a
positive pool is held with one recheck task each (set-based), all in one transaction,
timed until it commits (`import_s`).

Baseline (`duckdb_s`): the same file read by DuckDB's CSV reader and joined to the same
pool membership (tube barcode → person, loaded untimed from the database into DuckDB),
giving the persons to hold — the analytical floor of "file in → who is in a positive
pool", without storing anything.

Data (untimed, set-based, on the configured database — PostgreSQL in the real run): a
round, a sampling point, a lab with its lab user, 100 received boxes of 1,000 tubes each,
and 10 samples per tube over distinct persons. Persons already in the database are reused
(e.g. the drill city) when there are enough, else minimal persons are inserted. The truth
(`holds_expected`) is computed from the generated pools, independently of the product;
`holds` and `rechecks` are counted in the database afterwards. Everything the bench wrote
is deleted at the end (unless `--keep`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from fangkong.bench import Log, result

DESCRIPTION = (
    "results file of 100,000 tubes / 1,000,000 persons, 0.1% positive pools (product vs DuckDB)"
)

TUBES_PER_BOX = 1000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tubes", type=int, default=100_000)
    parser.add_argument("--pool-size", type=int, default=10)
    parser.add_argument("--positive-rate", type=float, default=0.001)
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--keep", action="store_true", help="leave the bench's rows in place")


def _sqlite_value(value: Any) -> Any:
    """What Django stores on SQLite: UUIDs as hex, aware datetimes as naive UTC."""
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
    return value


def _insert(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Set-based insert: COPY on PostgreSQL, executemany elsewhere."""
    from django.db import connection

    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor
            with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - our table names
            f"VALUES ({', '.join(['%s'] * len(columns))})"
        )
        batch: list[Sequence[Any]] = []
        for row in rows:
            batch.append([_sqlite_value(v) for v in row])
            if len(batch) >= 20_000:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def _analyze() -> None:
    """Fresh statistics for the tables just loaded, as a running system has (untimed)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in (
            "testing_tube",
            "testing_sample",
            "testing_transportbox",
            "testing_tuberesult",
            "testing_hold",
            "testing_recheck",
        ):
            cursor.execute(f"ANALYZE {table}")


def _persons(n: int, log: Log) -> tuple[list[tuple[int, str]], list[int]]:
    """`n` persons (id, path): the first n in the database, topped up with minimal ones."""
    from django.utils import timezone

    from fangkong.areas.models import Jurisdiction
    from fangkong.people.models import Person

    existing = list(Person.objects.order_by("pk").values_list("pk", "jurisdiction_path")[:n])
    if len(existing) >= n:
        log(f"reusing {n:,} persons already in the database")
        return existing, []
    missing = n - len(existing)
    home = (
        Jurisdiction.objects.filter(level="community").order_by("path").first()
        or Jurisdiction.objects.order_by("path").first()
    )
    if home is None:
        home = Jurisdiction.objects.create(
            level="city", code="330483", name="桐乡市", path="330483", depth=0
        )
    log(f"inserting {missing:,} minimal persons in {home.name}")
    now = timezone.now()
    first_new = (Person.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    _insert(
        "people_person",
        [
            "name",
            "name_initials",
            "id_kind",
            "id_masked",
            "id_tail",
            "phone_hmac",
            "phone_masked",
            "sex",
            "jurisdiction_id",
            "jurisdiction_path",
            "created_at",
            "updated_at",
        ],
        (
            ("基准", "jz", "none", "", "", "", "", "U", home.pk, home.path, now, now)
            for _ in range(missing)
        ),
    )
    created = list(
        Person.objects.filter(pk__gte=first_new)
        .order_by("pk")
        .values_list("pk", "jurisdiction_path")[:missing]
    )
    return existing + created, [p for p, _ in created]


def _build(options: dict[str, Any], log: Log) -> dict[str, Any]:
    from django.db import transaction
    from django.utils import timezone

    from fangkong.accounts.models import User
    from fangkong.accounts.roles import Role
    from fangkong.areas.models import Jurisdiction, Place
    from fangkong.protocol.models import RuleSet
    from fangkong.testing.models import Round, RoundStatus, SamplingPoint, TransportBox, Tube

    tubes_n = int(options["tubes"])
    pool = int(options["pool_size"])
    rnd_gen = random.Random(int(options["seed"]))  # noqa: S311 - deterministic test data
    run = uuid.uuid4().hex[:8]
    started = time.perf_counter()
    persons, inserted_persons = _persons(tubes_n * pool, log)
    city = Jurisdiction.objects.filter(level="city").order_by("path").first()
    assert city is not None
    ruleset = RuleSet.objects.filter(version="v9").first() or RuleSet.objects.first()
    assert ruleset is not None
    now = timezone.now()
    start = now - dt.timedelta(hours=12)
    with transaction.atomic():
        rnd = Round.objects.create(
            name=f"基准测试轮次 {run}",
            jurisdiction=city,
            jurisdiction_path=city.path,
            ruleset=ruleset,
            status=RoundStatus.OPEN,
            starts_at=start,
            deadline_at=start + dt.timedelta(hours=24),
            opened_at=start,
        )
        point_place = Place.objects.create(
            kind="sampling_point",
            name=f"基准采样点 {run}",
            jurisdiction=city,
            jurisdiction_path=city.path,
        )
        point = SamplingPoint.objects.create(place=point_place, jurisdiction_path=city.path)
        lab = Place.objects.create(
            kind="lab", name=f"基准检测机构 {run}", jurisdiction=city, jurisdiction_path=city.path
        )
        lab_user = User(
            username=f"bench-lab-{run}",
            role=Role.LAB,
            jurisdiction=city,
            scope_path=city.path,
            place=lab,
        )
        lab_user.set_unusable_password()
        lab_user.save()
        boxes = TransportBox.objects.bulk_create(
            TransportBox(
                barcode=f"BRIBOX{run}{b:04d}",
                point=point,
                jurisdiction_path=city.path,
                lab=lab,
                state="received",
                created_at=start,
                handed_over_at=start + dt.timedelta(hours=1),
                received_at=start + dt.timedelta(hours=2),
            )
            for b in range((tubes_n + TUBES_PER_BOX - 1) // TUBES_PER_BOX)
        )
    barcodes = [f"BRI{run}{i:07d}" for i in range(tubes_n)]
    closed = start + dt.timedelta(minutes=30)
    _insert(
        "testing_tube",
        [
            "barcode",
            "round_id",
            "point_id",
            "jurisdiction_path",
            "pool_size",
            "state",
            "opened_at",
            "closed_at",
            "box_id",
        ],
        (
            (
                code,
                rnd.pk,
                point.pk,
                city.path,
                pool,
                "received",
                start,
                closed,
                boxes[i // TUBES_PER_BOX].pk,
            )
            for i, code in enumerate(barcodes)
        ),
    )
    tube_ids = dict(Tube.objects.filter(round=rnd).values_list("barcode", "pk"))
    log(f"{len(tube_ids):,} tubes in {len(boxes)} received boxes")
    synced = start + dt.timedelta(minutes=31)
    _insert(
        "testing_sample",
        [
            "client_uuid",
            "round_id",
            "tube_id",
            "person_id",
            "jurisdiction_path",
            "walk_in",
            "sampled_at",
            "synced_at",
        ],
        (
            (
                uuid.UUID(int=rnd_gen.getrandbits(128), version=4),
                rnd.pk,
                tube_ids[barcodes[i // pool]],
                pid,
                path,
                False,
                closed,
                synced,
            )
            for i, (pid, path) in enumerate(persons)
        ),
    )
    log(f"{len(persons):,} samples")
    _analyze()
    positives = set(
        rnd_gen.sample(range(tubes_n), max(1, round(tubes_n * float(options["positive_rate"]))))
    )
    tested = (now - dt.timedelta(hours=1)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    when = tested.strftime("%Y-%m-%d %H:%M:%S")
    out = io.StringIO()
    out.write("试管条码,检测结果,ORF1ab,N,检测时间\n")
    for i, code in enumerate(barcodes):
        if i in positives:
            out.write(
                f"{code},阳性,{rnd_gen.uniform(20, 35):.2f},{rnd_gen.uniform(20, 35):.2f},{when}\n"
            )
        else:
            out.write(f"{code},阴性,,,{when}\n")
    data = out.getvalue().encode("utf-8")
    # Truth, from the generated pools: every person of a positive tube, once.
    truth = len({persons[i * pool + k][0] for i in positives for k in range(pool)})
    log(f"built in {time.perf_counter() - started:.1f}s; file {len(data) / 1e6:.1f} MB")
    return {
        "round": rnd,
        "lab": lab,
        "lab_user": lab_user,
        "point": point,
        "boxes": boxes,
        "data": data,
        "positives": len(positives),
        "truth": truth,
        "inserted_persons": inserted_persons,
        "persons": len(persons),
    }


def _duckdb(world: dict[str, Any], log: Log) -> tuple[float, int]:
    import duckdb
    from django.db import connection

    from fangkong.testing.models import Sample

    con = duckdb.connect()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        members = os.path.join(tmp, "members.csv")
        with open(members, "w", encoding="utf-8") as fh:
            fh.write("barcode,person_id\n")
            for code, pid in (
                Sample.objects.filter(round=world["round"])
                .values_list("tube__barcode", "person_id")
                .iterator(chunk_size=20_000)
            ):
                fh.write(f"{code},{pid}\n")
        con.execute(f"CREATE TABLE members AS SELECT * FROM read_csv_auto('{members}')")  # noqa: S608
        log(
            f"DuckDB membership loaded (untimed) in {time.perf_counter() - started:.1f}s "
            f"from {connection.vendor}"
        )
        path = os.path.join(tmp, "results.csv")
        with open(path, "wb") as fh:
            fh.write(world["data"])
        t0 = time.perf_counter()
        query = (
            "SELECT count(DISTINCT m.person_id) "  # noqa: S608 - a temporary file of ours
            f"FROM read_csv('{path}', header=true, all_varchar=true) r "
            'JOIN members m ON m.barcode = r."试管条码" '
            "WHERE r.\"检测结果\" IN ('阳性', 'positive')"
        )
        row = con.execute(query).fetchone()
        seconds = time.perf_counter() - t0
    con.close()
    return seconds, int(row[0]) if row else 0


def _cleanup(world: dict[str, Any], log: Log) -> None:
    from django.db import transaction

    from fangkong.accounts.models import AuditEvent
    from fangkong.areas.models import Place
    from fangkong.people.models import Person
    from fangkong.testing.models import (
        Hold,
        Recheck,
        ResultImport,
        Round,
        Sample,
        SamplingPoint,
        TransportBox,
        Tube,
        TubeResult,
        TubeResultCorrection,
    )

    started = time.perf_counter()
    rnd = world["round"]
    with transaction.atomic():
        Recheck.objects.filter(round=rnd).delete()
        Hold.objects.filter(round=rnd).delete()
        TubeResultCorrection.objects.filter(tube_result__round=rnd).delete()
        TubeResult.objects.filter(round=rnd).delete()
        ResultImport.objects.filter(lab=world["lab"]).delete()
        Sample.objects.filter(round=rnd).delete()
        Tube.objects.filter(round=rnd).delete()
        TransportBox.objects.filter(lab=world["lab"]).delete()
        SamplingPoint.objects.filter(pk=world["point"].pk).delete()
        AuditEvent.objects.filter(actor=world["lab_user"]).delete()
        world["lab_user"].delete()
        Place.objects.filter(pk__in=[world["lab"].pk, world["point"].place_id]).delete()
        Round.objects.filter(pk=rnd.pk).delete()
        ids = world["inserted_persons"]
        for start in range(0, len(ids), 50_000):
            Person.objects.filter(pk__in=ids[start : start + 50_000]).delete()
    log(f"cleaned up in {time.perf_counter() - started:.1f}s")


def run(options: dict[str, Any], log: Log) -> dict:
    from django.db import connection

    from fangkong.testing.models import Hold, Recheck, TubeResult
    from fangkong.testing.services.results import results_import_file

    world = _build(options, log)
    try:
        t0 = time.perf_counter()
        report = results_import_file(
            actor=world["lab_user"], data=world["data"], filename="bench-results.csv"
        )
        import_s = time.perf_counter() - t0
        if report.errors:
            raise RuntimeError(f"bench file refused: {report.errors[:5]}")
        log(
            f"import: {report.applied:,} results, {report.positives} positive pools, "
            f"{report.holds:,} holds in {import_s:.2f}s"
        )
        holds = Hold.objects.filter(round=world["round"]).count()
        rechecks = Recheck.objects.filter(round=world["round"]).count()
        stored = TubeResult.objects.filter(round=world["round"]).count()
        t1 = time.perf_counter()
        again = results_import_file(
            actor=world["lab_user"], data=world["data"], filename="bench-results.csv"
        )
        reimport_s = time.perf_counter() - t1
        duckdb_s, duckdb_holds = _duckdb(world, log)
    finally:
        if not options.get("keep"):
            _cleanup(world, log)
    return result(
        "results-import",
        scale={
            "tubes": int(options["tubes"]),
            "persons": world["persons"],
            "pool_size": int(options["pool_size"]),
            "positive_pools": world["positives"],
            "file_bytes": len(world["data"]),
            "database": connection.vendor,
        },
        metrics={
            "import_s": round(import_s, 3),
            "duckdb_s": round(duckdb_s, 3),
            "reimport_s": round(reimport_s, 3),
            "results_stored": stored,
            "holds": holds,
            "rechecks": rechecks,
            "holds_expected": world["truth"],
            "duckdb_holds": duckdb_holds,
            "correct": holds == rechecks == world["truth"] == duckdb_holds
            and stored == int(options["tubes"])
            and again.duplicate,
        },
        target={"import_s_max": 10},
    )
