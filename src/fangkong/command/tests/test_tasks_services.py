"""Tasks across departments and towns: dispatch to a department and two towns, accept,
progress, split, reply, review, escalation, and the refusals (each writes nothing)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.roles import Role
from fangkong.command.choices import AssignmentStatus, TaskStatus
from fangkong.command.models import Assignment, AssignmentEvent, Task
from fangkong.command.selectors import tasks as selectors
from fangkong.command.services import tasks as services
from fangkong.core import deadlines
from fangkong.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fangkong.notices.models import Notification
from fangkong.testkit import command as kit


def _part(task: Any, label: str) -> Assignment:
    return Assignment.objects.select_related("task").get(task=task, assignee_label=label)


def test_dispatch_to_a_department_and_two_towns_then_split_reply_close(
    tree: Any, command_user: Any, town_a_user: Any, town_b_user: Any, department_user: Any
) -> None:
    health = department_user
    worker = kit.community_worker(tree.community_a)

    task = kit.task(
        actor=command_user,
        department_codes=["health"],
        town_paths=[tree.town_a.path, tree.town_b.path],
        source=("case", "7", "BL-0001"),
    )

    assert task.number.startswith("RW-") and task.status == TaskStatus.OPEN
    labels = sorted(task.assignments.values_list("assignee_label", flat=True))
    assert labels == sorted(["卫健局", "乌镇镇", "濮院镇"])
    # each assignee heard of it; the other roles did not
    assert Notification.objects.filter(user=health, kind="task.new").count() == 1
    assert Notification.objects.filter(user=town_a_user, kind="task.new").count() == 1
    assert Notification.objects.filter(user=town_b_user, kind="task.new").count() == 1
    assert not Notification.objects.filter(user=worker).exists()
    assert AuditEvent.objects.filter(action="task.create", object_id=str(task.pk)).count() == 1

    # the town accepts, reports progress and splits to its community
    wuzhen = _part(task, "乌镇镇")
    services.assignment_accept(actor=town_a_user, assignment=wuzhen)
    services.assignment_progress(actor=town_a_user, assignment=wuzhen, text="已部署")
    children = services.assignment_split(
        actor=town_a_user,
        assignment=wuzhen,
        department_ids=[],
        community_paths=[tree.community_a.path],
        note="请排查辖区",
    )
    assert [c.assignee_label for c in children] == ["虹桥村"]
    assert Notification.objects.filter(user=worker, kind="task.new").count() == 1
    # the town cannot reply while its community's part is open
    with pytest.raises(Conflict) as exc:
        services.assignment_reply(actor=town_a_user, assignment=wuzhen, text="完成")
    assert exc.value.code == "assignment_children_open"

    # the community worker answers; the town (not command) reviews it
    child = children[0]
    services.assignment_accept(actor=worker, assignment=child)
    services.assignment_reply(actor=worker, assignment=child, text="已排查 30 户")
    with pytest.raises(PermissionDenied):
        services.assignment_close(actor=command_user, assignment=child)
    services.assignment_close(actor=town_a_user, assignment=child)
    services.assignment_reply(actor=town_a_user, assignment=wuzhen, text="全部完成")
    assert Notification.objects.filter(user=command_user, kind="task.reply").count() == 1

    # command returns one reply, then closes all
    services.assignment_return(actor=command_user, assignment=wuzhen, note="请补充数据")
    wuzhen.refresh_from_db()
    assert wuzhen.status == AssignmentStatus.RETURNED
    services.assignment_reply(actor=town_a_user, assignment=wuzhen, text="已补充")
    for label, user in (("卫健局", health), ("濮院镇", town_b_user)):
        part = _part(task, label)
        services.assignment_accept(actor=user, assignment=part)
        services.assignment_reply(actor=user, assignment=part, text="已完成")
    for label in ("卫健局", "濮院镇", "乌镇镇"):
        services.assignment_close(actor=command_user, assignment=_part(task, label))
    task.refresh_from_db()
    assert task.status == TaskStatus.CLOSED and task.closed_at is not None
    assert AuditEvent.objects.filter(action="task.close").count() == 1
    kinds = list(AssignmentEvent.objects.filter(assignment=wuzhen).values_list("kind", flat=True))
    assert kinds == ["accept", "progress", "split", "reply", "return", "reply", "close"]


def test_department_splits_to_another_department(tree: Any, command_user: Any) -> None:
    health = kit.department_user("health")
    police = kit.department_user("police")
    task = kit.task(actor=command_user, department_codes=["health"])
    part = _part(task, "卫健局")
    services.assignment_accept(actor=health, assignment=part)
    with pytest.raises(InvalidInput) as exc:
        services.assignment_split(
            actor=health,
            assignment=part,
            department_ids=[],
            community_paths=[tree.community_a.path],
        )
    assert exc.value.code == "split_target_invalid"
    [child] = services.assignment_split(
        actor=health,
        assignment=part,
        department_ids=[kit.department("police").pk],
        community_paths=[],
    )
    assert child.assignee_label == "公安局"
    # the police see the task and their part; not the health department's own part
    assert selectors.task_get(user=police, pk=task.pk) == task
    seen = {a.assignee_label for a in selectors.task_assignments(user=police, task=task)}
    assert seen == {"公安局"}
    services.assignment_accept(actor=police, assignment=child)
    services.assignment_reply(actor=police, assignment=child, text="已协查")
    services.assignment_close(actor=health, assignment=child)
    child.refresh_from_db()
    assert child.status == AssignmentStatus.DONE


def test_a_task_without_reply_is_done_when_accepted(
    tree: Any, command_user: Any, town_a_user: Any
) -> None:
    task = kit.task(actor=command_user, town_paths=[tree.town_a.path], reply_required=False)
    services.assignment_accept(actor=town_a_user, assignment=_part(task, "乌镇镇"))
    task.refresh_from_db()
    assert task.status == TaskStatus.CLOSED


def test_scoping(
    tree: Any, command_user: Any, town_a_user: Any, town_b_user: Any, make_user: Any
) -> None:
    health = kit.department_user("health")
    police = kit.department_user("police")
    worker_b = kit.community_worker(tree.community_b)
    to_a = kit.task(actor=command_user, town_paths=[tree.town_a.path])
    to_health = kit.task(actor=command_user, department_codes=["health"])
    both = kit.task(actor=command_user, town_paths=[tree.town_a.path, tree.town_b.path])

    def visible(user: Any) -> set[int]:
        return set(selectors.tasks_visible(user).values_list("pk", flat=True))

    assert visible(command_user) == {to_a.pk, to_health.pk, both.pk}
    assert visible(town_a_user) == {to_a.pk, both.pk}
    assert visible(town_b_user) == {both.pk}
    assert visible(health) == {to_health.pk}
    assert visible(police) == set()
    assert visible(worker_b) == set()  # the town's tasks are not the community's
    with pytest.raises(NotFound):
        selectors.task_get(user=town_b_user, pk=to_a.pk)
    with pytest.raises(NotFound):
        selectors.task_get(user=police, pk=to_health.pk)
    # town B sees its own part of a shared task, not town A's
    assert {a.assignee_label for a in selectors.task_assignments(user=town_b_user, task=both)} == {
        "濮院镇"
    }
    with pytest.raises(NotFound):
        selectors.assignment_get(user=town_b_user, pk=_part(both, "乌镇镇").pk)
    # wrong role: 403
    site = make_user(Role.HOTLINE, tree.city, "hotline")
    with pytest.raises(PermissionDenied):
        selectors.tasks_visible(site)
    # a town may not act on another town's part, nor dispatch
    with pytest.raises(PermissionDenied):
        services.assignment_accept(actor=town_b_user, assignment=_part(both, "乌镇镇"))
    with pytest.raises(PermissionDenied):
        kit.task(actor=town_a_user, town_paths=[tree.town_a.path])
    # the task finder keeps to scope
    assert [t.pk for t in selectors.task_find(user=town_b_user, q=to_a.number, limit=5)] == []
    assert [t.pk for t in selectors.task_find(user=town_a_user, q=to_a.number, limit=5)] == [
        to_a.pk
    ]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"title": " "}, "title_required"),
        ({"priority": "soon"}, "priority_invalid"),
        ({"deadline": "past"}, "deadline_past"),
        ({"town_paths": [], "department_ids": []}, "assignee_required"),
        ({"town_paths": ["330483999"]}, "town_unknown"),
        ({"department_ids": [999999]}, "department_unknown"),
        ({"source_type": "case';--", "source_id": "1"}, "source_invalid"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    tree: Any, command_user: Any, change: dict[str, Any], code: str
) -> None:
    kit.departments_ensure()
    args: dict[str, Any] = {
        "actor": command_user,
        "title": "排查",
        "body": "请排查",
        "priority": "urgent",
        "deadline": timezone.now() + dt.timedelta(hours=4),
        "department_ids": [],
        "town_paths": [tree.town_a.path],
    }
    if change.get("deadline") == "past":
        change = {"deadline": timezone.now() - dt.timedelta(minutes=1)}
    args.update(change)
    with pytest.raises(InvalidInput) as exc:
        services.task_create(**args)
    assert exc.value.code == code
    assert not Task.objects.exists() and not Assignment.objects.exists()
    assert not Notification.objects.exists()


def test_overdue_escalates_once_and_shows_on_the_board(
    tree: Any, command_user: Any, town_a_user: Any, town_b_user: Any
) -> None:
    task = kit.task(actor=command_user, town_paths=[tree.town_a.path, tree.town_b.path], hours=1)
    later = timezone.now() + dt.timedelta(hours=2)
    services.assignment_accept(actor=town_b_user, assignment=_part(task, "濮院镇"))
    services.assignment_reply(actor=town_b_user, assignment=_part(task, "濮院镇"), text="完成")

    assert services.assignments_escalate(now=later) == 1
    assert services.assignments_escalate(now=later) == 0
    assert AuditEvent.objects.filter(action="task.escalate").count() == 1
    assert Notification.objects.filter(user=command_user, kind="task.escalated").count() == 1

    kind = deadlines.kind_get("command.task")
    assert kind is not None
    items = kind.overdue(command_user, later, 10)
    assert [(i.owner_label, i.owner_kind) for i in items] == [("乌镇镇", "town")]
    assert kind.count(town_b_user, later) == 0
    assert kind.count(town_a_user, later) == 1
    # done: it disappears
    services.assignment_accept(actor=town_a_user, assignment=_part(task, "乌镇镇"))
    services.assignment_reply(actor=town_a_user, assignment=_part(task, "乌镇镇"), text="完成")
    assert kind.overdue(command_user, later, 10) == []


def test_fangkong_periodic_escalates_overdue_parts(tree: Any, command_user: Any) -> None:
    from io import StringIO
    from unittest import mock

    from django.core.management import call_command

    kit.task(actor=command_user, town_paths=[tree.town_a.path], hours=1)
    later = timezone.now() + dt.timedelta(hours=2)
    with mock.patch.object(timezone, "now", lambda: later):
        call_command("periodic", stdout=StringIO())
        call_command("periodic", stdout=StringIO())
    assert Assignment.objects.get().escalated_at == later
    assert AuditEvent.objects.filter(action="task.escalate").count() == 1


def test_the_task_list_costs_the_same_queries_for_more_tasks(
    tree: Any, command_user: Any, town_a_user: Any
) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    def queries(user: Any) -> int:
        client = Client()
        client.force_login(user)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("command:task_list")).status_code == 200
        return len(captured)

    for _ in range(2):
        kit.task(actor=command_user, town_paths=[tree.town_a.path], department_codes=["health"])
    few = (queries(command_user), queries(town_a_user))
    for _ in range(8):
        kit.task(actor=command_user, town_paths=[tree.town_a.path], department_codes=["health"])
    assert (queries(command_user), queries(town_a_user)) == few
