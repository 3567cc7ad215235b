"""Background jobs of command: the daily situation report, written by a job (decision
0010) whose page is the report's printable page; its owner downloads the .docx there."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils.translation import gettext_lazy

from fangkong.command.selectors.daily_report import report_check, report_day_check
from fangkong.command.services import daily_report as services
from fangkong.core import jobs

if TYPE_CHECKING:
    from fangkong.accounts.models import User


def _run(actor: User, job: jobs.Job, progress: jobs.Progress) -> dict[str, Any]:
    return services.daily_report_build(actor=actor, job=job, progress=progress)


DAILY_REPORT = jobs.JobKind(
    path=services.DAILY_REPORT_KIND,
    label=gettext_lazy("疫情日报"),
    run=_run,
    result_template="command/_daily_report_result.html",
    page=lambda job: reverse("command:daily_report", args=[str(job.params["day"])]),
)


def daily_report_start(*, actor: User, day: dt.date | None, ip: str = "") -> jobs.Job:
    """Check who may have the report (403) and its date (400), then write it in the
    background for the actor's own scope."""
    report_check(user=actor)
    day = report_day_check(day)
    return jobs.job_start(
        kind=DAILY_REPORT,
        owner=actor,
        params={"day": day.isoformat(), "ip": ip},
    )
