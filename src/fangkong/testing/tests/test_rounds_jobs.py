"""Opening a round as a background job (decision 0010): queued on the database backend
and run by a worker, a run killed inside its transaction re-run without a duplicate
target, and who may see the job."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from fangkong.core import jobs
from fangkong.core.models import JobState
from fangkong.testing.models import RoundStatus, RoundTarget
from fangkong.testing.services import rounds as services
from fangkong.testkit.clock import at
from fangkong.testkit.worlds.rounds import World, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree: Any, make_user: Any) -> World:
    return build_world(tree, make_user)


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _round(world: World) -> Any:
    return services.round_create(
        actor=world.town_a_user, name="乌镇", jurisdictions=[world.tree.town_a], starts_at=at(10, 6)
    )


def test_opening_a_round_is_queued_and_run_by_a_worker(world: World, settings: Any) -> None:
    rnd = _round(world)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    a = _client(world.town_a_user)
    r = a.post(f"/api/testing/rounds/{rnd.pk}/open")
    assert r.status_code == 202 and r.json()["state"] == "queued"
    job_id = r.json()["id"]
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.PLANNED
    # The page's button goes to the job's page while it waits
    page = a.post(reverse("testing:round_open", args=[rnd.pk]))
    second = jobs.Job.objects.latest("pk")
    assert second.pk != job_id and second.state == JobState.QUEUED
    # Post/Redirect/Get: to the round's page showing the job
    assert page.status_code == 303
    assert page.url == f"{reverse('testing:round_detail', args=[rnd.pk])}?job={second.pk}"

    assert jobs.job_run.call(job_id) == JobState.DONE  # what a worker does
    status = a.get(f"/api/jobs/{job_id}").json()
    assert status["state"] == "done" and status["result"]["target_count"] == 15
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.OPEN and RoundTarget.objects.filter(round=rnd).count() == 15
    html = a.get(reverse("web:job_detail", args=[job_id]), follow=True).content.decode()
    assert 'data-testid="round-open-result"' in html
    # The second request's job finds the round open: failed with the reason, nothing done
    assert jobs.job_run.call(second.pk) == JobState.FAILED
    assert a.get(f"/api/jobs/{second.pk}").json()["error_code"] == "round_not_planned"
    assert RoundTarget.objects.filter(round=rnd).count() == 15
    # Command of the city may follow it; the other town may not
    assert _client(world.command).get(f"/api/jobs/{job_id}").status_code == 200
    assert _client(world.town_b_user).get(f"/api/jobs/{job_id}").status_code == 404
    assert (
        _client(world.town_b_user).get(reverse("web:job_detail", args=[job_id])).status_code == 404
    )


def test_an_opening_killed_midway_is_rerun_without_duplicate_targets(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    rnd = _round(world)
    refresh = services.target_statistics_refresh

    def killed() -> None:  # after the targets were inserted, inside the transaction
        assert RoundTarget.objects.filter(round=rnd).count() == 15
        raise RuntimeError("worker killed")

    monkeypatch.setattr(services, "target_statistics_refresh", killed)
    a = _client(world.town_a_user)
    r = a.post(f"/api/testing/rounds/{rnd.pk}/open")
    assert r.status_code == 409 and r.json()["code"] == "job_crashed"
    job_id = jobs.Job.objects.get().pk
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.PLANNED and not RoundTarget.objects.filter(round=rnd).exists()

    monkeypatch.setattr(services, "target_statistics_refresh", refresh)
    again = a.post(f"/api/jobs/{job_id}/rerun").json()
    assert again["state"] == "done" and again["result"]["target_count"] == 15
    assert RoundTarget.objects.filter(round=rnd).count() == 15
    assert RoundTarget.objects.filter(round=rnd).values("person_id").distinct().count() == 15
    # Opening it again is refused at once, no job
    assert a.post(f"/api/testing/rounds/{rnd.pk}/open").json()["code"] == "round_not_planned"
    assert jobs.Job.objects.count() == 1


def test_the_open_button_answers_303_to_the_round_with_its_job(world: World) -> None:
    rnd = _round(world)
    a = _client(world.town_a_user)
    r = a.post(reverse("testing:round_open", args=[rnd.pk]))
    job = jobs.Job.objects.get()
    assert (r.status_code, r["Location"]) == (
        303,
        f"{reverse('testing:round_detail', args=[rnd.pk])}?job={job.pk}",
    )
    html = a.get(r["Location"]).content.decode()
    a.get(r["Location"])  # a reload opens nothing again
    assert jobs.Job.objects.count() == 1
    assert 'data-testid="round-open-result"' in html and "应检人数 15" in html
    assert 'data-status="open"' in html
    # Opening counts no rows: no "0 / 0 100%", no bar
    assert "0 / 0" not in html and 'data-testid="job-percent"></span>' in html
    assert '<div class="job-progress" data-job-bar hidden>' in html
    for odd in ("²", "-1"):  # a ?job= that is no job id: the round, no 500
        assert (
            a.get(reverse("testing:round_detail", args=[rnd.pk]), {"job": odd}).status_code == 200
        )
    # The other town does not see the job
    assert _client(world.town_b_user).get(r["Location"]).status_code == 404
