"""The results import's page and its job (decision 0010), as a user meets them: a
reload never imports twice (Post/Redirect/Get), a file already imported or refused
shows no "0 / 0 100%" nor a half bar, a refusal offers no re-run, a queued job says it
waits (and that no worker seems to run when none does), and the tables keep their
column labels on a phone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from fangkong.core import jobs
from fangkong.core.models import Job, JobState
from fangkong.testing.models import ResultImport, TubeResult
from fangkong.testkit.jobs import job_of
from fangkong.testkit.worlds.labs import World, build_world, received_tube, results_csv
from fangkong.web.tests.test_i18n import english_catalogue_compiled  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

T = "2022-07-10 14:00"
PAGE = "/testing/lab/results/"


@pytest.fixture
def world(tree: Any, make_user: Any) -> World:
    return build_world(tree, make_user)


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _post(c: Client, data: bytes, name: str = "r.csv") -> Any:
    return c.post(PAGE, {"file": SimpleUploadedFile(name, data)})


def test_the_upload_answers_303_and_a_reload_imports_nothing_again(world: World) -> None:
    received_tube(world, world.persons_a, barcode="TA1")
    lab = _client(world.lab_user)
    r = _post(lab, results_csv([("TA1", "阴性", "", "", T)]))
    job = job_of(r)
    assert r["Location"] == f"{PAGE}?job={job.pk}"
    for _reload in range(3):
        page = lab.get(r["Location"])
        assert page.status_code == 200 and 'data-testid="import-report"' in page.content.decode()
    assert Job.objects.count() == 1 and ResultImport.objects.count() == 1
    assert TubeResult.objects.count() == 1


def test_a_queued_upload_reloaded_stays_one_job_and_says_it_waits(
    world: World, settings: Any
) -> None:
    received_tube(world, world.persons_a, barcode="TA1")
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    lab = _client(world.lab_user)
    r = _post(lab, results_csv([("TA1", "阴性", "", "", T)]))
    job = job_of(r)
    assert job.state == JobState.QUEUED
    html = lab.get(r["Location"]).content.decode()
    lab.get(r["Location"])
    assert Job.objects.count() == 1
    # No animated bar with a lone "0": the note says it waits for the background worker
    assert 'data-testid="job-note">排队中，等待后台处理<' in html
    assert '<div class="job-progress" data-job-bar hidden>' in html
    assert 'data-testid="job-rows"></span>' in html
    assert "db_worker" not in html
    status = lab.get(f"/api/jobs/{job.pk}").json()
    assert status["note"] == "排队中，等待后台处理" and status["state_label"] == "排队中"


def test_a_job_queued_long_with_no_worker_asks_for_one(world: World, settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.JOB_QUEUED_WARN_SECONDS = 60
    long_ago = timezone.now() - dt.timedelta(seconds=61)
    job = Job.objects.create(
        kind=_kind().path,
        owner_id=world.lab_user.pk,
        params={"lab_id": world.lab.pk},
        created_at=long_ago,
    )
    lab = _client(world.lab_user)
    html = lab.get(f"{PAGE}?job={job.pk}").content.decode()
    assert "后台处理进程似乎未运行" in html and "fangkong db_worker" in html
    assert '<p class="flash flash-warning" data-job-note' in html
    stalled = lab.get(f"/api/jobs/{job.pk}").json()
    assert "db_worker" in stalled["note"] and stalled["no_worker"] is True
    # A worker busy with another job (its heartbeat fresh) is not a missing worker
    busy = Job.objects.create(
        kind=job.kind,
        owner_id=world.lab_user.pk,
        state=JobState.RUNNING,
        created_at=long_ago,
        heartbeat_at=timezone.now(),
    )
    assert lab.get(f"/api/jobs/{job.pk}").json()["note"] == "排队中，等待后台处理"
    # … nor is a job queued a moment ago
    Job.objects.filter(pk=busy.pk).delete()
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now())
    assert lab.get(f"/api/jobs/{job.pk}").json()["note"] == "排队中，等待后台处理"


def test_the_queued_notes_are_in_english_too(
    english_catalogue_compiled: None,  # noqa: F811
    world: World,
    settings: Any,
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    job = Job.objects.create(
        kind=_kind().path, owner_id=world.lab_user.pk, created_at=timezone.now()
    )
    with translation.override("en"):
        assert jobs.job_note(job) == "Queued, waiting for the background worker"
        Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
        job.refresh_from_db()
        assert "fangkong db_worker" in jobs.job_note(job)
        assert "No background worker" in jobs.job_note(job)


def test_a_file_already_imported_shows_no_zero_of_zero(world: World) -> None:
    received_tube(world, world.persons_a, barcode="TA1")
    lab = _client(world.lab_user)
    data = results_csv([("TA1", "阴性", "", "", T)])
    job_of(_post(lab, data))
    again = _post(lab, data)
    job = job_of(again)
    assert job.state == JobState.DONE and job.result["duplicate"] is True
    assert job.rows_total is None  # nothing was counted: the file was not even read
    html = lab.get(again["Location"]).content.decode()
    assert "该文件已导入过，未作任何修改" in html
    assert "0 / 0" not in html and 'data-testid="job-percent">100%<' not in html
    assert 'data-figure="rows"><div class="kpi-label">行数</div><div class="kpi-value">1<' in html


def test_a_refused_file_shows_the_failure_and_offers_no_rerun(world: World) -> None:
    received_tube(world, world.persons_a, barcode="TA1")
    lab = _client(world.lab_user)
    bad = results_csv([("TA1", "阴性", "", "", T), ("NOPE", "阴性", "", "", T)])
    r = _post(lab, bad)
    job = job_of(r)
    assert job.state == JobState.FAILED and job.error_code == "import_rows_invalid"
    html = lab.get(r["Location"]).content.decode()
    assert 'data-testid="job-error"' in html and 'data-line="3"' in html
    assert 'data-testid="job-progress"' not in html and 'data-testid="job-rerun"' not in html
    # Re-running it would fail the same way: refused, by the page and by the API
    assert lab.post(reverse("web:job_rerun", args=[job.pk])).status_code == 409
    api = lab.post(f"/api/jobs/{job.pk}/rerun")
    assert (api.status_code, api.json()["code"]) == (409, "job_not_rerunnable")
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.attempts == 1
    assert TubeResult.objects.count() == 0


def test_a_bad_header_fails_without_a_half_bar(world: World) -> None:
    lab = _client(world.lab_user)
    r = _post(lab, "什么,列\n1,2\n".encode())
    job = job_of(r)
    assert job.state == JobState.FAILED
    html = lab.get(r["Location"]).content.decode()
    assert 'data-testid="job-error"' in html
    assert 'data-testid="job-progress"' not in html and "0 / 1" not in html
    assert 'data-testid="job-rerun"' not in html


def test_a_lost_job_is_rerun_from_its_page_and_lands_back_there(world: World) -> None:
    received_tube(world, world.persons_a, barcode="TA1")
    job = Job.objects.create(
        kind=_kind().path,
        owner_id=world.lab_user.pk,
        params={"lab_id": world.lab.pk, "ip": ""},
        state=JobState.FAILED,
        error_code="job_lost",
        error_message="任务中断",
        created_at=timezone.now(),
    )
    jobs.job_file_save(
        job, role="input", name="r.csv", data=results_csv([("TA1", "阴性", "", "", T)])
    )
    lab = _client(world.lab_user)
    html = lab.get(f"{PAGE}?job={job.pk}").content.decode()
    assert 'data-testid="job-rerun"' in html
    r = lab.post(reverse("web:job_rerun", args=[job.pk]))
    assert (r.status_code, r["Location"]) == (303, f"{PAGE}?job={job.pk}")
    assert Job.objects.get(pk=job.pk).state == JobState.DONE


def test_the_tables_keep_their_column_labels_on_a_phone(world: World) -> None:
    received_tube(world, world.persons_a, barcode="TA1")
    lab = _client(world.lab_user)
    job_of(_post(lab, results_csv([("TA1", "阴性", "", "", T)])))
    bad = _post(lab, results_csv([("NOPE", "阴性", "", "", T)]))
    html = lab.get(bad["Location"]).content.decode()
    labels = ("行号", "条目", "错误", "文件", "导入时间", "行数", "新入库", "订正", "阳性管")
    labels += ("轮次", "管数", "采样至出结果中位数", "接收至出结果P90")
    for label in labels:
        assert f'data-label="{label}"' in html, label
    # Every body cell of the three tables carries its label
    for table in ("import-errors", "import-list", "turnaround"):
        body = html.split(f'data-testid="{table}"', 1)[1].split("</tbody>", 1)[0]
        body = body.split("<tbody>", 1)[1]
        assert body.count("<td") == body.count("data-label="), table


def _kind() -> jobs.JobKind:
    from fangkong.testing.tasks_labs import RESULTS_IMPORT

    return RESULTS_IMPORT
