"""Reads of the towns' daily reports, scoped by the acting user: command sees every town
of its city, a town's staff their own town only (`town_report.view`).

`town_reports_for(user=, day=)` is the one read of a day's reports side by side (the
command page, the API and the daily situation report use it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require, require_in_scope, scope_q
from fangkong.accounts.roles import Capability
from fangkong.areas import selectors as area_selectors
from fangkong.areas.choices import Level
from fangkong.command.models import TownReport, TownReportNeed, TownReportProblem
from fangkong.core.errors import NotFound
from fangkong.protocol import rules as protocol_rules
from fangkong.protocol import selectors as protocol_selectors

if TYPE_CHECKING:
    from fangkong.accounts.models import User

STATE_SUBMITTED = "submitted"
STATE_LATE = "late"
STATE_MISSING = "missing"
STATES = (STATE_SUBMITTED, STATE_LATE, STATE_MISSING)
TOWNS_MAX = 500  # a city's towns; far more than any has


@dataclass
class TownReportRow:
    """One town's column for a day: its report (None when missing) and when it is due."""

    town_path: str
    town_name: str
    due_at: dt.datetime | None
    report: TownReport | None
    overdue: bool  # missing and past the hour
    problems: list[TownReportProblem] = field(default_factory=list)
    needs: list[TownReportNeed] = field(default_factory=list)

    @property
    def state(self) -> str:
        if self.report is None:
            return STATE_MISSING
        return STATE_LATE if self.report.late else STATE_SUBMITTED


def need_words(need: TownReportNeed) -> str:
    """A need in words: 物资：N95 口罩 2000 只."""
    amount = f" {need.quantity}{need.unit}" if need.quantity is not None else ""
    return f"{need.get_kind_display()}：{need.item}{amount}"


def towns_visible(*, user: User) -> list[tuple[str, str]]:
    """(path, name) of the towns whose reports the user sees, by path."""
    require(user, Capability.TOWN_REPORT_VIEW)
    towns = area_selectors.jurisdictions_in_scope(user=user, levels=[Level.TOWN], limit=TOWNS_MAX)
    return [(t.path, t.name) for t in towns]


def _reports_q(user: User) -> Any:
    require(user, Capability.TOWN_REPORT_VIEW)
    return TownReport.objects.filter(scope_q(user, "town_path"))


def _with_rows(qs: Any) -> Any:
    return qs.prefetch_related(
        Prefetch("problems", queryset=TownReportProblem.objects.order_by("position")),
        Prefetch("needs", queryset=TownReportNeed.objects.order_by("position")),
    )


def _due_by_path(paths: list[str], day: dt.date) -> dict[str, dt.datetime | None]:
    """Each town's due moment for `day`: the rule sets of every town in one query, the
    deadline worked out once per distinct rule set."""
    tz = timezone.get_default_timezone()
    by_ruleset: dict[int, dt.datetime | None] = {}
    out: dict[str, dt.datetime | None] = {}
    for path, ruleset in protocol_selectors.rulesets_for(on_date=day, paths=paths).items():
        if ruleset is None:
            out[path] = None
            continue
        if ruleset.pk not in by_ruleset:
            p = protocol_rules.Protocol.from_ruleset(ruleset)
            by_ruleset[ruleset.pk] = protocol_rules.town_report_deadline(p, day, tz).value
        out[path] = by_ruleset[ruleset.pk]
    return out


def town_report_rows(
    *, user: User, day: dt.date, now: dt.datetime | None = None
) -> list[TownReportRow]:
    """Every town the user sees, with its report for `day` (or none), by path."""
    towns = towns_visible(user=user)
    now = now or timezone.now()
    reports = {r.town_path: r for r in _with_rows(_reports_q(user).filter(day=day))}
    due = _due_by_path([path for path, _name in towns], day)
    rows = []
    for path, name in towns:
        report = reports.get(path)
        due_at = due.get(path)
        rows.append(
            TownReportRow(
                town_path=path,
                town_name=name,
                due_at=due_at,
                report=report,
                overdue=report is None and due_at is not None and now >= due_at,
                problems=list(report.problems.all()) if report is not None else [],
                needs=list(report.needs.all()) if report is not None else [],
            )
        )
    return rows


def town_reports_for(*, user: User, day: dt.date) -> list[dict[str, Any]]:
    """The towns' reports for `day` as plain values, one dict a town the user sees:
    town_path, town_name, state (submitted / late / missing), submitted_at (None when
    missing), progress, problems (list of str), needs (list of str), and due_at, overdue."""
    return [
        {
            "town_path": row.town_path,
            "town_name": row.town_name,
            "state": row.state,
            "submitted_at": row.report.submitted_at if row.report is not None else None,
            "progress": row.report.progress if row.report is not None else "",
            "problems": [p.text for p in row.problems],
            "needs": [need_words(n) for n in row.needs],
            "due_at": row.due_at,
            "overdue": row.overdue,
        }
        for row in town_report_rows(user=user, day=day)
    ]


def town_reports_summary(*, user: User, day: dt.date) -> dict[str, int]:
    """How many towns the user sees, and how many reports are submitted, late, missing
    and overdue (missing past the hour) for `day`; problems and needs in all."""
    rows = town_report_rows(user=user, day=day)
    counts = dict.fromkeys(STATES, 0)
    for row in rows:
        counts[row.state] += 1
    return {
        "towns": len(rows),
        **counts,
        "overdue": sum(1 for r in rows if r.overdue),
        "problems": sum(len(r.problems) for r in rows),
        "needs": sum(len(r.needs) for r in rows),
    }


def town_report_get(*, user: User, pk: int) -> TownReport:
    """One report with its problems and needs; 404 outside the user's towns."""
    report = _with_rows(_reports_q(user).filter(pk=pk)).first()
    if report is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="town_report")
    return report


def town_report_of(*, user: User, town_path: str, day: dt.date) -> TownReport | None:
    """The report of the town at `town_path` for `day`, or None when it has none; a town
    outside the user's scope is 404 (a town cannot ask about another)."""
    require(user, Capability.TOWN_REPORT_VIEW)
    require_in_scope(user, town_path, what="town_report")
    return _with_rows(_reports_q(user).filter(town_path=town_path, day=day)).first()


def town_report_problem_get(*, user: User, pk: int) -> TownReportProblem:
    """One problem with its report; 404 outside the user's towns."""
    require(user, Capability.TOWN_REPORT_VIEW)
    problem = (
        TownReportProblem.objects.filter(scope_q(user, "report__town_path"), pk=pk)
        .select_related("report")
        .first()
    )
    if problem is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="town_report_problem")
    return problem


def town_name(path: str) -> str:
    """The name of the town at `path` (reference data)."""
    return area_selectors.jurisdiction_names(paths=[path]).get(path, path)


def town_report_editable(report: TownReport | None, *, now: dt.datetime | None = None) -> bool:
    """May the town still edit the report: today's, and not yet read by command."""
    if report is None:
        return True
    today = timezone.localdate(now or timezone.now())
    return report.day == today and report.read_at is None


def town_reports_missing(*, user: User, now: dt.datetime) -> list[TownReportRow]:
    """Today's (Asia/Shanghai) reports missing past the hour, of the towns the user sees:
    the overdue board's items. A day that has ended leaves the board (its report can no
    longer be written); the side-by-side page keeps it as missing."""
    day = timezone.localdate(now)
    return [row for row in town_report_rows(user=user, day=day, now=now) if row.overdue]
