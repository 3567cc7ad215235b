"""A sync storm against gunicorn on PostgreSQL with a worker killed (kill -9) mid-storm:
phones retry until every batch is acknowledged; nothing is lost, nothing duplicated."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from fangkong.accounts.roles import Role
from fangkong.accounts.services import token_create, user_create
from fangkong.bench.sync import (
    Device,
    PlannedSample,
    Server,
    batch_body,
    count_stored,
    free_port,
    run_storm,
)
from fangkong.testing.models import Sample, Tube
from fangkong.testkit.concurrency import race
from fangkong.testkit.worlds.sampling import PASSWORD, build_world

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DEVICES = 6
BATCHES = 8
TUBES_PER_BATCH = 2
POOL = 10


def _wait_until_only_this_session(timeout: float = 15.0) -> None:
    """The killed workers' database sessions end when PostgreSQL notices; wait for it, so
    that the test database can be dropped at the end of the run."""
    import time

    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.2)


def test_a_worker_killed_mid_storm_loses_and_duplicates_nothing(tree: Any) -> None:
    world = build_world(tree, persons=60)
    rng = random.Random(7)
    devices: list[Device] = []
    planned: list[str] = []
    now = dt.datetime.now(dt.UTC)
    for d in range(DEVICES):
        sampler = user_create(
            username=f"storm-{d}",
            password=PASSWORD,
            role=Role.SAMPLER,
            jurisdiction=tree.community_a,
            place=world.point.place,
        )
        _, token = token_create(actor=world.admin, user=sampler, name="storm")
        bodies, counts = [], []
        for b in range(BATCHES):
            tubes = []
            for t in range(TUBES_PER_BATCH):
                persons = rng.sample(world.persons, POOL)  # retests across tubes happen
                samples = [PlannedSample(str(uuid.uuid4()), world.rics[p.pk]) for p in persons]
                planned.extend(s.client_uuid for s in samples)
                tubes.append((f"STORM-{d}-{b}-{t}", samples))
            bodies.append(batch_body(round_id=world.round.pk, tubes=tubes, pool_size=POOL, at=now))
            counts.append(TUBES_PER_BATCH * POOL)
        devices.append(Device(token=token, batches=bodies, samples_per_batch=counts))
    total_batches = DEVICES * BATCHES
    connection.close()

    server = Server(port=free_port(), workers=2)
    server.start()
    killed: list[int] = []
    acks = {"n": 0}

    def on_ack() -> None:
        acks["n"] += 1
        # kill -9 a worker four times mid-storm, 50 ms after an answer: by then both
        # workers are usually inside requests (6 phones keep 2 workers saturated), but a
        # kill can find a worker between requests or still starting, so one kill alone
        # may cut nothing off; four make it all but certain that some request is cut.
        if acks["n"] in {total_batches * k // 5 for k in range(1, 5)}:
            asyncio.get_running_loop().call_later(0.05, lambda: killed.append(server.kill_worker()))

    try:
        storm = run_storm(server.port, devices, timeout=30, on_ack=on_ack)
        survivors = server.worker_pids()
    finally:
        server.stop()
        _wait_until_only_this_session()

    assert len(killed) == 4
    assert not any(Path(f"/proc/{pid}").exists() and pid in survivors for pid in killed)
    assert len(survivors) == 2  # the master replaced the killed workers
    assert storm.retries >= 1, "no request was cut off by the kill"
    assert storm.acked_samples == len(planned) == DEVICES * BATCHES * TUBES_PER_BATCH * POOL
    assert storm.item_errors == 0
    counts = count_stored(world.round.pk, planned, storm.acked)
    assert len(storm.acked) == len(planned)
    assert counts == {"rows": len(planned), "lost": 0, "missing": 0, "duplicated": 0}
    assert Sample.objects.count() == len(planned)
    assert Tube.objects.count() == DEVICES * BATCHES * TUBES_PER_BATCH
    assert Tube.objects.filter(state="closed").count() == Tube.objects.count()


def test_the_same_batch_synced_concurrently_is_stored_once(tree: Any) -> None:
    from fangkong.testing.services.sampling import sampling_sync

    world = build_world(tree, persons=40)
    tubes = world.tubes_of(world.persons)

    results, errors = race(*[lambda: sampling_sync(actor=world.sampler, tubes=tubes)] * 3)

    assert errors == []
    assert sum(r.count("ok") for r in results) == 40
    assert sum(r.count("duplicate") for r in results) == 80
    assert Sample.objects.count() == 40 and Tube.objects.count() == 4


def test_two_phones_filling_one_tube_at_once_never_overfill_it(tree: Any) -> None:
    from fangkong.testing.services.sampling import sampling_sync

    world = build_world(tree, persons=12)
    barcode = "SHARED-0001"
    first = world.tube([world.sample(p) for p in world.persons[:6]], barcode=barcode)
    second = world.tube([world.sample(p) for p in world.persons[6:12]], barcode=barcode)

    results, errors = race(
        lambda: sampling_sync(actor=world.sampler, tubes=[first]),
        lambda: sampling_sync(actor=world.sampler, tubes=[second]),
    )

    assert errors == []
    assert sum(r.count("ok") for r in results) == 10
    codes = [s.code for r in results for s in r.samples if s.status == "error"]
    assert codes == ["tube_full", "tube_full"]
    tube = Tube.objects.get(barcode=barcode)
    assert tube.samples.count() == 10 and tube.state == "closed"


def test_bench_sync_tiny_prints_its_json_with_nothing_lost() -> None:
    import io
    import json

    from django.core.management import call_command

    out = io.StringIO()
    call_command(
        "bench",
        "sync",
        "--json",
        *("--persons", "300", "--devices", "4", "--points", "2", "--workers", "2"),
        *("--rate", "0", "--walk-in-share", "0.02"),
        stdout=out,
    )
    _wait_until_only_this_session()

    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["bench"] == "sync"
    assert result["scale"]["samples"] == 306  # 300 registered + 6 walk-ins
    metrics = result["metrics"]
    assert (metrics["lost"], metrics["duplicated"], metrics["missing"]) == (0, 0, 0)
    assert metrics["stored_rows"] == 306 and metrics["item_errors"] == 0
    for key in ("samples_per_s", "p50_ms", "p99_ms", "raw_insert_samples_per_s"):
        assert metrics[key] > 0, key


def test_a_phone_resending_tubes_while_they_are_packed_does_not_deadlock(tree: Any) -> None:
    """The labs lock tubes by id (packing a box updates them by id); the sync locks the
    tubes it finds stored in id order too, whatever their barcodes. Here the first tube
    has the later barcode: a sync locking by barcode would hold the second tube while
    waiting for the first, and the packing's next lock would deadlock."""
    import threading
    import time

    from django.db import transaction

    from fangkong.testing.services.sampling import sampling_sync

    world = build_world(tree, persons=20)
    first = world.tube([world.sample(p) for p in world.persons[:10]], barcode="ZZ-FIRST")
    second = world.tube([world.sample(p) for p in world.persons[10:20]], barcode="AA-SECOND")
    sampling_sync(actor=world.sampler, tubes=[first])
    sampling_sync(actor=world.sampler, tubes=[second])
    ids = dict(Tube.objects.values_list("barcode", "pk"))
    assert ids["ZZ-FIRST"] < ids["AA-SECOND"]
    answers: list[Any] = []
    errors: list[BaseException] = []

    def resend() -> None:
        try:
            answers.append(sampling_sync(actor=world.sampler, tubes=[first, second]))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    with transaction.atomic():  # the packing: locks the tubes in id order
        list(Tube.objects.select_for_update().filter(pk=ids["ZZ-FIRST"]))
        phone = threading.Thread(target=resend)
        phone.start()
        with connection.cursor() as cursor:
            for _ in range(200):  # until the phone's sync waits for the first tube
                cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
                if cursor.fetchone()[0]:
                    break
                time.sleep(0.05)
            else:
                pytest.fail("the phone's sync never waited for the locked tube")
            cursor.execute("SET LOCAL lock_timeout = '5s'")
        list(Tube.objects.select_for_update().filter(pk=ids["AA-SECOND"]))
    phone.join(timeout=30)

    assert errors == []
    assert [t.status for t in answers[0].tubes] == ["duplicate", "duplicate"]
    assert answers[0].count("duplicate") == 20
    assert Sample.objects.count() == 20
