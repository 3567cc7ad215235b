"""Tasks in the reference outbreak: day 0 dispatches from the first case, a town splits
to her community; day 1 the parts are answered, one returned, the police's escalated."""

from __future__ import annotations

import pytest

from fangkong.accounts.models import AuditEvent
from fangkong.command.choices import AssignmentStatus
from fangkong.command.models import Task
from fangkong.drill.city import drill_city_build
from fangkong.drill.command_tasks import TITLE_CONTACTS, TITLE_NOTICE, TITLE_SITES
from fangkong.drill.outbreak import drill_outbreak
from fangkong.tracing.models import Case

pytestmark = pytest.mark.django_db


def test_tasks_of_days_0_and_1() -> None:
    drill_city_build(population=1500, days=5, seed=11)
    reports = drill_outbreak(through_day=1)

    first = Case.objects.order_by("pk").first()
    assert first is not None
    tasks = {t.title: t for t in Task.objects.all()}
    assert reports[0].summary["tasks"]["tasks"] == len(tasks) >= 3
    sites = tasks[TITLE_SITES]
    assert (sites.source_type, sites.source_id) == ("case", str(first.pk))
    assert sites.number.startswith("RW-")
    # the town split its part to the case's community, which answered, and the town closed it
    town_part = sites.assignments.get(parent__isnull=True, department__isnull=True)
    child = town_part.children.get()
    assert child.status == AssignmentStatus.DONE
    assert town_part.status == AssignmentStatus.DONE
    assert sites.assignments.get(department__code="health").status == AssignmentStatus.RETURNED
    assert tasks[TITLE_NOTICE].status == "closed"
    if TITLE_CONTACTS in tasks:
        police = tasks[TITLE_CONTACTS].assignments.get(department__code="police")
        assert police.escalated_at is not None
        assert AuditEvent.objects.filter(action="task.escalate").count() == 1
