"""Background jobs of labs: thin wrappers that call services.

(A module of its own so that the parts' task modules merge cleanly.)
"""

from __future__ import annotations

from django_tasks import task

from fangkong.testing.services import rechecks


@task()
def rechecks_escalate_overdue() -> int:
    """Escalate every recheck past its deadline without a result to command, once.

    Schedule it every few minutes (like tracing's escalations); safe to run twice.
    Returns the number of rechecks escalated by this run.
    """
    return len(rechecks.rechecks_escalate_overdue())
