"""Background jobs of inspections: thin wrappers that call services."""

from __future__ import annotations

from django_tasks import task

from fangkong.quarantine.services import inspections


@task()
def rectifications_escalate_overdue() -> int:
    """Escalate every open rectification past its deadline, once (`fangkong periodic`).
    Returns the number escalated by this run."""
    return inspections.rectifications_escalate()
