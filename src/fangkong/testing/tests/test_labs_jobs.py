"""The results import as a background job (decision 0010): 10,000 rows with progress to
100%, the status endpoint and the page, a run killed midway and re-run without a
duplicate, a dead worker's job marked failed, and who may see a job."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from io import StringIO
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fangkong.accounts.roles import Role
from fangkong.core import jobs
from fangkong.core.models import Job, JobFile, JobState
from fangkong.testing.models import (
    BoxState,
    ResultImport,
    TransportBox,
    Tube,
    TubeResult,
    TubeState,
)
from fangkong.testing.services import results as labs
from fangkong.testkit.jobs import job_of
from fangkong.testkit.worlds.labs import World, build_world, results_csv

pytestmark = pytest.mark.django_db

T = "2022-07-10 14:00"
ROWS = 10_000


@pytest.fixture
def world(tree: Any, make_user: Any) -> World:
    return build_world(tree, make_user)


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def received_tubes(world: World, n: int, prefix: str = "J") -> list[str]:
    """n received tubes of the world's lab in one box (set-based: fast set-up)."""
    when = world.round.starts_at + dt.timedelta(hours=1)
    box = TransportBox.objects.create(
        barcode=f"B-{prefix}",
        point=world.point,
        jurisdiction_path=world.point.jurisdiction_path,
        lab=world.lab,
        state=BoxState.RECEIVED,
        created_at=when,
        handed_over_at=when,
        received_at=when,
    )
    barcodes = [f"{prefix}{i:07d}" for i in range(n)]
    Tube.objects.bulk_create(
        [
            Tube(
                barcode=b,
                round=world.round,
                point=world.point,
                jurisdiction_path=world.point.jurisdiction_path,
                pool_size=10,
                state=TubeState.RECEIVED,
                opened_at=when,
                closed_at=when,
                box=box,
            )
            for b in barcodes
        ],
        batch_size=2000,
    )
    return barcodes


def big_file(barcodes: list[str]) -> bytes:
    return results_csv([(b, "阴性", "", "", T) for b in barcodes])


def _upload(c: Client, data: bytes, name: str = "r.csv") -> Any:
    return c.post("/api/testing/results/import", {"file": SimpleUploadedFile(name, data)})


def test_a_10000_row_import_runs_as_a_job_with_progress_to_100(world: World, settings: Any) -> None:
    barcodes = received_tubes(world, ROWS)
    settings.JOB_PROGRESS_SECONDS = 0.002  # often, to see it rise
    seen: list[tuple[int, int | None, str]] = []

    def listen(sender: Any, *, rows_done: int, rows_total: int | None, phase: str, **kw: Any):
        seen.append((rows_done, rows_total, phase))

    jobs.job_progressed.connect(listen)
    try:
        r = _upload(_client(world.lab_user), big_file(barcodes))
    finally:
        jobs.job_progressed.disconnect(listen)

    assert r.status_code == 202, r.content
    body = r.json()
    # Progress rose row by row while the file was read, then the apply phase
    done = [d for d, _t, phase in seen if phase == "read"]
    assert len(set(done)) > 5 and done == sorted(done)
    assert done[-1] >= ROWS - 1
    assert ("apply" in {p for _d, _t, p in seen}) and seen[-1][1] == ROWS
    # The status endpoint reports it finished, 100%, with the import's report
    status = _client(world.lab_user).get(f"/api/jobs/{body['id']}").json()
    assert status["state"] == "done" and status["percent"] == 100
    assert status["rows_done"] == ROWS and status["rows_total"] == ROWS
    assert status["result"]["applied"] == ROWS and status["result"]["duplicate"] is False
    assert TubeResult.objects.count() == ROWS
    # The upload is dropped once the job succeeded
    assert not JobFile.objects.filter(job_id=body["id"]).exists()
    # The page shows the bar at 100% and the report
    page = _client(world.lab_user).get(f"{reverse('testing:lab_results')}?job={body['id']}")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="job-progress" max="100" value="100"' in html
    assert 'data-testid="import-report"' in html and f"{ROWS:d}" in html


