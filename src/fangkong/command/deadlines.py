"""command's deadline kinds for the overdue board (core.deadlines): `command.task`, the
parts of tasks still owed past their deadline, owned by their department or jurisdiction."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.accounts.permissions import has_capability
from fangkong.accounts.roles import Capability
from fangkong.command.selectors.tasks import assignments_overdue
from fangkong.command.services.tasks import task_url
from fangkong.core.deadlines import DeadlineKind, OverdueItem, OwnerKind
from fangkong.core.paths import town_of

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.command.models import Assignment

TASK_KIND = "command.task"


def _item(part: Assignment) -> OverdueItem:
    task = part.task
    if part.department_id is not None:
        owner_kind, owner_key = OwnerKind.DEPARTMENT, str(part.department_id)
    elif town_of(part.jurisdiction_path) == part.jurisdiction_path:
        owner_kind, owner_key = OwnerKind.TOWN, part.jurisdiction_path
    else:
        owner_kind, owner_key = OwnerKind.COMMUNITY, part.jurisdiction_path
    return OverdueItem(
        kind=TASK_KIND,
        key=str(part.pk),
        title=f"{task.number} {task.title}",
        deadline=part.deadline_at,
        owner_kind=owner_kind,
        owner_key=owner_key,
        owner_label=part.assignee_label,
        url=task_url(task, part),
        path=part.jurisdiction_path or task.jurisdiction_path,
        detail=_("%(status)s，%(priority)s")
        % {"status": part.get_status_display(), "priority": task.get_priority_display()},
    )


def tasks_overdue(actor: User, now: dt.datetime, limit: int) -> list[OverdueItem]:
    if not has_capability(actor, Capability.TASK_VIEW):
        return []
    return [_item(p) for p in assignments_overdue(user=actor, now=now)[: max(0, limit)]]


def tasks_overdue_count(actor: User, now: dt.datetime) -> int:
    if not has_capability(actor, Capability.TASK_VIEW):
        return 0
    return assignments_overdue(user=actor, now=now).count()


TASK_DEADLINE = DeadlineKind(
    code=TASK_KIND,
    label=gettext_lazy("交办任务"),
    capability=Capability.TASK_VIEW,
    overdue=tasks_overdue,
    count=tasks_overdue_count,
    order=60,
)
