"""A town's problem becomes a task in one action: assigned to the town and/or a
department, its source the problem, and the problem shows its task. Once only; scoped."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from fangkong.accounts.models import AuditEvent
from fangkong.command.models import Assignment, Task, TownReportProblem
from fangkong.command.services import town_reports as services
from fangkong.core.errors import Conflict, NotFound, PermissionDenied
from fangkong.testkit import command as task_kit
from fangkong.testkit.clock import at
from fangkong.testkit.command_town_reports import town_report

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_problem_becomes_a_task_for_the_town_and_a_department(
    tree: Any, town_a_user: Any, command_user: Any, clock: Any, ruleset: Any
) -> None:
    report = town_report(town_a_user, now=at(5, 17))
    problem = report.problems.get(position=1)
    health = task_kit.department("health")
    task = services.town_report_problem_to_task(
        actor=command_user,
        problem_id=problem.pk,
        priority="urgent",
        deadline=at(6, 12),
        department_ids=[health.pk],
        assign_town=True,
        note="请卫健局协调新增隔离房间",
    )
    assert (task.source_type, task.source_id) == ("town_report_problem", str(problem.pk))
    assert task.title == problem.text and "请卫健局协调" in task.body
    parts = Assignment.objects.filter(task=task)
    assert {p.jurisdiction_path for p in parts if p.department_id is None} == {tree.town_a.path}
    assert {p.department_id for p in parts if p.department_id} == {health.pk}
    problem.refresh_from_db()
    report.refresh_from_db()
    assert problem.task_id == task.pk and report.read_at is not None
    assert AuditEvent.objects.filter(action="town_report.problem_task").count() == 1
    with pytest.raises(Conflict) as err:
        services.town_report_problem_to_task(
            actor=command_user,
            problem_id=problem.pk,
            priority="urgent",
            deadline=at(6, 12),
            department_ids=[],
            assign_town=True,
        )
    assert err.value.code == "problem_task_exists"
    assert Task.objects.count() == 1


def test_the_page_turns_a_problem_into_a_task_and_shows_it(
    tree: Any, town_a_user: Any, command_user: Any, clock: Any, ruleset: Any
) -> None:
    report = town_report(town_a_user, now=at(5, 17))
    problem = report.problems.get(position=2)
    client = _client(command_user)
    day_page = client.get("/command/town-reports/?day=2022-07-05").content.decode()
    assert f"/command/town-reports/problems/{problem.pk}/task/" in day_page
    form = client.get(f"/command/town-reports/problems/{problem.pk}/task/")
    assert form.status_code == 200 and problem.text in form.content.decode()
    done = client.post(
        f"/command/town-reports/problems/{problem.pk}/task/",
        {"priority": "urgent", "deadline": "2022-07-06T12:00", "assign_town": "1"},
    )
    assert done.status_code == 302
    task = Task.objects.get()
    shown = client.get("/command/town-reports/?day=2022-07-05").content.decode()
    assert 'data-testid="problem-task"' in shown and f"/command/tasks/{task.pk}/" in shown
    # The task links back to the problem's place.
    detail = client.get(f"/command/tasks/{task.pk}/").content.decode()
    assert f"/command/town-reports/problems/{problem.pk}/" in detail
    back = client.get(f"/command/town-reports/problems/{problem.pk}/")
    assert back.status_code == 302 and back["Location"].endswith(f"#problem-{problem.pk}")
    # The town hears of its task (wtask's notification) and sees it.
    assert Assignment.objects.get(task=task).jurisdiction_path == tree.town_a.path


def test_bad_input_on_the_task_form_writes_nothing(
    tree: Any, town_a_user: Any, command_user: Any, clock: Any, ruleset: Any
) -> None:
    problem = town_report(town_a_user, now=at(5, 17)).problems.first()
    client = _client(command_user)
    url = f"/command/town-reports/problems/{problem.pk}/task/"
    no_one = client.post(url, {"priority": "urgent", "deadline": "2022-07-06T12:00"})
    assert no_one.status_code == 400
    past = client.post(
        url, {"priority": "urgent", "deadline": "2022-07-01T12:00", "assign_town": "1"}
    )
    assert past.status_code == 400
    bad = client.post(url, {"priority": "x", "deadline": "2022-07-06T12:00", "assign_town": "1"})
    assert bad.status_code == 400
    api = client.post(
        f"/api/command/town-reports/problems/{problem.pk}/task",
        {"deadline": "2022-07-06T12:00:00+08:00", "assign_town": False},
        content_type="application/json",
    )
    assert api.status_code == 400 and api.json()["code"] == "assignee_required"
    assert not Task.objects.exists()
    assert TownReportProblem.objects.get(pk=problem.pk).task_id is None


def test_the_api_turns_a_problem_into_a_task(
    tree: Any, town_a_user: Any, command_user: Any, clock: Any, ruleset: Any
) -> None:
    problem = town_report(town_a_user, now=at(5, 17)).problems.first()
    response = _client(command_user).post(
        f"/api/command/town-reports/problems/{problem.pk}/task",
        {"deadline": "2022-07-06T12:00:00+08:00"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["task_id"] == Task.objects.get().pk
    detail = _client(command_user).get(
        f"/api/command/town-reports/{tree.town_a.path}/days/2022-07-05"
    )
    assert detail.json()["problems"][0]["task_id"] == Task.objects.get().pk


def test_a_town_cannot_turn_problems_into_tasks(
    tree: Any, town_a_user: Any, town_b_user: Any, command_user: Any, clock: Any, ruleset: Any
) -> None:
    problem = town_report(town_b_user, now=at(5, 17)).problems.first()
    own = town_report(town_a_user, now=at(5, 17)).problems.first()
    client = _client(town_a_user)
    assert client.get(f"/command/town-reports/problems/{own.pk}/task/").status_code == 403
    api = client.post(
        f"/api/command/town-reports/problems/{problem.pk}/task",
        {"deadline": "2022-07-06T12:00:00+08:00"},
        content_type="application/json",
    )
    assert api.status_code == 403
    assert client.get(f"/command/town-reports/problems/{problem.pk}/").status_code == 404
    with pytest.raises(PermissionDenied):
        services.town_report_problem_to_task(
            actor=town_a_user,
            problem_id=own.pk,
            priority="urgent",
            deadline=at(6, 12),
            department_ids=[],
            assign_town=True,
        )
    with pytest.raises(NotFound):
        services.town_report_problem_to_task(
            actor=command_user,
            problem_id=999999,
            priority="urgent",
            deadline=at(6, 12),
            department_ids=[],
            assign_town=True,
        )
    assert not Task.objects.exists()


def test_the_problem_task_form_puts_each_checkbox_in_its_own_label(
    tree: Any, town_a_user: Any, command_user: Any, clock: Any, ruleset: Any
) -> None:
    import re

    from django.urls import reverse

    report = town_report(town_a_user, now=at(5, 17))
    problem = report.problems.get(position=1)
    health = task_kit.department("health")
    page = (
        _client(command_user)
        .get(reverse("command:town_report_problem_task", kwargs={"pk": problem.pk}))
        .content.decode()
    )
    # a label wraps its own checkbox and then its name, nothing in between
    labels = re.findall(r'<label class="inline"><input type="checkbox"[^>]*> ([^<]+)</label>', page)
    assert tree.town_a.name in labels and health.name in labels
    assert page.count('type="checkbox"') == len(labels)
    assert 'data-testid="problem-task-assignees"' in page