def test_a_job_killed_midway_is_failed_and_its_rerun_duplicates_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    barcodes = received_tubes(world, ROWS)
    insert = labs._insert_results

    def killed_after_writing(rows: list[tuple[Any, ...]]) -> None:
        insert(rows)  # the results are written in the import's transaction …
        assert TubeResult.objects.count() == ROWS
        raise RuntimeError("worker killed")  # … and the worker dies before it commits

    monkeypatch.setattr(labs, "_insert_results", killed_after_writing)
    lab = _client(world.lab_user)
    r = _upload(lab, big_file(barcodes))
    assert r.status_code == 202
    body = r.json()
    assert body["state"] == "failed" and body["error_code"] == "job_crashed"
    assert "RuntimeError" in body["error_message"]
    assert TubeResult.objects.count() == 0 and ResultImport.objects.count() == 0
    # The page shows the reason and offers a re-run to its owner
    # /jobs/<id>/ leads to the job's page: the results import, `?job=<id>`
    detail = lab.get(reverse("web:job_detail", args=[body["id"]]))
    assert detail.status_code == 302
    assert detail["Location"] == f"{reverse('testing:lab_results')}?job={body['id']}"
    page = lab.get(detail["Location"]).content.decode()
    assert 'data-testid="job-error"' in page and "RuntimeError" in page
    assert 'data-testid="job-rerun"' in page

    monkeypatch.setattr(labs, "_insert_results", insert)
    r = lab.post(f"/api/jobs/{body['id']}/rerun")
    assert r.status_code == 202 and r.json()["state"] == "done"
    assert r.json()["result"]["applied"] == ROWS
    assert TubeResult.objects.count() == ROWS
    assert TubeResult.objects.values("tube_id").distinct().count() == ROWS
    assert ResultImport.objects.count() == 1
    assert Job.objects.get(pk=body["id"]).attempts == 2
    # Re-running a finished job is refused; uploading the file again changes nothing
    assert lab.post(f"/api/jobs/{body['id']}/rerun").json()["code"] == "job_not_failed"
    again = _upload(lab, big_file(barcodes)).json()
    assert again["state"] == "done" and again["result"]["duplicate"] is True
    assert TubeResult.objects.count() == ROWS and ResultImport.objects.count() == 1


