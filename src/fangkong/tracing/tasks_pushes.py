"""Background jobs of verification pushes: thin wrappers that call services.

(A module of its own so that the cases part's tasks.py and this one merge cleanly.)
"""

from __future__ import annotations

from django_tasks import task

from fangkong.tracing.services import pushes


@task()
def pushes_escalate_overdue() -> int:
    """Escalate every open pushed list past its deadline to command, once.

    Scheduled every few minutes; safe to run twice (an escalated list is not escalated
    again). Returns the number of lists escalated by this run.
    """
    return pushes.pushes_escalate_overdue()
