"""Pages of the daily situation report (日报/通报).

- `daily_report` (GET /command/reports/daily/<day>/): the report of the day as a
  printable A4 page (the same outline the .docx is written from), with a button that
  writes the Word document; with `?job=` the job's progress and then its download.
  POST starts the job and answers 303 to this page with `?job=` (a reload never starts
  another).
- `daily_report_today`: today's report.
- `daily_report_download`: the .docx a job wrote (its owner; audited).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from fangkong.accounts.types import AuthedRequest
from fangkong.command import tasks_reports
from fangkong.command.documents.daily_report import (
    chinese_date,
    report_outline,
    report_subtitle,
)
from fangkong.command.forms_reports import ReportDayForm
from fangkong.command.selectors.daily_report import report_check, report_data
from fangkong.command.services.daily_report import daily_report_download as download_service
from fangkong.core import jobs
from fangkong.core.http import client_address
from fangkong.core.pages import JobQueryForm


@require_GET
@login_required
def daily_report_today(request: AuthedRequest) -> HttpResponse:
    """Today's report, or the date the picker asked for (`?day=`)."""
    report_check(user=request.user)
    asked = ReportDayForm(request.GET).lenient()["day"]
    on = asked or timezone.localdate()
    return redirect("command:daily_report", day=on.isoformat())


@require_http_methods(["GET", "POST"])
@login_required
def daily_report(request: AuthedRequest, day: str) -> HttpResponse:
    on = ReportDayForm({"day": day}).cleaned()["day"]
    user = request.user
    if request.method == "POST":
        job = tasks_reports.daily_report_start(actor=user, day=on, ip=client_address(request))
        return jobs.started_answer(job)
    data = report_data(user=user, day=on)
    context: dict[str, Any] = {
        "data": data,
        "blocks": report_outline(data),
        "subtitle": report_subtitle(data),
        "foot_date": chinese_date(data.day),
        "today": timezone.localdate().isoformat(),
        "page_url": reverse("command:daily_report", args=[data.day.isoformat()]),
    }
    job_id = JobQueryForm(request.GET).lenient()["job"]
    if job_id is not None:
        job = jobs.job_get(user=user, job_id=job_id)
        context.update(jobs.job_context(job))
        context["report_download_url"] = reverse("command:daily_report_download", args=[job.pk])
    return render(request, "command/daily_report.html", context)


@require_GET
@login_required
def daily_report_download(request: AuthedRequest, pk: int) -> HttpResponse:
    output = download_service(actor=request.user, job_id=pk, ip=client_address(request))
    return jobs.file_response(output)


urlpatterns: list[URLPattern] = [
    path("reports/daily/", daily_report_today, name="daily_report_today"),
    path("reports/daily/<str:day>/", daily_report, name="daily_report"),
    path(
        "reports/daily/files/<int:pk>/download",
        daily_report_download,
        name="daily_report_download",
    ),
]
