"""In a real browser: the job panel (web/static/web/jobs.js) says a queued job waits
(no bar, no lone "0"), follows it running (bar, rows of total, phase) and lands on the
job's page when done; a reload while queued starts no second job; an export is started
by its button (the one in clear asks first) and offers its file with the way back.

FANGKONG_SHOTS=<dir> saves screenshots of the pages (desktop 1366x900, phone 390x844)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from fangkong.accounts.models import AuditEvent
from fangkong.core.models import Job, JobState
from fangkong.testkit.worlds.coverage import build_world as coverage_world
from fangkong.testkit.worlds.labs import build_world, received_tube, results_csv

from .test_labs_browser import _login

T = "2022-07-10 14:00"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("FANGKONG_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.mark.browser
def test_the_panel_says_queued_then_follows_the_job_and_a_reload_adds_none(
    transactional_db: None,
    live_server: Any,
    browser_page: Any,
    tree: Any,
    make_user: Any,
    settings: Any,
    tmp_path: Any,
) -> None:
    world = build_world(tree, make_user)
    received_tube(world, world.persons_a, barcode="TA1")
    path = tmp_path / "results.csv"
    path.write_bytes(results_csv([("TA1", "阴性", "", "", T)]))
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    page = browser_page
    page.set_viewport_size(DESKTOP)
    _login(page, live_server, world.lab_user)
    page.goto(f"{live_server.url}/testing/lab/results/")
    page.set_input_files("[data-testid=results-file]", str(path))
    page.click("[data-testid=results-import] button[type=submit]")
    panel = page.locator("[data-testid=job]")
    panel.wait_for()
    job = Job.objects.get()
    assert page.url.endswith(f"/testing/lab/results/?job={job.pk}")
    # Queued: the note, no bar, no lone "0"
    note = page.get_by_test_id("job-note")
    assert note.is_visible() and note.inner_text() == "排队中，等待后台处理"
    assert not page.get_by_test_id("job-progress").is_visible()
    assert page.get_by_test_id("job-rows").inner_text() == ""
    _shot(page, "results-queued-desktop")
    # A reload shows the same job: nothing re-posted, nothing queued again
    page.reload()
    panel.wait_for()
    assert Job.objects.count() == 1 and page.url.endswith(f"?job={job.pk}")

    # Queued long with no worker running any job: the poll brings the warning
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    page.wait_for_function(
        "() => document.querySelector('[data-testid=job-note]').textContent"
        ".includes('fangkong db_worker')"
    )
    assert "后台处理进程似乎未运行" in note.inner_text()
    assert note.get_attribute("class") == "flash flash-warning"
    _shot(page, "results-no-worker-desktop")
    page.set_viewport_size(PHONE)
    _shot(page, "results-no-worker-phone")
    page.set_viewport_size(DESKTOP)

    # A worker takes it (here: the row as a worker writes it); the poll follows
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING,
        rows_done=20,
        rows_total=50,
        phase="read",
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    page.wait_for_function(
        "() => document.querySelector('[data-testid=job-rows]').textContent === '20 / 50'"
    )
    assert page.get_by_test_id("job-progress").is_visible()
    assert not note.is_visible()
    assert page.get_by_test_id("job-state").inner_text() == "进行中"
    assert page.get_by_test_id("job-phase").inner_text() == "读取文件"
    assert page.get_by_test_id("job-percent").inner_text() == "40%"
    page.set_viewport_size(PHONE)
    _shot(page, "results-running-phone")
    page.set_viewport_size(DESKTOP)

    # Done: the page goes to the job's page, which shows the report
    Job.objects.filter(pk=job.pk).update(
        state=JobState.DONE,
        rows_done=1,
        rows_total=1,
        phase="",
        finished_at=timezone.now(),
        result={
            "rows": 1,
            "applied": 1,
            "unchanged": 0,
            "corrected": 0,
            "positives": 0,
            "holds": 0,
            "rechecks": 0,
            "duplicate": False,
        },
    )
    page.get_by_test_id("import-report").wait_for()
    assert page.url.endswith(f"?job={job.pk}")
    assert page.get_by_test_id("job-state").inner_text() == "已完成"
    assert page.get_by_test_id("job-rows").inner_text() == "1 / 1"
    assert Job.objects.count() == 1


@pytest.mark.browser
def test_a_refused_file_on_a_phone_shows_its_lines_labelled_and_no_rerun(
    transactional_db: None,
    live_server: Any,
    browser_page: Any,
    tree: Any,
    make_user: Any,
    tmp_path: Any,
) -> None:
    world = build_world(tree, make_user)
    received_tube(world, world.persons_a, barcode="TA1")
    good = tmp_path / "good.csv"
    good.write_bytes(results_csv([("TA1", "阴性", "", "", T)]))
    bad = tmp_path / "bad.csv"
    bad.write_bytes(results_csv([("TA1", "阳性", 20, 21, T), ("NOPE", "阴性", "", "", T)]))
    page = browser_page
    page.set_viewport_size(PHONE)
    _login(page, live_server, world.lab_user)
    page.goto(f"{live_server.url}/testing/lab/results/")
    page.set_input_files("[data-testid=results-file]", str(good))
    page.click("[data-testid=results-import] button[type=submit]")
    page.get_by_test_id("import-report").wait_for()
    page.set_input_files("[data-testid=results-file]", str(bad))
    page.click("[data-testid=results-import] button[type=submit]")
    page.get_by_test_id("job-error").wait_for()
    assert page.get_by_test_id("job-rerun").count() == 0
    assert page.get_by_test_id("job-progress").count() == 0
    # On a phone each cell says which column it is (the header row is hidden)
    cell = page.locator("[data-testid=import-error] td").nth(1)
    label = cell.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"条目"'
    imported = page.locator("[data-testid=import-list] tbody td").first
    assert imported.evaluate("td => getComputedStyle(td, '::before').content") == '"文件"'
    _shot(page, "results-refused-phone")
    page.set_viewport_size(DESKTOP)
    _shot(page, "results-refused-desktop")


@pytest.mark.browser
def test_an_export_is_started_by_its_button_and_offers_its_file(
    transactional_db: None,
    live_server: Any,
    browser_page: Any,
    tree: Any,
    make_user: Any,
) -> None:
    world = coverage_world(tree, make_user)
    community = "330483102001"
    page = browser_page
    page.set_viewport_size(DESKTOP)
    _login(page, live_server, world.users["worker_a"])
    untested = reverse("testing:coverage_untested", args=[world.round.pk, community])
    page.goto(live_server.url + untested)
    page.get_by_test_id("export-masked").click()
    page.get_by_test_id("export-result").wait_for()
    job = Job.objects.get()
    assert page.url.endswith(f"/export/?job={job.pk}")
    assert page.get_by_test_id("export-rows").inner_text() == "3 行"
    assert page.get_by_test_id("job-rows").inner_text() == ""
    assert page.get_by_test_id("job-percent").inner_text() == ""
    _shot(page, "export-done-desktop")
    with page.expect_download() as download:
        page.get_by_test_id("job-download").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    # A reload of the job's page writes no second file
    page.reload()
    page.get_by_test_id("export-result").wait_for()
    assert Job.objects.count() == 1
    assert AuditEvent.objects.filter(action="coverage.untested_export").count() == 1
    # The clear export asks first: dismissed, nothing is started
    asked: list[str] = []

    def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.get_by_test_id("export-revealed").click()
    page.wait_for_timeout(300)
    assert asked and "审计" in asked[0] and Job.objects.count() == 1
    page.remove_listener("dialog", dismiss)
    page.get_by_test_id("job-back").click()
    page.wait_for_url(f"**{untested}")
    page.set_viewport_size(PHONE)
    export = reverse("testing:coverage_untested_export", args=[world.round.pk, community])
    page.goto(f"{live_server.url}{export}?job={job.pk}")
    _shot(page, "export-done-phone")
