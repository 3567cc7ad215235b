"""API of the daily situation report: start writing it (a background job: 202 and the
job, polled at GET /api/jobs/{id}), and download the .docx the job wrote (its owner;
audited). The report is of the caller's own scope: the city for command, its own town
for a town's staff."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from ninja import Router, Schema, Status

from fangkong.accounts.types import AuthedRequest
from fangkong.command import tasks_reports
from fangkong.command.services.daily_report import daily_report_download
from fangkong.core.api import JobOut, job_accepted
from fangkong.core.http import client_address
from fangkong.core.jobs import file_response

router = Router()


class DailyReportIn(Schema):
    """The report's date (today when left out; a date to come is refused)."""

    day: dt.date | None = None


@router.post(
    "/reports/daily",
    response={202: JobOut},
    summary="Start writing the daily situation report (Word) for a date",
)
def daily_report_start(request: AuthedRequest, payload: DailyReportIn) -> Status[JobOut]:
    """Writes the report of `day` for the caller's scope in the background; the job's
    file is the .docx (download it from /reports/daily/jobs/{job_id}/file)."""
    job = tasks_reports.daily_report_start(
        actor=request.user, day=payload.day, ip=client_address(request)
    )
    return job_accepted(job)


@router.get(
    "/reports/daily/jobs/{int:job_id}/file",
    response={200: None},
    summary="Download a daily situation report (Word) a job wrote",
)
def daily_report_file(request: AuthedRequest, job_id: int) -> HttpResponse:
    """The .docx, to the job's owner only (404 for anyone else); audited."""
    output = daily_report_download(actor=request.user, job_id=job_id, ip=client_address(request))
    return file_response(output)
