"""The job kit (decision 0010): long work in the background, with progress.

An app declares a kind of job once, next to its services:

    RESULTS_IMPORT = JobKind(
        name="testing.results_import", label=_("结果导入"),
        run=_run_results_import,            # (actor, job, progress) -> result summary
        may_view=_lab_colleague,            # who besides the owner may see it
        result_template="testing/_results_report.html",
    )

and starts it with `job_start(kind=..., owner=user, scope_path=..., params=...,
upload=(name, bytes))`. The job row is written (with the upload) and one django-tasks
task, `job_run(job_id)`, is enqueued: on the database backend a `fangkong db_worker`
process runs it (the job survives a restart of the web server); on the immediate backend
(tests, a bare `runserver`) it runs inside the request.

The work reports progress through `Progress`: `progress.total(n)`, `progress.advance()`,
`progress.phase("apply")`. Writes are throttled (at most one a second) and go through
the work's own connection: outside a transaction they are visible at once; inside the
work's write transaction they become visible at its commit (SQLite has one writer, so a
second connection could only wait for it). A worker also beats a heartbeat from a thread
of its own (its own connection), so a worker killed mid-way leaves a running job whose
heartbeat goes stale: `jobs_reap_stale` (run by `fangkong periodic` and on every status
read) marks it failed with its reason. `job_rerun` runs a failed job again from its saved
upload; the works are idempotent, so a re-run never duplicates what a killed run wrote.

Core sits below every app: it knows a user only as an object with `pk` and
`scope_path`, and leaves "who may see this job" to the kind (`may_view`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.dispatch import Signal
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task, task_backends
from django_tasks.backends.immediate import ImmediateBackend

from fangkong.core.crypto import decrypt_bytes, encrypt_bytes
from fangkong.core.errors import Conflict, DomainError, NotFound
from fangkong.core.models import Job, JobFile, JobFileRole, JobState

logger = logging.getLogger("fangkong.jobs")

# Progress is written at most every settings.JOB_PROGRESS_SECONDS (default 1 s): a
# 500,000-row import writes a few dozen updates, not one per row.
# A worker beats its heartbeat this often; a running job silent for JOB_STALE_SECONDS
# (settings, default 10 minutes) has lost its worker.
HEARTBEAT_SECONDS = 15.0
_FILE_PURPOSE = "job.file"  # the AES-GCM associated data of job files

# Sent after each progress write (job id, rows_done, rows_total, phase): tests listen.
job_progressed = Signal()


class JobLost(Exception):
    """The job was marked failed (stale) while this worker still ran it: stop."""


@dataclass(frozen=True)
class JobKind:
    """One kind of long work. `path` is the dotted path of this object (the job row
    stores it, and a worker imports it from there); `run(actor, job, progress)` does the
    work and returns the result summary (JSON); a DomainError it raises fails the job
    with the error's message. `may_view(user, job)`: may this user, not the owner, see
    the job (default: no one else)."""

    path: str
    label: str | Promise
    run: Callable[[Any, Job, Progress], dict[str, Any]]
    may_view: Callable[[Any, Job], bool] | None = None
    result_template: str = ""
    # The page that shows a job of this kind (its URL path, without `?job=`): where the
    # page that started it, a re-run and /jobs/<id>/ send the user (`job_page_url`).
    page: Callable[[Job], str] | None = None


def kind_of(job: Job) -> JobKind | None:
    """The kind of a job, imported from its dotted path (None if the code moved)."""
    try:
        kind = import_string(job.kind)
    except ImportError:
        return None
    return kind if isinstance(kind, JobKind) else None


class Progress:
    """Rows done of rows total, written throttled to the job row (see the module doc)."""

    def __init__(self, job_id: int, *, every_seconds: float | None = None) -> None:
        self.job_id = job_id
        self.rows_done = 0
        self.rows_total: int | None = None
        self.phase_name = ""
        self.every = settings.JOB_PROGRESS_SECONDS if every_seconds is None else every_seconds
        self._written_at = 0.0

    def total(self, rows: int | None) -> None:
        self.rows_total = rows
        self.write()

    def phase(self, name: str) -> None:
        self.phase_name = name
        self.write()

    def advance(self, rows: int = 1) -> None:
        self.set(self.rows_done + rows)

    def set(self, rows_done: int) -> None:
        self.rows_done = rows_done
        if time.monotonic() - self._written_at >= self.every:
            self.write()

    def write(self) -> None:
        self._written_at = time.monotonic()
        done = self.rows_done
        if self.rows_total is not None:
            done = min(done, self.rows_total)
        updated = Job.objects.filter(pk=self.job_id, state=JobState.RUNNING).update(
            rows_done=done,
            rows_total=self.rows_total,
            phase=self.phase_name[:32],
            heartbeat_at=timezone.now(),
        )
        if not updated:
            raise JobLost(self.job_id)
        job_progressed.send(
            Job,
            job_id=self.job_id,
            rows_done=done,
            rows_total=self.rows_total,
            phase=self.phase_name,
        )


def counting(rows: Any, progress: Progress | None) -> Any:
    """Iterate `rows`, advancing `progress` by one per row (a no-op without one)."""
    if progress is None:
        yield from rows
        return
    for row in rows:
        yield row
        progress.advance()


# --- starting, running, re-running -----------------------------------------------------------


def _immediate() -> bool:
    return isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], ImmediateBackend)


def job_start(
    *,
    kind: JobKind,
    owner: Any,
    scope_path: str = "",
    params: dict[str, Any] | None = None,
    upload: tuple[str, bytes] | None = None,
    upload_content_type: str = "",
) -> Job:
    """Save the job (and its upload) and enqueue it. With the immediate backend the job
    has run when this returns; read it again (`Job.objects.get`) for its outcome."""
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind.path,
            owner_id=owner.pk,
            scope_path=scope_path or str(getattr(owner, "scope_path", "") or ""),
            params=params or {},
            created_at=timezone.now(),
        )
        if upload is not None:
            name, data = upload
            job_file_save(
                job, role=JobFileRole.INPUT, name=name, data=data, content_type=upload_content_type
            )
    _enqueue(job)
    job.refresh_from_db()
    return job


def _enqueue(job: Job) -> None:
    result = job_run.enqueue(job.pk)
    Job.objects.filter(pk=job.pk).update(task_result_id=str(result.id)[:64])


# Failures a re-run may cure: the worker died (`job_lost`) or the work crashed on
# something other than its input (`job_crashed`: a database error, a bug fixed since).
# A refusal of the input (bad file, bad header, a duplicate, a round no longer planned)
# fails the same way again: it is not offered.
RERUNNABLE_CODES = frozenset({"job_lost", "job_crashed"})


def job_rerunnable(job: Job) -> bool:
    return job.state == JobState.FAILED and job.error_code in RERUNNABLE_CODES


def job_rerun(*, user: Any, job: Job) -> Job:
    """Run a failed job again from its saved upload (owner only), when its failure was
    not a refusal of its input (`RERUNNABLE_CODES`). The works are idempotent, so what a
    killed run committed is not written twice."""
    if job.owner_id != user.pk:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="job")
    if job.state == JobState.FAILED and job.error_code not in RERUNNABLE_CODES:
        raise Conflict(
            "job_not_rerunnable",
            _("该任务因输入内容被拒绝，重新运行结果相同，请修改后重新提交"),
            error_code=job.error_code,
        )
    updated = Job.objects.filter(
        pk=job.pk, state=JobState.FAILED, error_code__in=RERUNNABLE_CODES
    ).update(
        state=JobState.QUEUED,
        phase="",
        rows_done=0,
        error_code="",
        error_message="",
        error_detail={},
        error_status=0,
        result=None,
        started_at=None,
        heartbeat_at=timezone.now(),  # queued again since (see `queued_since`)
        finished_at=None,
    )
    if not updated:
        raise Conflict("job_not_failed", _("只有失败的任务可以重新运行"))
    _enqueue(job)
    job.refresh_from_db()
    return job


class _Heartbeat(threading.Thread):
    """Beats the job's heartbeat from its own connection while the work runs (a real
    worker only: in-process jobs are watched by the request that runs them)."""

    def __init__(self, job_id: int) -> None:
        super().__init__(daemon=True, name=f"job-{job_id}-heartbeat")
        self.job_id = job_id
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(HEARTBEAT_SECONDS):
                try:
                    Job.objects.filter(pk=self.job_id, state=JobState.RUNNING).update(
                        heartbeat_at=timezone.now()
                    )
                except Exception:  # the database is busy (SQLite's one writer): next beat
                    logger.debug("job %s: heartbeat skipped", self.job_id, exc_info=True)
        finally:
            connection.close()


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _fail(
    job_id: int,
    code: str,
    message: str,
    detail: dict[str, Any] | None = None,
    status: int = 500,
) -> None:
    Job.objects.filter(pk=job_id, state=JobState.RUNNING).update(
        state=JobState.FAILED,
        error_code=code[:64],
        error_message=message,
        error_detail=_json(detail or {}),
        error_status=status,
        finished_at=timezone.now(),
    )


@task()
def job_run(job_id: int) -> str:
    """Run one job (the one django-tasks task of the kit). Claims the job (queued →
    running) so that a task delivered twice runs it once; returns its final state."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state=JobState.QUEUED)
    job = claimed.first()
    if job is None or not claimed.update(
        state=JobState.RUNNING, started_at=now, heartbeat_at=now, attempts=job.attempts + 1
    ):
        return "skipped"
    job.refresh_from_db()
    kind = kind_of(job)
    if kind is None:
        _fail(job.pk, "job_kind_unknown", _("任务类型未知"))
        return JobState.FAILED
    heartbeat = None if _immediate() else _Heartbeat(job.pk)
    if heartbeat is not None:
        heartbeat.start()
    progress = Progress(job.pk)
    try:
        actor = get_user_model().objects.get(pk=job.owner_id)
        summary = kind.run(actor, job, progress)
    except JobLost:
        return JobState.FAILED
    except DomainError as exc:
        _fail(job.pk, exc.code, exc.message, exc.detail, exc.status)
        return JobState.FAILED
    except BaseException as exc:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        _fail(
            job.pk,
            "job_crashed",
            _("任务出错（%(error)s），可重新运行") % {"error": type(exc).__name__},
        )
        raise
    finally:
        if heartbeat is not None:
            heartbeat.stopped.set()
    # A work that counted no rows (an export, an opening, a file already imported) keeps
    # no count: its panel shows no "0 / 0".
    total: int | None = progress.rows_total or progress.rows_done or None
    Job.objects.filter(pk=job.pk, state=JobState.RUNNING).update(
        state=JobState.DONE,
        result=_json(summary),
        rows_done=total or 0,
        rows_total=total,
        phase="",
        finished_at=timezone.now(),
    )
    JobFile.objects.filter(job_id=job.pk, role=JobFileRole.INPUT).delete()
    return JobState.DONE


