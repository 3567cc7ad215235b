"""The daily situation report's writes: the document a job builds (saved as the job's
file, audited `report.generate`, the requester notified `report.ready`) and its
download (audited `report.download`).

Started by `command.tasks_reports.daily_report_start` (the job kind lives there)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from fangkong.accounts.services import audit_record
from fangkong.command.documents.daily_report import (
    DOCX_CONTENT_TYPE,
    chinese_date,
    report_docx,
    report_filename,
)
from fangkong.command.selectors.daily_report import report_check, report_data
from fangkong.core import jobs
from fangkong.core.errors import NotFound
from fangkong.notices.choices import NoticeKind
from fangkong.notices.services import notify

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.core.models import Job, JobFile

# The job kind's dotted path (command.tasks_reports.DAILY_REPORT): a download is only of
# a daily report's job.
DAILY_REPORT_KIND = "fangkong.command.tasks_reports.DAILY_REPORT"


def daily_report_build(*, actor: User, job: Job, progress: jobs.Progress) -> dict[str, Any]:
    """Build the report of the job's day for its owner's scope, save the .docx as the
    job's file, audit it and tell the owner it is ready. Idempotent: a re-run writes the
    file again (the job keeps one)."""
    day = dt.date.fromisoformat(str(job.params["day"]))
    progress.phase("build")
    data = report_data(user=actor, day=day)
    content = report_docx(data)
    name = report_filename(data)
    cases = data.figures.get("cases") or {}
    with transaction.atomic():
        jobs.job_write_output(job, name=name, data=content, content_type=DOCX_CONTENT_TYPE)
        audit_record(
            actor=actor,
            action="report.generate",
            object_type="daily_report",
            object_id=job.pk,
            object_label=name,
            jurisdiction_path=data.scope_path,
            detail={"day": day.isoformat(), "size": len(content)},
            ip=str(job.params.get("ip", "")),
        )
        notify(
            users=[actor],
            kind=NoticeKind.REPORT_READY,
            title=_("%(place)s%(day)s疫情日报已生成")
            % {"place": data.scope_name, "day": chinese_date(day)},
            url=jobs.job_page_url(job),
            object_type="daily_report",
            object_id=job.pk,
            jurisdiction_path=data.scope_path,
        )
    return {
        "filename": name,
        "size": len(content),
        "rows": None,
        "day": day.isoformat(),
        "scope_name": data.scope_name,
        "cases_new": int(cases.get("new") or 0),
        "cases_total": int(cases.get("total") or 0),
    }


def daily_report_download(*, actor: User, job_id: int, ip: str = "") -> JobFile:
    """The .docx a daily report's job wrote (its owner alone; 404 for anyone else, and
    for a job of another kind), audited `report.download`."""
    report_check(user=actor)
    job = jobs.job_get(user=actor, job_id=job_id)
    if job.kind != DAILY_REPORT_KIND:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="daily_report")
    output = jobs.job_output(user=actor, job_id=job.pk)
    audit_record(
        actor=actor,
        action="report.download",
        object_type="daily_report",
        object_id=job.pk,
        object_label=output.name,
        jurisdiction_path=job.scope_path,
        detail={"day": str(job.params.get("day", ""))},
        ip=ip,
    )
    return output
