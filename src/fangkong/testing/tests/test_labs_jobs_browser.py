"""In a real browser: a lab uploads 10,000 results; the import is a background job on
the database backend; the page's progress bar (web/static/web/jobs.js polling the status
endpoint) follows it while a worker runs it, reaches 100% and shows the report."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from fangkong.core.models import Job, JobState
from fangkong.testing.models import TubeResult
from fangkong.testkit.worlds.labs import build_world

from .test_labs_browser import _login
from .test_labs_jobs import ROWS, big_file, received_tubes


@pytest.mark.browser
def test_the_progress_bar_of_a_10000_row_import_reaches_100_and_shows_the_report(
    transactional_db: None,
    live_server: Any,
    browser_page: Any,
    tree: Any,
    make_user: Any,
    settings: Any,
    tmp_path: Any,
) -> None:
    world = build_world(tree, make_user)
    path = tmp_path / "results.csv"
    path.write_bytes(big_file(received_tubes(world, ROWS)))
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.JOB_PROGRESS_SECONDS = 0.01
    page = browser_page

    _login(page, live_server, world.lab_user)
    page.goto(f"{live_server.url}/testing/lab/results/")
    page.set_input_files("[data-testid=results-file]", str(path))
    page.click("[data-testid=results-import] button[type=submit]")
    panel = page.locator("[data-testid=job]")
    panel.wait_for()
    # Queued: no worker has taken it yet, the bar waits and no report is shown
    assert panel.get_attribute("data-job-state") == "queued"
    assert page.locator("[data-testid=import-report]").count() == 0
    job = Job.objects.get()
    assert job.state == JobState.QUEUED

    # A worker runs it (the page keeps polling meanwhile)
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)
    assert Job.objects.get().state == JobState.DONE

    # The page follows by itself: the bar at 100% and the report of 10,000 rows
    report = page.locator("[data-testid=import-report]")
    report.wait_for(timeout=15_000)
    assert page.locator("[data-testid=job-progress]").get_attribute("value") == "100"
    assert page.locator("[data-testid=job-percent]").inner_text() == "100%"
    assert page.locator("[data-testid=job-rows]").inner_text() == f"{ROWS} / {ROWS}"
    assert report.locator("[data-figure=applied] .kpi-value").inner_text() == str(ROWS)
    assert page.url.endswith(f"?job={job.pk}")
    assert TubeResult.objects.count() == ROWS
