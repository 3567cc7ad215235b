"""Concurrency (PostgreSQL): overlapping periodic runs escalate an overdue part once; two
dispatches at the same moment get two numbers; two accepts, one wins."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from fangkong.accounts.models import AuditEvent
from fangkong.command.models import Assignment, Task
from fangkong.command.services import tasks as services
from fangkong.core.errors import Conflict
from fangkong.notices.models import Notification
from fangkong.testkit import command as kit
from fangkong.testkit.concurrency import race


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_overlapping_periodic_runs_escalate_once(tree: Any, command_user: Any) -> None:
    kit.task(actor=command_user, town_paths=[tree.town_a.path, tree.town_b.path], hours=1)
    later = timezone.now() + dt.timedelta(hours=3)

    results, errors = race(*(lambda: services.assignments_escalate(now=later) for _ in range(4)))

    assert errors == []
    assert sorted(results) == [0, 0, 0, 2]
    assert AuditEvent.objects.filter(action="task.escalate").count() == 2
    assert Notification.objects.filter(user=command_user, kind="task.escalated").count() == 2
    assert not Assignment.objects.filter(escalated_at__isnull=True).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_dispatches_get_distinct_numbers(tree: Any, command_user: Any) -> None:
    kit.departments_ensure()
    results, errors = race(
        *(lambda: kit.task(actor=command_user, town_paths=[tree.town_a.path]) for _ in range(4))
    )
    assert errors == []
    numbers = set(Task.objects.values_list("number", flat=True))
    assert len(numbers) == 4 and len(results) == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_accepts_one_wins(tree: Any, command_user: Any, town_a_user: Any) -> None:
    task = kit.task(actor=command_user, town_paths=[tree.town_a.path])

    def accept() -> Any:
        part = Assignment.objects.select_related("task").get(task=task)
        return services.assignment_accept(actor=town_a_user, assignment=part)

    results, errors = race(accept, accept)
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], Conflict) and errors[0].code == "assignment_accepted"
    assert AuditEvent.objects.filter(action="task.accept").count() == 1
