"""API of the towns' daily reports: a day's reports side by side (paged by town), the
day's summary, one town's report, the town's submission, command's read mark. Scoped as
the pages are: command every town, a town its own (another town's is 404)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.utils import timezone
from ninja import Field, Query, Router, Schema

from fangkong.accounts.types import AuthedRequest
from fangkong.command.models import TownReport, TownReportNeed, TownReportProblem
from fangkong.command.selectors import town_reports as selectors
from fangkong.command.services import town_reports as services
from fangkong.core.apitypes import Page, PageQuery, RowId
from fangkong.core.errors import NotFound
from fangkong.core.http import client_address
from fangkong.core.pagination import sequence_page

router = Router()

NeedKindCode = Literal["supplies", "staff", "vehicles", "sites", "other"]


class DayQuery(Schema):
    day: dt.date | None = Field(None, description="the report day (default: today, Asia/Shanghai)")


class TownReportRowOut(Schema):
    town_path: str
    town_name: str
    state: Literal["submitted", "late", "missing"]
    overdue: bool = Field(..., description="missing and past the rule set's hour")
    due_at: dt.datetime | None
    report_id: int | None
    submitted_at: dt.datetime | None
    read_at: dt.datetime | None
    progress: str
    problems: list[str]
    needs: list[str]

    @staticmethod
    def of(row: selectors.TownReportRow) -> TownReportRowOut:
        r = row.report
        return TownReportRowOut(
            town_path=row.town_path,
            town_name=row.town_name,
            state=row.state,  # type: ignore[arg-type]
            overdue=row.overdue,
            due_at=row.due_at,
            report_id=r.pk if r is not None else None,
            submitted_at=r.submitted_at if r is not None else None,
            read_at=r.read_at if r is not None else None,
            progress=r.progress if r is not None else "",
            problems=[p.text for p in row.problems],
            needs=[selectors.need_words(n) for n in row.needs],
        )


class TownReportSummaryOut(Schema):
    day: dt.date
    towns: int
    submitted: int
    late: int
    missing: int
    overdue: int
    problems: int
    needs: int


class ProblemOut(Schema):
    id: int
    position: int
    text: str
    task_id: int | None

    @staticmethod
    def of(p: TownReportProblem) -> ProblemOut:
        return ProblemOut(id=p.pk, position=p.position, text=p.text, task_id=p.task_id)


class NeedOut(Schema):
    position: int
    kind: str
    item: str
    quantity: int | None
    unit: str

    @staticmethod
    def of(n: TownReportNeed) -> NeedOut:
        return NeedOut(
            position=n.position, kind=n.kind, item=n.item, quantity=n.quantity, unit=n.unit
        )


class TownReportOut(Schema):
    id: int
    town_path: str
    town_name: str
    day: dt.date
    state: Literal["submitted", "late"]
    due_at: dt.datetime
    ruleset_version: str
    submitted_at: dt.datetime
    updated_at: dt.datetime
    read_at: dt.datetime | None
    editable: bool
    progress: str
    problems: list[ProblemOut]
    needs: list[NeedOut]

    @staticmethod
    def of(r: TownReport) -> TownReportOut:
        return TownReportOut(
            id=r.pk,
            town_path=r.town_path,
            town_name=selectors.town_name(r.town_path),
            day=r.day,
            state="late" if r.late else "submitted",
            due_at=r.due_at,
            ruleset_version=r.ruleset_version,
            submitted_at=r.submitted_at,
            updated_at=r.updated_at,
            read_at=r.read_at,
            editable=selectors.town_report_editable(r),
            progress=r.progress,
            problems=[ProblemOut.of(p) for p in r.problems.all()],
            needs=[NeedOut.of(n) for n in r.needs.all()],
        )


class NeedIn(Schema):
    kind: NeedKindCode = "other"
    item: str = Field(..., min_length=1, max_length=100)
    quantity: int | None = Field(None, ge=1, le=10_000_000)
    unit: str = Field("", max_length=10)


class TownReportIn(Schema):
    progress: str = Field(..., min_length=1, max_length=2000)
    problems: list[str] = Field(
        [], max_length=20, description="one item a problem, each at most 300 characters"
    )
    needs: list[NeedIn] = Field([], max_length=20)


def _day(query: DayQuery) -> dt.date:
    return query.day or timezone.localdate()


@router.get(
    "/town-reports",
    summary="List the towns' daily reports for a day, one row a town (missing ones too)",
    response=Page[TownReportRowOut],
)
def town_reports_list(
    request: AuthedRequest, day: Query[DayQuery], paging: Query[PageQuery]
) -> Page[TownReportRowOut]:
    rows = selectors.town_report_rows(user=request.user, day=_day(day))
    page = sequence_page(rows, key=lambda r: (r.town_path,), cursor=paging.cursor, size=paging.size)
    return Page[TownReportRowOut].of(page, TownReportRowOut.of)


@router.get(
    "/town-reports/summary",
    summary="Count a day's town reports: submitted, late, missing, overdue",
    response=TownReportSummaryOut,
)
def town_reports_summary(request: AuthedRequest, day: Query[DayQuery]) -> TownReportSummaryOut:
    on = _day(day)
    return TownReportSummaryOut(day=on, **selectors.town_reports_summary(user=request.user, day=on))


@router.get(
    "/town-reports/{town_path}/days/{day}",
    summary="Get one town's daily report for a day",
    response=TownReportOut,
)
def town_report_detail(request: AuthedRequest, town_path: str, day: dt.date) -> TownReportOut:
    report = selectors.town_report_of(user=request.user, town_path=town_path, day=day)
    if report is None:
        raise NotFound("town_report_missing", "该镇街当日未报送工作日报", town=town_path)
    return TownReportOut.of(report)


@router.put(
    "/town-reports/{town_path}/days/{day}",
    summary="Submit or edit the own town's daily report for today",
    response=TownReportOut,
)
def town_report_put(
    request: AuthedRequest, town_path: str, day: dt.date, payload: TownReportIn
) -> TownReportOut:
    report = services.town_report_submit(
        actor=request.user,
        town_path=town_path,
        day=day,
        progress=payload.progress,
        problems=payload.problems,
        needs=[n.dict() for n in payload.needs],
        ip=client_address(request),
    )
    return TownReportOut.of(selectors.town_report_get(user=request.user, pk=report.pk))


@router.post(
    "/town-reports/{report_id}/read",
    summary="Mark a town's daily report read (command); the town can no longer edit it",
    response=TownReportOut,
)
def town_report_read(request: AuthedRequest, report_id: RowId) -> TownReportOut:
    services.town_report_mark_read(
        actor=request.user, report_id=report_id, ip=client_address(request)
    )
    return TownReportOut.of(selectors.town_report_get(user=request.user, pk=report_id))
