"""The scan-log import as a background job: progress to the end, the report as the job's
result, a re-run that adds nothing twice, and who may see the job."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from fangkong.accounts.roles import Role
from fangkong.core import jobs
from fangkong.core.models import Job, JobFile, JobState
from fangkong.scans.models import ScanImport, VenueScan
from fangkong.testkit.jobs import job_of

from .test_ingest_bounds import person_and_venue  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

SCANS_API = "/api/tracing/scan-imports"


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _log(number: str, minutes: int) -> bytes:
    lines = ["id_number,venue_code,scanned_at"]
    lines += [
        f"{number},V0,2022-07-03T{8 + m // 60:02d}:{m % 60:02d}:00+08:00" for m in range(minutes)
    ]
    return ("\n".join(lines) + "\n").encode()


def test_a_scan_log_is_ingested_by_a_job_with_progress(
    investigator: Any,
    person_and_venue: str,  # noqa: F811
    settings: Any,
) -> None:
    settings.JOB_PROGRESS_SECONDS = 0.0
    seen: list[int] = []

    def listen(sender: Any, *, rows_done: int, **kw: Any) -> None:
        seen.append(rows_done)

    jobs.job_progressed.connect(listen)
    try:
        r = _client(investigator).post(
            SCANS_API, {"file": SimpleUploadedFile("day.csv", _log(person_and_venue, 300))}
        )
    finally:
        jobs.job_progressed.disconnect(listen)
    assert r.status_code == 202, r.content
    body = r.json()
    assert body["state"] == "done" and body["percent"] == 100
    assert (body["rows_done"], body["rows_total"]) == (300, 300)
    assert body["result"]["added"] == 300 and body["result"]["bad"] == 0
    assert len(set(seen)) > 100 and seen == sorted(seen)
    assert VenueScan.objects.count() == 300
    # The page of the job shows the report
    page = _client(investigator).get(f"{reverse('tracing:scan_import')}?job={body['id']}")
    assert page.status_code == 200 and 'data-testid="import-added">300<' in page.content.decode()


def test_a_failed_scan_import_is_rerun_without_duplicates(
    investigator: Any,
    person_and_venue: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fangkong.scans import ingest

    store = ingest._store

    def killed(**kwargs: Any) -> Any:
        store(**kwargs)  # written in the transaction, then the worker dies
        raise RuntimeError("worker killed")

    monkeypatch.setattr(ingest, "_store", lambda **kw: ingest.transaction.atomic(killed)(**kw))
    api = _client(investigator)
    data = _log(person_and_venue, 50)
    r = api.post(SCANS_API, {"file": SimpleUploadedFile("day.csv", data)})
    assert r.json()["state"] == "failed" and r.json()["error_code"] == "job_crashed"
    assert VenueScan.objects.count() == 0 and ScanImport.objects.count() == 0
    # The upload kept for the re-run carries ID numbers: it is stored encrypted
    kept = JobFile.objects.get(job_id=r.json()["id"])
    assert person_and_venue.encode() not in bytes(kept.data)
    assert b"id_number" not in bytes(kept.data)
    assert jobs.job_file_data(kept) == data
    monkeypatch.setattr(ingest, "_store", store)
    again = api.post(f"/api/jobs/{r.json()['id']}/rerun").json()
    assert again["state"] == "done" and again["result"]["added"] == 50
    assert VenueScan.objects.count() == 50 and ScanImport.objects.count() == 1


def test_who_may_see_a_scan_import_job(
    tree: Any,
    make_user: Any,
    investigator: Any,
    person_and_venue: str,  # noqa: F811
) -> None:
    r = _client(investigator).post(
        SCANS_API, {"file": SimpleUploadedFile("day.csv", _log(person_and_venue, 2))}
    )
    job_id = r.json()["id"]
    assert Job.objects.get(pk=job_id).state == JobState.DONE
    colleague = make_user(Role.INVESTIGATOR, tree.city, "investigator-2")
    assert _client(colleague).get(f"/api/jobs/{job_id}").status_code == 200
    for user in (
        make_user(Role.TOWN_STAFF, tree.town_a, "town-a"),
        make_user(Role.COMMUNITY_WORKER, tree.community_a, "community-a"),
        make_user(Role.LAB, tree.city, "lab"),
    ):
        c = _client(user)
        assert c.get(f"/api/jobs/{job_id}").status_code == 404, user
        assert c.get(reverse("web:job_detail", args=[job_id])).status_code == 404, user
        assert c.get(f"{reverse('tracing:scan_import')}?job={job_id}").status_code in (403, 404)


def test_the_import_page_answers_303_and_a_reload_ingests_nothing_again(
    investigator: Any,
    person_and_venue: str,  # noqa: F811
) -> None:
    page = reverse("tracing:scan_import")
    c = _client(investigator)
    r = c.post(page, {"file": SimpleUploadedFile("day.csv", _log(person_and_venue, 5))})
    job = job_of(r)
    assert r["Location"] == f"{page}?job={job.pk}"
    for _reload in range(2):
        html = c.get(r["Location"]).content.decode()
        assert 'data-testid="import-added">5<' in html
        assert 'data-testid="job-rows">5 / 5<' in html  # a counted work keeps its count
    assert Job.objects.count() == 1 and ScanImport.objects.count() == 1
    assert VenueScan.objects.count() == 5
    # No file chosen: refused on the page at once (400), no job
    assert c.post(page, {}).status_code == 400
    assert Job.objects.count() == 1
