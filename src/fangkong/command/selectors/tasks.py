"""Reads of tasks, scoped by who asks.

- command (`task.manage`): every task dispatched in its jurisdiction (the city), every
  assignment of it;
- a department's staff: the tasks with a part given to their department (and the parts
  their department split off to another department);
- town staff and community workers: the tasks with a part given to their jurisdiction
  (a town; a community when its town split its part), and the parts split off from it.

Anything else is not found (404); a role without `task.view` is refused (403).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import has_capability, require, scope_path, scope_q
from fangkong.accounts.roles import Capability, Role
from fangkong.command.choices import ASSIGNMENT_OWED, AssignmentStatus, TaskStatus
from fangkong.command.models import Assignment, Department, DepartmentMember, Task, TaskAttachment
from fangkong.core.errors import NotFound
from fangkong.core.paths import community_of, is_under, town_of

if TYPE_CHECKING:
    from fangkong.accounts.models import User

TASK_ORDER = ("-created_at", "-pk")
ASSIGNMENT_ORDER = ("deadline_at", "pk")
DEPARTMENT_ORDER = ("order", "pk")
FIND_LIMIT_MAX = 50


def manages_tasks(user: User) -> bool:
    return has_capability(user, Capability.TASK_MANAGE)


def department_of(user: User) -> Department | None:
    """The department a department user belongs to (None for anyone else)."""
    if getattr(user, "role", "") != Role.DEPARTMENT:
        return None
    member = DepartmentMember.objects.filter(user_id=user.pk).select_related("department").first()
    return member.department if member is not None else None


def unit_path(user: User) -> str:
    """The jurisdiction whose parts a user answers: a town's staff their town, a community
    worker their community (a worker bound to a grid: the grid's community)."""
    path = scope_path(user)
    if not path:
        return ""
    role = getattr(user, "role", "")
    if role == Role.TOWN_STAFF:
        return town_of(path)
    if role == Role.COMMUNITY_WORKER:
        return community_of(path)
    return ""


def _own_parts_q(user: User, prefix: str = "") -> Q:
    """Q of the assignments given to the user's own unit (not those it split off)."""
    if getattr(user, "role", "") == Role.DEPARTMENT:
        department = department_of(user)
        if department is None:
            return Q(pk__in=[])
        return Q(**{f"{prefix}department_id": department.pk})
    path = unit_path(user)
    if not path:
        return Q(pk__in=[])
    return Q(**{f"{prefix}jurisdiction_path": path})


def _parts_q(user: User) -> Q:
    """Q of the assignments the user sees: their unit's own, and those split off them."""
    own = _own_parts_q(user)
    return own | _own_parts_q(user, "parent__")


def tasks_visible(user: User) -> QuerySet[Task]:
    require(user, Capability.TASK_VIEW)
    if manages_tasks(user):
        return Task.objects.filter(scope_q(user))
    parts = Assignment.objects.filter(_own_parts_q(user)).values("task_id")
    return Task.objects.filter(pk__in=parts)


def tasks(*, user: User, box: str = "", status: str = "", priority: str = "") -> QuerySet[Task]:
    """The task list: `box` "mine" (given to the user's unit) or "dispatched" (command's
    own: every task in its jurisdiction); filtered by the task's status and priority."""
    if box == "mine" or not manages_tasks(user):
        require(user, Capability.TASK_VIEW)
        parts = Assignment.objects.filter(_own_parts_q(user)).values("task_id")
        qs = Task.objects.filter(pk__in=parts)
        if manages_tasks(user):
            qs = qs.filter(scope_q(user))
    else:
        qs = tasks_visible(user)
    if status in TaskStatus.values:
        qs = qs.filter(status=status)
    if priority:
        qs = qs.filter(priority=priority)
    return qs


def task_get(*, user: User, pk: int) -> Task:
    task = tasks_visible(user).select_related("created_by").filter(pk=pk).first()
    if task is None:
        raise NotFound("not_found", _("未找到该任务或不在您的范围内"), object="task")
    return task


def task_assignments(*, user: User, task: Task) -> list[Assignment]:
    """The parts of `task` the user sees, each with its events, parents first."""
    qs = task.assignments.select_related("department", "parent").prefetch_related("events__actor")
    if not manages_tasks(user):
        qs = qs.filter(_parts_q(user))
    return list(qs.order_by("parent_id", "pk"))


def parts_by_task(*, user: User, tasks: list[Task]) -> dict[int, list[Assignment]]:
    """The parts of a page of tasks the user sees (command: the tasks' own parts; an
    assignee: its unit's own), by task id. One query."""
    qs = Assignment.objects.filter(task__in=[t.pk for t in tasks]).select_related("department")
    qs = qs.filter(parent__isnull=True) if manages_tasks(user) else qs.filter(_own_parts_q(user))
    out: dict[int, list[Assignment]] = {}
    for part in qs.order_by("pk"):
        out.setdefault(part.task_id, []).append(part)
    return out


def assignment_get(*, user: User, pk: int) -> Assignment:
    require(user, Capability.TASK_VIEW)
    qs = Assignment.objects.select_related("task", "department", "parent", "parent__department")
    if manages_tasks(user):
        qs = qs.filter(scope_q(user, "task__jurisdiction_path"))
    else:
        qs = qs.filter(_parts_q(user))
    assignment = qs.filter(pk=pk).first()
    if assignment is None:
        raise NotFound("not_found", _("未找到该任务或不在您的范围内"), object="assignment")
    return assignment


def is_assignee(user: User, assignment: Assignment) -> bool:
    """Whether the user acts for the assignment's unit (accepts, reports, replies)."""
    if not has_capability(user, Capability.TASK_REPLY):
        return False
    if assignment.department_id is not None:
        department = department_of(user)
        return department is not None and department.pk == assignment.department_id
    path = unit_path(user)
    return bool(path) and path == assignment.jurisdiction_path


def is_reviewer(user: User, assignment: Assignment) -> bool:
    """Whether the user closes or returns the assignment: command for a task's own
    parts (in its jurisdiction), the splitting unit's staff for a part split off."""
    if assignment.parent_id is None:
        return manages_tasks(user) and is_under(
            assignment.task.jurisdiction_path, scope_path(user) or "-"
        )
    parent = assignment.parent
    return parent is not None and is_assignee(user, parent)


def task_attachment_get(*, user: User, task: Task, pk: int) -> TaskAttachment:
    """An attachment of a task the user sees (the caller got `task` through task_get)."""
    attachment = TaskAttachment.objects.filter(task=task, pk=pk).first()
    if attachment is None:
        raise NotFound("not_found", _("未找到该附件"), object="task_attachment")
    return attachment


def departments(*, user: User, active_only: bool = True) -> QuerySet[Department]:
    require(user, Capability.TASK_VIEW)
    qs = Department.objects.all()
    if active_only:
        qs = qs.filter(active=True)
    return qs.order_by(*DEPARTMENT_ORDER)


def assignments_overdue(*, user: User, now: dt.datetime) -> QuerySet[Assignment]:
    """The parts the user sees still owed past their deadline, oldest deadline first."""
    require(user, Capability.TASK_VIEW)
    qs = Assignment.objects.filter(
        status__in=ASSIGNMENT_OWED, deadline_at__lt=now, task__status=TaskStatus.OPEN
    )
    if manages_tasks(user):
        qs = qs.filter(scope_q(user, "task__jurisdiction_path"))
    else:
        qs = qs.filter(_parts_q(user))
    return qs.select_related("task", "department").order_by(*ASSIGNMENT_ORDER)


def task_counts(*, user: User, now: dt.datetime) -> dict[str, int]:
    """The user's task figures: open tasks, parts awaiting acceptance, replies awaiting
    review (command) and overdue parts."""
    visible = tasks_visible(user)
    parts = Assignment.objects.filter(task__in=visible.filter(status=TaskStatus.OPEN))
    if not manages_tasks(user):
        parts = parts.filter(_own_parts_q(user))
    return {
        "open": visible.filter(status=TaskStatus.OPEN).count(),
        "dispatched": parts.filter(status=AssignmentStatus.DISPATCHED).count(),
        "replied": parts.filter(status=AssignmentStatus.REPLIED).count(),
        "overdue": parts.filter(status__in=ASSIGNMENT_OWED, deadline_at__lt=now).count(),
    }


def task_find(*, user: User, q: str, limit: int = 10) -> list[Task]:
    """Tasks the user sees whose number (RW-20261206-0001, or its tail 0001 / 20261206-0001)
    or title contains `q`; newest first, at most `limit`."""
    text = str(q or "").strip()[:50]
    if not text or not has_capability(user, Capability.TASK_VIEW):
        return []
    limit = max(1, min(int(limit), FIND_LIMIT_MAX))
    qs = tasks_visible(user).filter(Q(number__icontains=text) | Q(title__icontains=text))
    return list(qs.order_by(*TASK_ORDER)[:limit])
