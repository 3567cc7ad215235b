"""Background jobs of verification pushes: thin wrappers that call services.

(A module of its own so that the cases part's tasks.py and this one merge cleanly.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.translation import gettext_lazy
from django_tasks import task

from fangkong.accounts.permissions import require, require_in_scope
from fangkong.accounts.roles import Capability
from fangkong.core import jobs
from fangkong.tracing import excel
from fangkong.tracing.selectors import pushes as push_selectors
from fangkong.tracing.services import pushes

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.tracing.models import VerificationPush


@task()
def pushes_escalate_overdue() -> int:
    """Escalate every open pushed list past its deadline to command, once.

    Scheduled every few minutes; safe to run twice (an escalated list is not escalated
    again). Returns the number of lists escalated by this run.
    """
    return pushes.pushes_escalate_overdue()


# --- the pushed list's Excel export as a job (decision 0010) ------------------------------


def _build_push_export(actor: User, job: jobs.Job) -> jobs.ExportFile:
    push = push_selectors.push_get(user=actor, pk=int(job.params["push_id"]))
    reveal = bool(job.params.get("reveal"))
    data, rows = excel.push_export_workbook(
        actor=actor, push=push, reveal=reveal, ip=str(job.params.get("ip", ""))
    )
    return jobs.ExportFile(
        name=excel.push_export_filename(push, reveal=reveal),
        content_type=excel.XLSX_CONTENT_TYPE,
        data=data,
        rows=rows,
    )


PUSH_EXPORT = jobs.export_kind(
    path="fangkong.tracing.tasks_pushes.PUSH_EXPORT",
    label=gettext_lazy("核查名单导出"),
    build=_build_push_export,
    page=lambda job: reverse("tracing:push_export", args=[int(job.params["push_id"])]),
)


def push_export_check(*, actor: User, push_id: int, reveal: bool) -> VerificationPush:
    """Who may export this list (403 / 404; nothing audited): the list."""
    push = push_selectors.push_get(user=actor, pk=push_id)
    require(actor, Capability.PUSH_EXPORT)
    require_in_scope(actor, push.jurisdiction_path, what="verification_push")
    if reveal:
        require(actor, Capability.PERSON_REVEAL)
    return push


def push_export_start(*, actor: User, push_id: int, reveal: bool, ip: str) -> jobs.Job:
    """Check who may export this list (403 / 404 at once, nothing audited), then write
    the workbook in the background; its owner alone downloads it."""
    push = push_export_check(actor=actor, push_id=push_id, reveal=reveal)
    return jobs.job_start(
        kind=PUSH_EXPORT,
        owner=actor,
        params={"push_id": push.pk, "reveal": reveal, "ip": ip},
    )
