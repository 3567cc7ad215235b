"""Background jobs of the tracing domain: thin wrappers that call services."""

from __future__ import annotations

from django_tasks import task

from fangkong.tracing.services import cases as case_services


@task()
def cases_escalate_overdue() -> int:
    """Escalate to command the cases past their core-facts or report deadline.

    Scheduled hourly (a case's core facts are due within hours); safe to run twice: a
    case is escalated once. Returns the number of cases escalated by this run.
    """
    return len(case_services.cases_escalate_overdue())
