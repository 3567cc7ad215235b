"""Background jobs of labs: thin wrappers that call services.

(A module of its own so that the parts' task modules merge cleanly.)
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks import task

from fangkong.accounts.permissions import has_capability, require
from fangkong.accounts.roles import Capability
from fangkong.core import jobs
from fangkong.core.errors import DomainError
from fangkong.core.spreadsheet import import_too_large
from fangkong.testing.services import actors, rechecks, result_files, results

if TYPE_CHECKING:
    from fangkong.accounts.models import User


@task()
def rechecks_escalate_overdue() -> int:
    """Escalate every recheck past its deadline without a result to command, once.

    Schedule it every few minutes (like tracing's escalations); safe to run twice.
    Returns the number of rechecks escalated by this run.
    """
    return len(rechecks.rechecks_escalate_overdue())


# --- the results import as a job ----------------------------------------------------------


def _run_results_import(actor: User, job: jobs.Job, progress: jobs.Progress) -> dict[str, Any]:
    """Read, check and apply the saved file; bad lines fail the job with every line
    (`import_rows_invalid`, as the synchronous API answered). Idempotent: the same file
    of the same lab is a no-op (`duplicate`), and its apply is one transaction, so a run
    killed midway wrote nothing and its re-run writes each result once."""
    report = results.results_import_file(
        actor=actor,
        data=jobs.job_input(job),
        filename=jobs.job_input_name(job),
        ip=str(job.params.get("ip", "")),
        progress=progress,
    )
    if report.errors:
        raise DomainError(
            "import_rows_invalid",
            _("导入文件有错误，未作任何修改"),
            rows=report.rows,
            errors=[
                {"line": e.line, "code": e.code, "message": e.message, "barcode": e.barcode}
                for e in report.errors
            ],
        )
    return asdict(report)


def _same_lab(user: User, job: jobs.Job) -> bool:
    """A colleague of the same lab may follow the lab's import; no one else."""
    return has_capability(user, Capability.RESULT_IMPORT) and getattr(
        user, "place_id", None
    ) == job.params.get("lab_id")


RESULTS_IMPORT = jobs.JobKind(
    path="fangkong.testing.tasks_labs.RESULTS_IMPORT",
    label=gettext_lazy("结果导入"),
    run=_run_results_import,
    may_view=_same_lab,
    result_template="testing/_results_report.html",
    page=lambda job: reverse("testing:lab_results"),
)


def results_import_start(*, actor: User, data: bytes, filename: str, ip: str) -> jobs.Job:
    """Save a lab's results file and import it in the background. Who may import, and
    the file's size, are checked here (403 / 400 at once); the rest in the job."""
    require(actor, Capability.RESULT_IMPORT)
    lab = actors.lab_of(actor)
    if len(data) > result_files.MAX_IMPORT_BYTES:
        raise import_too_large(max_bytes=result_files.MAX_IMPORT_BYTES)
    return jobs.job_start(
        kind=RESULTS_IMPORT,
        owner=actor,
        params={"ip": ip, "lab_id": lab.pk},
        upload=(filename, data),
    )
