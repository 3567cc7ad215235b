"""API of background jobs: a job's status (polled by the progress bar and by clients
that got a job id with a 202), its output file once done, and re-running a failed job.

Only the owner, or whom the job's kind allows (same lab, same jurisdiction and role),
sees a job; anyone else gets 404, as for an absent one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from fangkong.core import jobs
from fangkong.core.jobs import file_response
from fangkong.core.models import Job, JobFile, JobFileRole, JobState

router = Router(tags=["jobs"])


class JobOut(Schema):
    id: int
    kind: str
    label: str
    state: str
    state_label: str
    phase: str
    phase_label: str
    rows_done: int
    rows_total: int | None
    percent: int | None
    counted: bool
    note: str
    no_worker: bool
    rerunnable: bool
    error_code: str
    error_message: str
    error_detail: dict[str, Any]
    has_file: bool
    result: dict[str, Any] | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    @staticmethod
    def from_job(job: Job) -> JobOut:
        return JobOut(
            **jobs.job_status(job),
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )


def job_accepted(job: Job) -> Status[JobOut]:
    """The answer of an endpoint that started a job: 202 and the job's status."""
    return Status(202, JobOut.from_job(job))


@router.get(
    "/{int:job_id}", response=JobOut, summary="A job's state and progress", url_name="job_status"
)
def job_detail(request: HttpRequest, job_id: int) -> JobOut:
    """State, rows done of rows total, and the result (or why it failed) once finished."""
    return JobOut.from_job(jobs.job_get(user=request.user, job_id=job_id))


@router.get("/{int:job_id}/file", response={200: None}, summary="Download a job's file")
def job_file(request: HttpRequest, job_id: int) -> HttpResponse:
    """The file an export job wrote, once it is done."""
    return file_response(jobs.job_output(user=request.user, job_id=job_id))


@router.post("/{int:job_id}/rerun", response={202: JobOut}, summary="Re-run a failed job")
def job_rerun(request: HttpRequest, job_id: int) -> Status[JobOut]:
    """Run a failed job again from its saved upload (owner only); idempotent works."""
    job = jobs.job_get(user=request.user, job_id=job_id)
    return job_accepted(jobs.job_rerun(user=request.user, job=job))


def export_api_answer(job: Job) -> HttpResponse | Status[JobOut]:
    """What an endpoint that started an export answers: the file when the job has
    already finished (in-process), its refusal if it failed, else 202 and the job (the
    file is then at GET /api/jobs/{id}/file once done)."""
    jobs.raise_if_failed(job)
    if job.state == JobState.DONE:
        output = JobFile.objects.filter(job=job, role=JobFileRole.OUTPUT).first()
        if output is not None:
            return file_response(output)
    return job_accepted(job)
