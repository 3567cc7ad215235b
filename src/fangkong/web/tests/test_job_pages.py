"""/jobs/<id>/: a job's permalink leads to the page the job belongs to (its kind's page
with `?job=<id>`); a job whose kind has no page (code that moved) is shown here, with
no re-run for a failure a re-run cannot cure."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fangkong.accounts.roles import Role
from fangkong.core import jobs
from fangkong.core.models import Job, JobState

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_a_job_without_a_page_is_shown_on_its_own_page(tree: Any, make_user: Any) -> None:
    owner = make_user(Role.COMMAND, tree.city, "owner")
    job = Job.objects.create(
        kind="fangkong.nowhere.KIND", owner_id=owner.pk, created_at=timezone.now()
    )
    assert jobs.job_run.call(job.pk) == JobState.FAILED
    url = reverse("web:job_detail", args=[job.pk])
    assert jobs.job_page_url(job) == url
    page = _client(owner).get(url)
    html = page.content.decode()
    assert page.status_code == 200 and 'data-code="job_kind_unknown"' in html
    assert 'data-testid="job-rerun"' not in html and 'data-testid="job-progress"' not in html
    assert _client(owner).post(reverse("web:job_rerun", args=[job.pk])).status_code == 409
    other = make_user(Role.COMMAND, tree.city, "other")
    assert _client(other).get(url).status_code == 404


def test_only_a_lost_or_crashed_job_is_rerunnable() -> None:
    for code, expected in (
        ("job_lost", True),
        ("job_crashed", True),
        ("import_rows_invalid", False),
        ("file_header_invalid", False),
        ("round_not_planned", False),
        ("job_kind_unknown", False),
    ):
        job = Job(state=JobState.FAILED, error_code=code)
        assert jobs.job_rerunnable(job) is expected, code
    assert jobs.job_rerunnable(Job(state=JobState.DONE, error_code="")) is False