def test_a_job_whose_worker_died_is_shown_failed_and_can_be_rerun(world: World) -> None:
    barcodes = received_tubes(world, 50)
    # A worker claimed the job, wrote some progress, and was SIGKILLed: the row stays
    # "running" and its heartbeat stops.
    job = Job.objects.create(
        kind=labs_kind().path,
        owner_id=world.lab_user.pk,
        scope_path=world.lab_user.scope_path,
        params={"lab_id": world.lab.pk, "ip": ""},
        state=JobState.RUNNING,
        rows_done=20,
        rows_total=50,
        created_at=timezone.now() - dt.timedelta(hours=1),
        started_at=timezone.now() - dt.timedelta(hours=1),
        heartbeat_at=timezone.now() - dt.timedelta(minutes=11),
    )
    jobs.job_file_save(job, role="input", name="r.csv", data=big_file(barcodes))
    fresh = Job.objects.create(
        kind=job.kind,
        owner_id=world.lab_user.pk,
        state=JobState.RUNNING,
        phase="read",
        rows_done=30,
        rows_total=120,
        created_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    lab = _client(world.lab_user)
    # A live job says what it is doing and how far it is
    live = lab.get(f"/api/jobs/{fresh.pk}").json()
    assert (live["state"], live["percent"], live["phase_label"]) == ("running", 25, "读取文件")
    panel = lab.get(reverse("web:job_detail", args=[fresh.pk]), follow=True).content.decode()
    assert 'value="25"' in panel and "30 / 120" in panel and "读取文件" in panel
    status = lab.get(f"/api/jobs/{job.pk}").json()
    assert status["state"] == "failed" and status["error_code"] == "job_lost"
    assert "后台进程已停止" in status["error_message"]
    assert Job.objects.get(pk=fresh.pk).state == JobState.RUNNING  # a live one is left
    page = lab.get(f"{reverse('testing:lab_results')}?job={job.pk}").content.decode()
    assert "后台进程已停止" in page
    r = lab.post(reverse("web:job_rerun", args=[job.pk]))
    # Back on the page it came from, showing the job (Post/Redirect/Get)
    assert r.status_code == 303
    assert r["Location"] == f"{reverse('testing:lab_results')}?job={job.pk}"
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.result["applied"] == 50
    assert TubeResult.objects.count() == 50


def test_the_periodic_reaper_marks_silent_jobs_failed(world: World) -> None:
    old = timezone.now() - dt.timedelta(seconds=601)
    silent = Job.objects.create(
        kind="x", owner_id=1, state=JobState.RUNNING, created_at=old, heartbeat_at=old
    )
    live = Job.objects.create(
        kind="x", owner_id=1, state=JobState.RUNNING, created_at=old, heartbeat_at=timezone.now()
    )
    long_done = Job.objects.create(
        kind="x",
        owner_id=1,
        state=JobState.DONE,
        created_at=old,
        finished_at=timezone.now() - dt.timedelta(hours=25),
    )
    recent = Job.objects.create(
        kind="x", owner_id=1, state=JobState.DONE, created_at=old, finished_at=timezone.now()
    )
    for job in (long_done, recent):
        JobFile.objects.create(job=job, role="output", name="x.xlsx", data=b"clear data")
    call_command("periodic", stdout=StringIO())
    assert Job.objects.get(pk=live.pk).state == JobState.RUNNING
    # An export finished a day ago is no longer kept; a recent one is
    assert list(JobFile.objects.values_list("job_id", flat=True)) == [recent.pk]
    silent.refresh_from_db()
    assert silent.state == JobState.FAILED and silent.finished_at is not None


def test_a_bad_file_fails_the_job_with_its_lines_on_the_page(world: World) -> None:
    received_tubes(world, 3)
    lab = _client(world.lab_user)
    bad = results_csv([("J0000000", "阴性", "", "", T), ("NOPE", "阴性", "", "", T)])
    r = lab.post(reverse("testing:lab_results"), {"file": SimpleUploadedFile("b.csv", bad)})
    job = job_of(r)  # 303 to the page with ?job=
    assert job.state == JobState.FAILED
    html = lab.get(r["Location"]).content.decode()
    assert 'data-testid="job-error"' in html and 'data-code="import_rows_invalid"' in html
    assert 'data-line="3"' in html
    assert TubeResult.objects.count() == 0


def test_who_may_see_a_job(world: World, make_user: Any) -> None:
    barcodes = received_tubes(world, 5)
    r = _upload(_client(world.lab_user), big_file(barcodes))
    job_id = r.json()["id"]
    colleague = make_user(Role.LAB, world.tree.city, "lab-1-colleague")
    colleague.place = world.lab
    colleague.save(update_fields=["place"])
    assert _client(colleague).get(f"/api/jobs/{job_id}").status_code == 200
    # Another lab, another jurisdiction's worker, command of the city: none may see it
    for user in (world.lab_user_b, world.community_a, world.sampler):
        c = _client(user)
        for url in (
            f"/api/jobs/{job_id}",
            f"/api/jobs/{job_id}/file",
            reverse("web:job_detail", args=[job_id]),
            reverse("web:job_download", args=[job_id]),
            f"{reverse('testing:lab_results')}?job={job_id}",
        ):
            assert c.get(url).status_code in (403, 404), (user, url)
        assert c.post(f"/api/jobs/{job_id}/rerun").status_code == 404
    # The colleague may see it but not re-run it (owner only)
    assert _client(colleague).post(f"/api/jobs/{job_id}/rerun").status_code == 404
    # Not logged in: 401 by API, the login page otherwise
    assert Client().get(f"/api/jobs/{job_id}").status_code == 401
    assert Client().get(reverse("web:job_detail", args=[job_id])).status_code == 302
    # An import has no file to download, even for its owner
    assert _client(world.lab_user).get(f"/api/jobs/{job_id}/file").json()["code"] == "job_no_file"


def test_a_job_of_unknown_kind_fails_with_its_reason(world: World) -> None:
    job = Job.objects.create(
        kind="fangkong.nowhere.KIND", owner_id=world.lab_user.pk, created_at=timezone.now()
    )
    assert jobs.job_run.call(job.pk) == JobState.FAILED
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.error_code == "job_kind_unknown"
    # A job delivered twice runs once
    assert jobs.job_run.call(job.pk) == "skipped"


def labs_kind() -> jobs.JobKind:
    from fangkong.testing.tasks_labs import RESULTS_IMPORT

    return RESULTS_IMPORT


def test_kinds_are_found_from_their_path() -> None:
    kind = labs_kind()
    assert jobs.kind_of(Job(kind=kind.path)) is kind


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    host = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    return f"postgres://{s['USER']}{password}@{host}/{s['NAME']}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_sigkilled_midway_leaves_a_failed_job_and_no_duplicate(
    tree: Any, make_user: Any, settings: Any
) -> None:
    """A real `fangkong db_worker` process on the database backend, SIGKILLed while the
    import runs: the job is shown failed (no heartbeat), its re-run imports every row once."""
    world = build_world(tree, make_user)
    barcodes = received_tubes(world, ROWS)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    r = _upload(_client(world.lab_user), big_file(barcodes))
    assert r.status_code == 202 and r.json()["state"] == "queued"  # no worker yet
    job_id = r.json()["id"]
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "FANGKONG_TASK_BACKEND": "django_tasks_db.DatabaseBackend",
        "FANGKONG_JOB_PROGRESS_SECONDS": "0",  # a write per row: slow enough to cut
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }
    env.pop("FANGKONG_TEST_DB", None)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fangkong.cli",
            "db_worker",
            "--batch",
            "--no-reload",
            "--no-startup-delay",
            "--verbosity",
            "0",
        ],
        env=env,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            job = Job.objects.get(pk=job_id)
            if job.state == JobState.RUNNING and job.rows_done >= 1000:
                break
            assert worker.poll() is None, "the worker ended before it was killed"
            time.sleep(0.05)
        else:
            pytest.fail("the worker never got to 1,000 rows")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    job = Job.objects.get(pk=job_id)
    assert job.state == JobState.RUNNING and 1000 <= job.rows_done < ROWS
    assert TubeResult.objects.count() == 0
    # Its heartbeat goes stale: the status shows it failed with the reason
    settings.JOB_STALE_SECONDS = 1
    time.sleep(1.5)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    lab = _client(world.lab_user)
    status = lab.get(f"/api/jobs/{job_id}").json()
    assert status["state"] == "failed" and status["error_code"] == "job_lost"
    # Re-run (in-process here): every row once
    r = lab.post(f"/api/jobs/{job_id}/rerun")
    assert r.status_code == 202 and r.json()["state"] == "done", r.json()
    assert TubeResult.objects.count() == ROWS
    assert TubeResult.objects.values("tube_id").distinct().count() == ROWS
    assert ResultImport.objects.count() == 1