# --- stale jobs ------------------------------------------------------------------------------


def stale_before(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(seconds=settings.JOB_STALE_SECONDS)


def jobs_reap_stale(now: dt.datetime | None = None) -> int:
    """Mark failed every running job whose worker went silent (killed, machine lost).
    Returns how many. Its work is rolled back or idempotent: re-run it."""
    minutes = max(1, settings.JOB_STALE_SECONDS // 60)
    return Job.objects.filter(state=JobState.RUNNING, heartbeat_at__lt=stale_before(now)).update(
        state=JobState.FAILED,
        error_code="job_lost",
        error_message=_("任务中断：执行它的后台进程已停止（%(minutes)d 分钟无心跳），可重新运行")
        % {"minutes": minutes},
        finished_at=now or timezone.now(),
    )


def job_files_purge(now: dt.datetime | None = None) -> int:
    """Delete the files of jobs finished more than settings.JOB_FILES_KEEP_HOURS ago: an
    export (possibly in clear) is not kept in the database for ever, nor the upload of a
    failed job nobody re-ran. Returns how many files."""
    before = (now or timezone.now()) - dt.timedelta(hours=settings.JOB_FILES_KEEP_HOURS)
    deleted, _by_model = JobFile.objects.filter(
        job__state__in=[JobState.DONE, JobState.FAILED], job__finished_at__lt=before
    ).delete()
    return deleted


# --- reading ---------------------------------------------------------------------------------


def may_view(user: Any, job: Job) -> bool:
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    if job.owner_id == user.pk:
        return True
    kind = kind_of(job)
    return bool(kind and kind.may_view and kind.may_view(user, job))


def job_get(*, user: Any, job_id: int) -> Job:
    """A job the user may see (its owner, or whom its kind lets see it), a stale one
    marked failed first; else 404 (never say which)."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or not may_view(user, job):
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="job")
    if job.state == JobState.RUNNING and job.heartbeat_at and job.heartbeat_at < stale_before():
        jobs_reap_stale()
        job.refresh_from_db()
    return job


# What a job is doing, as the panel says it (the phases the works report).
PHASE_LABELS: dict[str, str | Promise] = {
    "read": gettext_lazy("读取文件"),
    "apply": gettext_lazy("写入数据库"),
    "build": gettext_lazy("正在生成文件"),
    "targets": gettext_lazy("计算应检人员"),
}


def queued_since(job: Job) -> dt.datetime:
    """When a queued job was queued: created, or re-run (its heartbeat is set then)."""
    return job.heartbeat_at or job.created_at


def no_worker_seen(job: Job, now: dt.datetime | None = None) -> bool:
    """A job queued longer than settings.JOB_QUEUED_WARN_SECONDS while no job is being
    run by a live worker: no `fangkong db_worker` seems to be running (a busy worker,
    beating the heartbeat of another job, is not a missing one)."""
    now = now or timezone.now()
    if job.state != JobState.QUEUED or _immediate():
        return False
    if now - queued_since(job) < dt.timedelta(seconds=settings.JOB_QUEUED_WARN_SECONDS):
        return False
    return not Job.objects.filter(
        state=JobState.RUNNING, heartbeat_at__gte=stale_before(now)
    ).exists()


def job_note(job: Job, *, no_worker: bool | None = None) -> str:
    """What the panel says of a job not yet taken by a worker."""
    if job.state != JobState.QUEUED:
        return ""
    if no_worker_seen(job) if no_worker is None else no_worker:
        return _("后台处理进程似乎未运行，任务一直在排队。请联系管理员启动 fangkong db_worker。")
    return _("排队中，等待后台处理")


def job_counted(job: Job) -> bool:
    """Did the work count rows (a file's lines)? An export, an opening, a file already
    imported count none: their panel shows no "0 / 0"."""
    return bool(job.rows_total) or job.rows_done > 0


def job_status(job: Job) -> dict[str, Any]:
    status = job.status()
    status["phase_label"] = (
        str(PHASE_LABELS.get(job.phase, job.phase)) if job.state == JobState.RUNNING else ""
    )
    status["kind"] = job.kind
    kind = kind_of(job)
    status["label"] = str(kind.label) if kind else job.kind
    status["state_label"] = str(JobState(job.state).label)
    status["counted"] = job_counted(job)
    status["no_worker"] = no_worker_seen(job)
    status["note"] = job_note(job, no_worker=status["no_worker"])
    status["rerunnable"] = job_rerunnable(job)
    status["has_file"] = (
        job.state == JobState.DONE
        and JobFile.objects.filter(job=job, role=JobFileRole.OUTPUT).exists()
    )
    status["result"] = job.result if job.state == JobState.DONE else None
    return status


def job_output(*, user: Any, job_id: int) -> JobFile:
    """The file a finished export wrote (a separate, authorised download)."""
    job = job_get(user=user, job_id=job_id)
    output = (
        JobFile.objects.filter(job=job, role=JobFileRole.OUTPUT).first()
        if job.state == JobState.DONE
        else None
    )
    if output is None:
        raise NotFound("job_no_file", _("任务没有可下载的文件"), object="job")
    return output


def job_input(job: Job) -> bytes:
    """The upload a job was started with (for the kind's `run`)."""
    upload = JobFile.objects.filter(job=job, role=JobFileRole.INPUT).first()
    if upload is None:
        raise DomainError("job_input_missing", _("任务的上传文件已不存在，请重新上传"))
    return job_file_data(upload)


def job_input_name(job: Job) -> str:
    return str(
        JobFile.objects.filter(job=job, role=JobFileRole.INPUT)
        .values_list("name", flat=True)
        .first()
        or ""
    )


def job_write_output(job: Job, *, name: str, data: bytes, content_type: str) -> None:
    """Save what an export wrote (replacing an earlier run's)."""
    job_file_save(job, role=JobFileRole.OUTPUT, name=name, data=data, content_type=content_type)


def job_page_url(job: Job) -> str:
    """The page that shows this job (its kind's page with `?job=<id>`), else /jobs/<id>/."""
    kind = kind_of(job)
    if kind is not None and kind.page is not None:
        try:
            return f"{kind.page(job)}?job={job.pk}"
        except (KeyError, ValueError, TypeError, NoReverseMatch):
            logger.warning("job %s: no page for its kind %s", job.pk, job.kind)
    return reverse("web:job_detail", args=[job.pk])


def started_answer(job: Job) -> HttpResponse:
    """What a page answers the POST that started a job: 303 to the job's page
    (Post/Redirect/Get), so that reloading it shows the job and never starts another."""
    return HttpResponseRedirect(job_page_url(job), status=303)


def job_context(job: Job, *, back_url: str = "", back_label: str = "") -> dict[str, Any]:
    """What core/_job.html needs: the job, its kind's label and result template, where
    the bar polls, where the page goes once the job has finished (the job's page), and
    for an export the page it came from (`back_url`)."""
    kind = kind_of(job)
    status = job_status(job)
    return {
        "job": job,
        "job_status": status,
        "job_label": status["label"],
        "job_result_template": kind.result_template if kind else "",
        "job_status_url": reverse("api:job_status", args=[job.pk]),
        "job_done_url": job_page_url(job),
        "job_download_url": reverse("web:job_download", args=[job.pk]),
        "job_error_lines": _error_lines(job),
        "job_back_url": back_url,
        "job_back_label": back_label,
    }


def _error_lines(job: Job) -> list[dict[str, Any]]:
    """A failed job's bad lines (an import's `errors` or `bad_rows`), for the panel."""
    detail = job.error_detail if isinstance(job.error_detail, dict) else {}
    lines = detail.get("errors") or detail.get("bad_rows") or []
    return [
        {
            "line": e.get("line"),
            "item": e.get("barcode") or e.get("value") or "",
            "message": e.get("message", ""),
        }
        for e in lines
        if isinstance(e, dict)
    ]


def raise_if_failed(job: Job) -> None:
    """A job that failed on a refusal, as the refusal (the answer the work gave when it
    ran inside the request)."""
    if job.state == JobState.FAILED:
        detail = job.error_detail if isinstance(job.error_detail, dict) else {}
        raise DomainError(
            job.error_code or "job_failed",
            job.error_message,
            status=job.error_status if 400 <= job.error_status < 500 else 409,
            **detail,
        )


# --- exports ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFile:
    name: str
    content_type: str
    data: bytes
    rows: int | None = None  # the data rows written (shown with the file)


def export_kind(
    *,
    path: str,
    label: str | Promise,
    build: Callable[[Any, Job], ExportFile],
    page: Callable[[Job], str] | None = None,
) -> JobKind:
    """A kind of job that writes a file (an export): `build(actor, job)` makes it, the
    kit saves it; the owner alone downloads it (a separate GET, once done)."""

    def run(actor: Any, job: Job, progress: Progress) -> dict[str, Any]:
        progress.phase("build")
        made = build(actor, job)
        job_write_output(job, name=made.name, data=made.data, content_type=made.content_type)
        return {"filename": made.name, "size": len(made.data), "rows": made.rows}

    return JobKind(
        path=path,
        label=label,
        run=run,
        result_template="core/_export_result.html",
        page=page,
    )


def job_file_save(job: Job, *, role: str, name: str, data: bytes, content_type: str = "") -> None:
    """Save a job's upload or output, encrypted under the data key like ID numbers: a scan
    log's upload carries ID numbers and an export in clear carries names, ID numbers and
    phones, so a copy of the database without the key must not read them (decision 0003).
    Replaces the job's earlier file of that role (a re-run's export)."""
    JobFile.objects.update_or_create(
        job=job,
        role=role,
        defaults={
            "name": name[:255],
            "content_type": content_type[:100],
            "size": len(data),
            "data": encrypt_bytes(data, purpose=_FILE_PURPOSE),
        },
    )


def job_file_data(file: JobFile) -> bytes:
    """The clear bytes of a job's file."""
    return decrypt_bytes(file.data, purpose=_FILE_PURPOSE)


def file_response(output: JobFile) -> HttpResponse:
    response = HttpResponse(
        job_file_data(output), content_type=output.content_type or "application/octet-stream"
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(output.name)}"
    response["Cache-Control"] = "no-store"
    return response
