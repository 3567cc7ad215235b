"""Tasks in the header's search (core.search): by number (RW-20261206-0001, or its tail)
or by title, as `tasks.task_find` finds them for the user (the tasks they see)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.command.choices import TaskPriority, TaskStatus
from fangkong.command.selectors.tasks import task_find
from fangkong.core.search import SearchHit

if TYPE_CHECKING:
    from fangkong.accounts.models import User


def task_hits(*, user: User, q: str, limit: int) -> list[SearchHit]:
    """The tasks the user sees for `q`, the task whose number it is marked exact."""
    term = q.strip().upper()
    priorities = dict(TaskPriority.choices)
    statuses = dict(TaskStatus.choices)
    return [
        SearchHit(
            kind="command.task",
            key=str(task.pk),
            title=task.number,
            url=reverse("command:task_detail", args=[task.pk]),
            detail=" · ".join(
                (
                    task.title,
                    str(priorities.get(task.priority, "")),
                    str(statuses.get(task.status, "")),
                    _("时限 %(at)s")
                    % {"at": timezone.localtime(task.deadline_at).strftime("%m-%d %H:%M")},
                )
            ),
            exact=task.number.upper() == term,
        )
        for task in task_find(user=user, q=q, limit=limit)
    ]
