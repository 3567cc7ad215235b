"""The untested list's export as a background job (decision 0010): on the database
backend the page and the API answer with the job, a worker writes the workbook, and
only its owner downloads it (a separate GET)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from fangkong.accounts.models import AuditEvent
from fangkong.core import jobs
from fangkong.core.models import Job, JobFile, JobState
from fangkong.testkit.jobs import job_of
from fangkong.testkit.worlds.coverage import build_world

pytestmark = pytest.mark.django_db

COMMUNITY = "330483101001"


@pytest.fixture
def world(tree: Any, make_user: Any) -> Any:
    return build_world(tree, make_user)


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_an_export_is_written_by_a_worker_and_downloaded_by_its_owner(
    world: Any, settings: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    owner = _client(world.users["worker_b"])
    url = f"/api/testing/rounds/{world.round.pk}/coverage/communities/{COMMUNITY}/untested.xlsx"
    r = owner.get(url)
    assert r.status_code == 202 and r.json()["state"] == "queued"
    job_id = r.json()["id"]
    # Not written yet: nothing to download, nothing audited
    assert owner.get(f"/api/jobs/{job_id}/file").json()["code"] == "job_no_file"
    assert not AuditEvent.objects.filter(action="coverage.untested_export").exists()
    # The page's export (a POST) goes to the job on the export page (progress, then
    # the link); a GET of that page starts nothing
    export = reverse("testing:coverage_untested_export", args=[world.round.pk, COMMUNITY])
    before = Job.objects.count()
    assert owner.get(export).status_code == 200 and Job.objects.count() == before
    page = owner.post(export)
    second = job_of(page)
    assert page["Location"] == f"{export}?job={second.pk}" and second.state == JobState.QUEUED
    queued = owner.get(page["Location"]).content.decode()
    assert 'data-testid="job-note"' in queued and "排队中，等待后台处理" in queued
    assert 'data-testid="job-download"' not in queued

    assert jobs.job_run.call(job_id) == JobState.DONE  # what a worker does

    status = owner.get(f"/api/jobs/{job_id}").json()
    assert status["state"] == "done" and status["has_file"] is True
    html = owner.get(reverse("web:job_detail", args=[job_id]), follow=True).content.decode()
    assert 'data-testid="job-download"' in html
    for download in (f"/api/jobs/{job_id}/file", reverse("web:job_download", args=[job_id])):
        file = owner.get(download)
        assert file.status_code == 200 and file["Content-Disposition"].startswith("attachment")
        ws = load_workbook(io.BytesIO(file.content)).active
        assert {r[1] for r in ws.iter_rows(min_row=4, values_only=True)} == {"褚*亮", "卫*梅"}
    assert AuditEvent.objects.filter(action="coverage.untested_export").count() == 1
    # The file waiting for its download is stored encrypted: no workbook (a zip) in the row
    stored = bytes(JobFile.objects.get(job_id=job_id, role="output").data)
    assert not stored.startswith(b"PK") and b"xl/worksheets" not in stored
    # Nobody else downloads it: not the town, not command, not another community
    for key in ("town_b", "command", "worker_a", "worker_a2"):
        other = _client(world.users[key])
        assert other.get(f"/api/jobs/{job_id}/file").status_code == 404, key
        assert other.get(reverse("web:job_download", args=[job_id])).status_code == 404, key
        assert other.get(f"/api/jobs/{job_id}").status_code == 404, key


def test_an_export_refused_starts_no_job(world: Any, settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    url = f"/api/testing/rounds/{world.round.pk}/coverage/communities/{COMMUNITY}/untested.xlsx"
    assert _client(world.users["worker_a"]).get(url).status_code == 404  # another community
    assert _client(world.users["sampler"]).get(url).status_code == 403  # no such right
    revealed = _client(world.users["lab"]).post(
        url, {"reveal": True}, content_type="application/json"
    )
    assert revealed.status_code == 403
    assert not Job.objects.exists()


def test_the_export_page_starts_nothing_by_get_and_shows_the_file_by_its_job(world: Any) -> None:
    worker = _client(world.users["worker_b"])
    export = reverse("testing:coverage_untested_export", args=[world.round.pk, COMMUNITY])
    untested = reverse("testing:coverage_untested", args=[world.round.pk, COMMUNITY])
    # The list's buttons are forms that POST (CSRF), the one in clear asks first
    listing = worker.get(untested).content.decode()
    assert f'<form method="post" action="{export}" class="inline">' in listing
    assert 'data-confirm="导出明文清单将记录审计日志，仅限核查工作使用。确定导出？"' in listing
    # Visiting (or reloading) the export URL shows its buttons, never writes a file
    for _visit in range(2):
        page = worker.get(export)
        assert page.status_code == 200 and 'data-testid="export-masked"' in page.content.decode()
    for odd in ("²", "-1", "x" * 40):  # a ?job= that is no job id: the page, no 500
        assert worker.get(export, {"job": odd}).status_code == 200
    assert not Job.objects.exists()
    assert not AuditEvent.objects.filter(action="coverage.untested_export").exists()
    # A POST starts it and answers 303 to its job on this page
    r = worker.post(export)
    job = job_of(r)
    assert r["Location"] == f"{export}?job={job.pk}" and job.state == JobState.DONE
    html = worker.get(r["Location"]).content.decode()
    worker.get(r["Location"])  # a reload: the same job, no new workbook
    assert Job.objects.count() == 1
    assert AuditEvent.objects.filter(action="coverage.untested_export").count() == 1
    # The result: the file's name and rows, a download button, the way back to the list;
    # no "0 / 0" (an export counts no rows) and no bar
    assert 'data-testid="export-filename">' in html and ".xlsx</strong>" in html
    assert 'data-testid="export-rows">2 行<' in html
    assert 'data-testid="job-download"' in html
    assert f'href="{untested}" data-testid="job-back"' in html
    assert "0 / 0" not in html and 'data-testid="job-percent"></span>' in html
    assert '<div class="job-progress" data-job-bar hidden>' in html
    # /jobs/<id>/ leads to the same page
    assert worker.get(reverse("web:job_detail", args=[job.pk]))["Location"] == r["Location"]


def test_the_export_page_is_refused_like_the_export(world: Any) -> None:
    export = reverse("testing:coverage_untested_export", args=[world.round.pk, COMMUNITY])
    for key, status in (("sampler", 403), ("worker_a", 404)):
        c = _client(world.users[key])
        assert c.get(export).status_code == status, key
        assert c.post(export).status_code == status, key
        assert c.post(export, {"reveal": "1"}).status_code == status, key
    assert not Job.objects.exists()
    assert not AuditEvent.objects.filter(action="coverage.untested_export").exists()
