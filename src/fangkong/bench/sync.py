"""bench sync: samplers' phones syncing batches of tubes to the production server set-up.

Product path: `POST /api/testing/sampling/sync` (testing.services.sampling.sampling_sync)
served by gunicorn with several worker processes (the command of the README's
"Deploying on PostgreSQL") on loopback, against PostgreSQL (DATABASE_URL). `--devices`
simulated phones (asyncio, raw HTTP/1.1 over asyncio streams, bearer tokens), each bound
to a sampling point as a sampler, send their tubes in batches of `--tubes-per-batch`
tubes of `--pool-size` persons. The batches, dealt round-robin to the phones, arrive
as a Poisson process at `--rate` samples/s offered (bursts included, as from many
independent phones); a phone sends one batch at a time, so one that falls behind
sends its next batch as soon as the last is answered. A failed request (connection
reset, timeout, 5xx) is retried until the server acknowledges it, as the phone page
does. The server is started as the README deploys it, with `--preload`: workers
fork with the code imported, and no request is sent before the storm.

`samples_per_s` is the samples acknowledged over the time from the first request sent
to the last answer received; `offered_samples_per_s` is `--rate`, and
`scheduled_samples_per_s` the rate the random schedule came to (the most a server can
be seen to keep up with). Latency runs from when a batch was due, so time spent
waiting behind the phone's previous batch or in retries counts. The default offers
6,000/s, a fifth above the 5,000/s target: a server that cannot keep up shows a
throughput below the schedule's and a p99 that grows with the queue.

Baseline (same run): the same number of rows, in the same batch shape (one transaction
per batch: the tubes, then the samples by a multi-row INSERT ... ON CONFLICT DO
NOTHING), sent by one psycopg connection with no HTTP, no validation, no lookups;
those rows go into a scratch round that is deleted afterwards.

Afterwards, from the database: `lost` (samples the server acknowledged that are not
stored), `missing` (planned samples not stored, refused items included) and
`duplicated` (rows beyond one per planned sample).

The storm's round, with its tubes and samples, is deleted after counting (unless
`--keep`), so that every run starts from the same tables.

Data: a separate bench city (压测市, path 990001: never seen by the demo's users) with
`--points` sampling points, one sampler account per device and `--persons` persons
(valid-format ID numbers, written by people.bulk.person_bulk_import), built once and
reused; each run opens a new round over it (targets by one INSERT ... SELECT).
`--walk-in-share` of the samples are walk-ins named by name and phone (registered
through people.services.person_bulk_get_or_create on first sight).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fangkong.bench import Log, result
from fangkong.bench.timing import per_second

DESCRIPTION = (
    "sampling sync under concurrent phones: gunicorn + PostgreSQL vs batched psycopg INSERT"
)

BENCH_CITY = "990001"
BENCH_REGION = "990001"  # the ID numbers' region part (not checked against a table)
WALK_IN_REGION = "990002"
SYNC_PATH = "/api/testing/sampling/sync"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--persons", type=int, default=200_000, help="persons sampled once")
    parser.add_argument("--devices", type=int, default=200, help="concurrent phones")
    parser.add_argument("--points", type=int, default=20, help="sampling points")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker")
    parser.add_argument("--pool-size", type=int, default=10)
    parser.add_argument("--tubes-per-batch", type=int, default=10)
    parser.add_argument(
        "--rate",
        type=float,
        default=6000,
        help="samples/s offered: batches arrive at random (Poisson) at this mean rate; "
        "0 = closed loop (each phone sends its next batch when the last is answered)",
    )
    parser.add_argument("--walk-in-share", type=float, default=0.005)
    parser.add_argument("--timeout-s", type=float, default=30.0, help="per request")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument(
        "--keep", action="store_true", help="leave the storm's round, tubes and samples in place"
    )


# --- the server ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def database_url() -> str:
    """The URL of the database Django is connected to (the test database in tests)."""
    from django.db import connection

    s = connection.settings_dict
    auth = s["USER"] or ""
    if s.get("PASSWORD"):
        auth += ":" + s["PASSWORD"]
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{s['NAME']}"


@dataclass
class Server:
    """gunicorn serving fangkong.wsgi, the production set-up of the README."""

    port: int
    workers: int
    threads: int = 1
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    def command(self) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "fangkong.wsgi:application",
            "--preload",
            *("--workers", str(self.workers)),
            *("--bind", f"127.0.0.1:{self.port}"),
            *("--backlog", "2048"),
            *("--timeout", "120"),
        ]
        if self.threads > 1:
            cmd += ["--worker-class", "gthread", "--threads", str(self.threads)]
        return cmd

    def start(self, *, env_extra: dict[str, str] | None = None, ready_timeout: float = 90) -> None:
        import fangkong

        env = {**os.environ, **(env_extra or {})}
        env["DATABASE_URL"] = database_url()
        env.pop("FANGKONG_TEST_DB", None)
        env.setdefault("FANGKONG_DEBUG", "0")
        env["PYTHONPATH"] = str(Path(fangkong.__file__).resolve().parents[1])
        env["DJANGO_SETTINGS_MODULE"] = "fangkong.settings"
        self.log_path = Path(tempfile.gettempdir()) / f"fk-gunicorn-{self.port}.log"
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
            self.command(), env=env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log_tail()}")
            if len(self.worker_pids()) >= self.workers and _answers(self.port):
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not come up: {self.log_tail()}")

    def worker_pids(self) -> list[int]:
        """The master's child processes (the workers), from /proc."""
        if self.process is None:
            return []
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return [int(c) for c in children]

    def kill_worker(self) -> int:
        """SIGKILL one worker (kill -9); the master starts a new one."""
        pids = self.worker_pids()
        if not pids:
            raise RuntimeError("no gunicorn worker to kill")
        os.kill(pids[0], signal.SIGKILL)
        return pids[0]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def log_tail(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-3000:]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(
                b"GET /api/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            )
            return s.recv(12).startswith(b"HTTP/1.")
    except OSError:
        return False


# --- the phones ------------------------------------------------------------------------


@dataclass
class Device:
    """One phone: its bearer token and the request bodies (batches) it will send."""

    token: str
    batches: list[bytes]
    samples_per_batch: list[int]


@dataclass
class StormResult:
    latencies_ms: list[float] = field(default_factory=list)
    acked_samples: int = 0
    stored: int = 0
    duplicates: int = 0
    item_errors: int = 0
    requests: int = 0
    retries: int = 0
    wall_s: float = 0.0
    first_sent_s: float = 0.0  # since the storm began
    last_acked_s: float = 0.0
    schedule_span_s: float = 0.0  # first to last scheduled batch (0: closed loop)
    first_errors: list[str] = field(default_factory=list)
    acked: set[str] = field(default_factory=set)  # samples answered ok or duplicate
    # (seconds since the storm began, latency in ms) of each acknowledged request
    timeline: list[tuple[float, float]] = field(default_factory=list)


async def _post(port: int, token: str, body: bytes, timeout: float) -> tuple[int, bytes]:
    """One HTTP/1.1 POST on a fresh connection (phones reconnect between syncs)."""

    async def go() -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            head = (
                f"POST {SYNC_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode()
            writer.write(head + body)
            await writer.drain()
            status_line = await reader.readline()
            parts = status_line.split()
            if len(parts) < 2:
                raise ConnectionError("no status line")
            status = int(parts[1])
            length = -1
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            data = await (reader.readexactly(length) if length >= 0 else reader.read())
            return status, data
        finally:
            writer.close()

    return await asyncio.wait_for(go(), timeout)


async def _device(
    port: int,
    device: Device,
    out: StormResult,
    *,
    send_at: Sequence[float] | None,
    timeout: float,
    rng: random.Random,
    started: float,
    on_ack: Callable[[], None] | None,
) -> None:
    """Send the device's batches one after the other, each at its scheduled time (or
    at once, closed loop), retrying each until the server acknowledges it."""
    for k, (body, n) in enumerate(zip(device.batches, device.samples_per_batch, strict=True)):
        # Latency runs from when the batch was due, not from when it went out: a batch
        # that waited for the phone's previous one, or for its own retries, waited.
        intended = started + send_at[k] if send_at is not None else time.perf_counter()
        if send_at is not None:
            delay = intended - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        backoff = 0.05
        while True:
            t0 = time.perf_counter()
            out.requests += 1
            if out.requests == 1:
                out.first_sent_s = t0 - started
            try:
                status, data = await _post(port, device.token, body, timeout)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                status, data = 0, repr(exc).encode()
            if status == 200:
                acked = time.perf_counter()
                out.latencies_ms.append((acked - min(t0, intended)) * 1000)
                out.timeline.append((min(t0, intended) - started, out.latencies_ms[-1]))
                out.last_acked_s = max(out.last_acked_s, acked - started)
                answer = json.loads(data)
                out.stored += int(answer["stored"])
                out.duplicates += int(answer["duplicates"])
                out.item_errors += int(answer["errors"])
                out.acked_samples += n
                out.acked.update(
                    item["key"] for item in answer["samples"] if item["status"] != "error"
                )
                if answer["errors"] and len(out.first_errors) < 5:
                    bad = [s for s in answer["samples"] if s["status"] == "error"][:3]
                    out.first_errors.append(json.dumps(bad, ensure_ascii=False))
                if on_ack is not None:
                    on_ack()
                break
            out.retries += 1
            if status and len(out.first_errors) < 5:
                out.first_errors.append(f"HTTP {status}: {data[:300]!r}")
            await asyncio.sleep(backoff * rng.uniform(0.5, 1.5))
            backoff = min(backoff * 2, 2.0)


def poisson_schedule(
    devices: Sequence[Device], *, batches_per_s: float, rng: random.Random
) -> list[list[float]]:
    """When each device sends each of its batches: the batches, taken round-robin over
    the devices (the order they were planned in), arrive as a Poisson process of the
    given mean rate, as syncs from many independent phones do (bursts included)."""
    send_at: list[list[float]] = [[] for _ in devices]
    t = 0.0
    rounds = max((len(d.batches) for d in devices), default=0)
    for k in range(rounds):
        for d, device in enumerate(devices):
            if k < len(device.batches):
                send_at[d].append(t)
                t += rng.expovariate(batches_per_s)
    return send_at


def run_storm(
    port: int,
    devices: Sequence[Device],
    *,
    batches_per_s: float = 0.0,
    timeout: float = 30.0,
    seed: int = 2022,
    on_ack: Callable[[], None] | None = None,
) -> StormResult:
    """Every device sends its batches (retrying each until acknowledged); returns the
    latencies and counts. With `batches_per_s`, batches arrive at that mean rate
    (poisson_schedule); with 0 each device sends its next batch when the last is
    answered. `on_ack` runs after each acknowledged batch (the kill test uses it to
    time the kill)."""
    out = StormResult()
    rng = random.Random(seed)  # noqa: S311 - simulation jitter, not cryptography
    schedule = (
        poisson_schedule(devices, batches_per_s=batches_per_s, rng=rng)
        if batches_per_s > 0
        else [None] * len(devices)
    )
    times = [t for send_at in schedule if send_at for t in send_at]
    out.schedule_span_s = max(times) - min(times) if times else 0.0

    async def main() -> None:
        started = time.perf_counter()
        await asyncio.gather(
            *(
                _device(
                    port,
                    d,
                    out,
                    send_at=send_at,
                    timeout=timeout,
                    rng=random.Random(rng.random()),  # noqa: S311 - simulation jitter
                    started=started,
                    on_ack=on_ack,
                )
                for d, send_at in zip(devices, schedule, strict=True)
            )
        )

    t0 = time.perf_counter()
    asyncio.run(main())
    out.wall_s = time.perf_counter() - t0
    return out


# --- batches ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedSample:
    client_uuid: str
    id_number: str
    name: str = ""
    phone: str = ""


def batch_body(
    *,
    round_id: int,
    tubes: Sequence[tuple[str, Sequence[PlannedSample]]],
    pool_size: int,
    at: dt.datetime,
) -> bytes:
    """A sync request body as the phone page sends it."""
    stamp = at.isoformat()
    return json.dumps(
        {
            "tubes": [
                {
                    "barcode": barcode,
                    "round": round_id,
                    "pool_size": pool_size,
                    "opened_at": stamp,
                    "closed_at": None,
                    "samples": [
                        {
                            "client_uuid": s.client_uuid,
                            "id_number": s.id_number,
                            "name": s.name,
                            "phone": s.phone,
                            "sampled_at": stamp,
                        }
                        for s in samples
                    ],
                }
                for barcode, samples in tubes
            ]
        },
        ensure_ascii=False,
    ).encode()


def bench_ric(n: int, region: str = BENCH_REGION) -> tuple[str, dt.date, str]:
    """The n-th bench ID number (valid format and checksum), its birth date and sex."""
    from fangkong.people.rules import ric_checksum

    birth = dt.date(1940, 1, 1) + dt.timedelta(days=n // 1000)
    seq = n % 1000
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + ric_checksum(body), birth, ("M" if seq % 2 else "F")


# --- the bench city ----------------------------------------------------------------------


@dataclass
class BenchWorld:
    city: Any
    communities: list[Any]
    points: list[Any]
    samplers: list[Any]
    person_ids: list[int]  # person of bench_ric(n), in n order


def _ensure_world(*, persons: int, points: int, devices: int, log: Log) -> BenchWorld:
    from django.db import transaction

    from fangkong.accounts.models import User
    from fangkong.accounts.roles import Role
    from fangkong.accounts.services import user_create
    from fangkong.areas.models import Jurisdiction, Place
    from fangkong.people.bulk import PersonImportRow, person_bulk_import
    from fangkong.people.models import Person
    from fangkong.testing.models import SamplingPoint

    with transaction.atomic():
        city, _ = Jurisdiction.objects.get_or_create(
            path=BENCH_CITY,
            defaults={"level": "city", "code": BENCH_CITY, "name": "压测市", "depth": 0},
        )
        town, _ = Jurisdiction.objects.get_or_create(
            path=BENCH_CITY + "001",
            defaults={
                "level": "town",
                "code": BENCH_CITY + "001",
                "name": "压测镇",
                "parent": city,
                "depth": 1,
            },
        )
        communities = []
        for n in range(1, points + 1):
            code = f"{town.path}{n:03d}"
            community, _ = Jurisdiction.objects.get_or_create(
                path=code,
                defaults={
                    "level": "community",
                    "code": code,
                    "name": f"压测村{n}",
                    "parent": town,
                    "depth": 2,
                },
            )
            communities.append(community)
        point_rows = []
        for n, community in enumerate(communities, start=1):
            place, _ = Place.objects.get_or_create(
                kind="sampling_point",
                name=f"压测采样点{n}",
                jurisdiction=community,
                defaults={"jurisdiction_path": community.path},
            )
            point, _ = SamplingPoint.objects.get_or_create(
                place=place,
                defaults={"jurisdiction_path": community.path, "tables": 4, "samplers": 10},
            )
            point_rows.append(point)
    samplers = []
    for n in range(devices):
        username = f"bench-sampler-{n:04d}"
        user = User.objects.filter(username=username).first()
        if user is None:
            point = point_rows[n % len(point_rows)]
            user = user_create(
                username=username,
                password=uuid.uuid4().hex + "Aa1!",
                role=Role.SAMPLER,
                jurisdiction=point.place.jurisdiction,
                place=point.place,
            )
        samplers.append(user)
    # Which of the bench's persons exist already (by keyed hash of their ID numbers).
    from fangkong.people.services import id_lookup_hash

    hashes = [id_lookup_hash("ric", bench_ric(n)[0]) for n in range(persons)]
    present: dict[str, int] = {}
    for start in range(0, persons, 10_000):
        chunk = hashes[start : start + 10_000]
        present.update(
            (str(h), pk)
            for h, pk in Person.objects.filter(id_hmac__in=chunk).values_list("id_hmac", "pk")
        )
    missing = [n for n in range(persons) if hashes[n] not in present]
    if missing:
        log(f"writing {len(missing):,} bench persons (people.bulk.person_bulk_import)")

        def rows() -> Any:
            for n in missing:
                number, birth, sex = bench_ric(n)
                community = communities[n % len(communities)]
                yield PersonImportRow(
                    name="压测" + "甲乙丙丁戊己庚辛壬癸"[n % 10] + "某",
                    id_kind="ric",
                    id_number=number,
                    phone="",
                    birth_year=birth.year,
                    sex=sex,
                    jurisdiction_id=community.pk,
                    jurisdiction_path=community.path,
                )

        ids = person_bulk_import(rows=rows(), validate=False)
        present.update((hashes[n], pk) for n, pk in zip(missing, ids, strict=True))
    else:
        log(f"reusing the {persons:,} bench persons")
    person_ids = [present[h] for h in hashes]
    return BenchWorld(city, communities, point_rows, samplers, person_ids)


def _open_round(world: BenchWorld, *, pool_size: int, name: str, targets: bool) -> Any:
    """A new open round over the bench city; its targets by one INSERT ... SELECT."""
    from django.db import connection, transaction
    from django.utils import timezone

    from fangkong.core.paths import path_upper_bound
    from fangkong.protocol.models import RuleSet
    from fangkong.testing.models import Round, RoundScope, RoundStatus
    from fangkong.testing.services.rounds import target_statistics_refresh

    now = timezone.now()
    ruleset = (
        RuleSet.objects.filter(version="v9").first() or RuleSet.objects.order_by("-pk").first()
    )
    if ruleset is None:
        raise RuntimeError("no rule set: run `fangkong migrate` first")
    with transaction.atomic():
        rnd = Round.objects.create(
            name=name,
            jurisdiction=world.city,
            jurisdiction_path=world.city.path,
            ruleset=ruleset,
            status=RoundStatus.OPEN,
            starts_at=now - dt.timedelta(hours=1),
            deadline_at=now + dt.timedelta(hours=23),
            opened_at=now - dt.timedelta(hours=1),
        )
        RoundScope.objects.create(round=rnd, jurisdiction=world.city)
        if targets:
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO testing_roundtarget (round_id, person_id, jurisdiction_path, "
                    "zone_level, pool_size) SELECT %s, id, jurisdiction_path, '', %s "
                    "FROM people_person WHERE jurisdiction_path >= %s AND jurisdiction_path < %s",
                    [rnd.pk, pool_size, world.city.path, path_upper_bound(world.city.path)],
                )
                rnd.target_count = cursor.rowcount
            rnd.save(update_fields=["target_count"])
            target_statistics_refresh()
    return rnd


def _tokens(world: BenchWorld) -> list[str]:
    """One bearer token per phone, issued by the bench city's admin account."""
    from fangkong.accounts.models import User
    from fangkong.accounts.roles import Role
    from fangkong.accounts.services import token_create, user_create

    admin = User.objects.filter(username="bench-admin").first() or user_create(
        username="bench-admin",
        password=uuid.uuid4().hex + "Aa1!",
        role=Role.ADMIN,
        jurisdiction=world.city,
    )
    return [token_create(actor=admin, user=u, name="压测手机")[1] for u in world.samplers]


def _plan(
    *,
    world: BenchWorld,
    round_id: int,
    devices: int,
    pool_size: int,
    tubes_per_batch: int,
    walk_in_share: float,
    seed: int,
    tokens: Sequence[str],
) -> tuple[list[Device], list[str]]:
    """Split the persons among the phones, in tubes and batches; returns the devices
    and every planned sample's uuid."""
    rng = random.Random(seed + round_id)  # noqa: S311 - deterministic test data
    total = len(world.person_ids)
    walk_ins = int(total * walk_in_share)
    planned: list[PlannedSample] = [
        PlannedSample(str(uuid.UUID(int=rng.getrandbits(128), version=4)), bench_ric(n)[0])
        for n in range(total)
    ]
    for k in range(walk_ins):
        planned.append(
            PlannedSample(
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                bench_ric(k, WALK_IN_REGION)[0],  # not registered: walk-ins
                name="临时" + "甲乙丙丁戊"[k % 5],
                phone=f"139{k % 100_000_000:08d}",
            )
        )
    rng.shuffle(planned)
    now = dt.datetime.now(dt.UTC)
    # Full batches of full tubes, dealt round-robin to the phones: every batch but the
    # last carries tubes_per_batch × pool_size samples.
    tubes = [planned[i : i + pool_size] for i in range(0, len(planned), pool_size)]
    out = [Device(token=tokens[d], batches=[], samples_per_batch=[]) for d in range(devices)]
    for k, b in enumerate(range(0, len(tubes), tubes_per_batch)):
        chunk = tubes[b : b + tubes_per_batch]
        named = [(f"R{round_id}B{k:06d}T{i:03d}", t) for i, t in enumerate(chunk)]
        device = out[k % devices]
        device.batches.append(
            batch_body(round_id=round_id, tubes=named, pool_size=pool_size, at=now)
        )
        device.samples_per_batch.append(sum(len(t) for t in chunk))
    return out, [p.client_uuid for p in planned]


def count_stored(
    round_id: int, planned: Sequence[str], acked: set[str] | None = None
) -> dict[str, int]:
    """From the database: `lost` = samples the server acknowledged (ok or duplicate)
    that are not stored; `missing` = planned samples not stored (refused items
    included); `duplicated` = rows beyond one per planned sample."""
    from fangkong.testing.models import Sample

    rows = list(Sample.objects.filter(round_id=round_id).values_list("client_uuid", flat=True))
    present = {str(u) for u in rows}
    wanted = set(planned)
    return {
        "rows": len(rows),
        "lost": len((acked if acked is not None else wanted) - present),
        "missing": len(wanted - present),
        "duplicated": len(rows) - len(present & wanted),
    }


def delete_round(round_id: int) -> None:
    """Delete a bench round with its samples, tubes and targets, so that every run
    starts from the same tables (the samples' indexes otherwise grow by 200,000 rows a
    run and outgrow the database's cache)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cur:
        tables = ("testing_sample", "testing_tube", "testing_roundtarget", "testing_roundscope")
        for table in tables:
            cur.execute(f"DELETE FROM {table} WHERE round_id = %s", [round_id])  # noqa: S608
        cur.execute("DELETE FROM testing_round WHERE id = %s", [round_id])


# --- the baseline --------------------------------------------------------------------------


def _raw_insert(
    world: BenchWorld, *, rnd: Any, devices: list[Device], pool_size: int
) -> tuple[int, float]:
    """The same number of rows in the same batch shape, by psycopg with no HTTP."""
    import psycopg

    conninfo = database_url().replace("postgres://", "postgresql://", 1)
    point = world.points[0]
    persons = world.person_ids
    batches = [(n, b) for d in devices for n, b in zip(d.samples_per_batch, d.batches, strict=True)]
    now = dt.datetime.now(dt.UTC)
    written = 0
    position = 0
    with psycopg.connect(conninfo) as conn:
        started = time.perf_counter()
        for k, (n, _) in enumerate(batches):
            tubes = max(1, -(-n // pool_size))
            with conn.transaction(), conn.cursor() as cur:
                tube_rows: list[Any] = []
                for t in range(tubes):
                    tube_rows += [
                        f"RAW{rnd.pk}-{k}-{t}",
                        rnd.pk,
                        point.pk,
                        point.jurisdiction_path,
                        pool_size,
                        "open",
                        now,
                    ]
                cur.execute(
                    "INSERT INTO testing_tube (barcode, round_id, point_id, jurisdiction_path, "  # noqa: S608 - fixed columns, values as parameters
                    "pool_size, state, opened_at) VALUES "
                    + ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * tubes)
                    + " RETURNING id",
                    tube_rows,
                )
                tube_ids = [r[0] for r in cur.fetchall()]
                sample_rows: list[Any] = []
                for i in range(n):
                    person = persons[(position + i) % len(persons)]
                    sample_rows += [
                        uuid.uuid4(),
                        rnd.pk,
                        tube_ids[i // pool_size],
                        person,
                        point.jurisdiction_path,
                        False,
                        now,
                        now,
                    ]
                position += n
                cur.execute(
                    "INSERT INTO testing_sample (client_uuid, round_id, tube_id, person_id, "  # noqa: S608 - fixed columns, values as parameters
                    "jurisdiction_path, walk_in, sampled_at, synced_at) VALUES "
                    + ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * n)
                    + " ON CONFLICT DO NOTHING",
                    sample_rows,
                )
                written += cur.rowcount
        seconds = time.perf_counter() - started
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("DELETE FROM testing_sample WHERE round_id = %s", [rnd.pk])
            cur.execute("DELETE FROM testing_tube WHERE round_id = %s", [rnd.pk])
            cur.execute("DELETE FROM testing_roundscope WHERE round_id = %s", [rnd.pk])
            cur.execute("DELETE FROM testing_round WHERE id = %s", [rnd.pk])
    return written, seconds


# --- run -----------------------------------------------------------------------------------


def timeline_lines(timeline: list[tuple[float, float]], window_s: float = 5.0) -> list[str]:
    """The storm window by window: requests started, their p50 and p99 (where the slow
    requests were: a burst, the start, the end)."""
    windows: dict[int, list[float]] = {}
    for started_at, latency in timeline:
        windows.setdefault(int(started_at // window_s), []).append(latency)
    return [
        f"  {k * window_s:5.0f}-{(k + 1) * window_s:.0f} s: {len(v):4d} requests, "
        f"p50 {_percentile(v, 0.5):7.1f} ms, p99 {_percentile(v, 0.99):7.1f} ms"
        for k, v in sorted(windows.items())
    ]


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return round(ordered[k], 1)


def run(options: dict[str, Any], log: Log) -> dict:
    from django.db import connection

    if connection.vendor != "postgresql":
        raise RuntimeError("bench sync needs PostgreSQL: set DATABASE_URL=postgres://...")
    persons = int(options["persons"])
    devices_n = int(options["devices"])
    pool_size = int(options["pool_size"])
    setup_started = time.perf_counter()
    world = _ensure_world(
        persons=persons, points=int(options["points"]), devices=devices_n, log=log
    )
    rnd = _open_round(world, pool_size=pool_size, name="压测轮次", targets=True)
    tokens = _tokens(world)
    devices, planned = _plan(
        world=world,
        round_id=rnd.pk,
        devices=devices_n,
        pool_size=pool_size,
        tubes_per_batch=int(options["tubes_per_batch"]),
        walk_in_share=float(options["walk_in_share"]),
        seed=int(options["seed"]),
        tokens=tokens,
    )
    setup_s = time.perf_counter() - setup_started
    batches = sum(len(d.batches) for d in devices)
    log(
        f"round {rnd.pk}: {rnd.target_count:,} targets, {len(planned):,} samples in "
        f"{batches:,} batches from {devices_n} phones (setup {setup_s:.1f} s)"
    )
    connection.close()  # the server's workers take the connections from here

    server = Server(
        port=free_port(), workers=int(options["workers"]), threads=int(options["threads"])
    )
    server.start()
    log(f"gunicorn up: {server.workers} workers × {server.threads} threads on :{server.port}")
    rate = float(options["rate"])
    try:
        storm = run_storm(
            server.port,
            devices,
            batches_per_s=rate / (int(options["tubes_per_batch"]) * pool_size) if rate > 0 else 0.0,
            timeout=float(options["timeout_s"]),
            seed=int(options["seed"]),
        )
    finally:
        server.stop()
    counts = count_stored(rnd.pk, planned, storm.acked)
    if not options.get("keep"):
        delete_round(rnd.pk)
    log(
        f"storm: {storm.acked_samples:,} samples acknowledged in {storm.wall_s:.1f} s, "
        f"{storm.requests:,} requests, {storm.retries} retries, {storm.item_errors} item errors"
    )
    for line in storm.first_errors:
        log(f"  e.g. {line}")
    for line in timeline_lines(storm.timeline):
        log(line)

    raw_round = _open_round(world, pool_size=pool_size, name="压测轮次（基线）", targets=False)
    raw_rows, raw_s = _raw_insert(world, rnd=raw_round, devices=devices, pool_size=pool_size)
    # Throughput: samples acknowledged over the time from the first request sent to
    # the last answer received.
    samples_per_s = per_second(storm.acked_samples, storm.last_acked_s - storm.first_sent_s)
    raw_per_s = per_second(raw_rows, raw_s)
    return result(
        "sync",
        scale={
            "persons": persons,
            "samples": len(planned),
            "devices": devices_n,
            "points": int(options["points"]),
            "batches": batches,
            "samples_per_batch": int(options["tubes_per_batch"]) * pool_size,
            "pool_size": pool_size,
            "workers": server.workers,
            "threads": server.threads,
            "offered_samples_per_s": rate,  # 0 = closed loop
            # The rate the random schedule came to (what the server could at most keep up
            # with; samples_per_s near it means the server kept up).
            "scheduled_samples_per_s": (
                per_second(len(planned), storm.schedule_span_s) if storm.schedule_span_s else 0
            ),
            "cpus": os.cpu_count(),
        },
        metrics={
            "samples_per_s": samples_per_s,
            "p50_ms": _percentile(storm.latencies_ms, 0.50),
            "p99_ms": _percentile(storm.latencies_ms, 0.99),
            "mean_ms": round(statistics.fmean(storm.latencies_ms), 1) if storm.latencies_ms else 0,
            "raw_insert_samples_per_s": raw_per_s,
            "ratio_to_raw": round(samples_per_s / raw_per_s, 3) if raw_per_s else 0,
            "lost": counts["lost"],
            "duplicated": counts["duplicated"],
            "missing": counts["missing"],
            "stored_rows": counts["rows"],
            "requests": storm.requests,
            "retries": storm.retries,
            "item_errors": storm.item_errors,
            "wall_s": round(storm.wall_s, 2),
            "setup_s": round(setup_s, 2),
        },
        database=connection.vendor,
        round=rnd.pk,
        first_errors=storm.first_errors,
    )
