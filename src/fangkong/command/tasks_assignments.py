"""Background jobs of tasks: thin wrappers that call services."""

from __future__ import annotations

from django_tasks import task

from fangkong.command.services import tasks


@task()
def task_assignments_escalate_overdue() -> int:
    """Escalate every part of a task past its deadline and still owed, once (`fangkong
    periodic`). Returns the number escalated by this run."""
    return tasks.assignments_escalate()
