"""What the daily situation report (日报/通报) of a date says, read in one place.

`report_data(user=, day=)` gathers, for the user's own scope (the city for command, its
own town for a town's staff):

- the figures of the situation at a glance (`figures.situation`): the same dict the
  dashboard shows for that date, so that the report's numbers are the dashboard's;
- the day's new cases, de-identified: case number, town and community, kind, how the
  case was found and whether its source is known; never a name, ID number, phone or
  address (`tracing.selectors.cases`, scoped);
- the overdue items grouped by owner (`overdue.overdue_groups`);
- the towns' daily reports with their problems and needs (`town_reports.town_reports_for`).

The Word document and the printable page are both drawn from the `ReportData` this
returns (`command.documents.daily_report`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import has_capability, require, scope_path
from fangkong.accounts.roles import Capability
from fangkong.areas.selectors import jurisdiction_names
from fangkong.command.selectors.figures import situation
from fangkong.command.selectors.overdue import overdue_groups
from fangkong.command.selectors.town_reports import (
    STATE_LATE,
    STATE_MISSING,
    STATE_SUBMITTED,
    town_reports_for,
)
from fangkong.core.deadlines import kind_get
from fangkong.core.errors import InvalidInput
from fangkong.core.paths import city_of, community_of, town_of
from fangkong.tracing.selectors.cases import cases as cases_page

if TYPE_CHECKING:
    from fangkong.accounts.models import User

# The new cases a report lists one by one; past this it says how many more there are.
CASES_LISTED_MAX = 200
# The overdue items a report reads per kind (the oldest first) to count them by owner;
# past this it says how many of the total its table lists.
OVERDUE_LISTED_PER_KIND = 1000


@dataclass(frozen=True)
class CaseRow:
    """One new case as the report lists it: no name, ID number, phone or address."""

    number: str
    town: str
    community: str
    kind: str
    found: str  # how it was found: among persons under control, or in the community
    source: str  # source known / unknown


@dataclass(frozen=True)
class OverdueRow:
    owner: str
    count: int
    oldest: dt.datetime | None
    kinds: str


@dataclass(frozen=True)
class TownReport:
    town: str
    submitted: bool
    state: str
    submitted_at: dt.datetime | None
    progress: str
    problems: list[str]
    needs: list[str]
    # No report yet, but not yet due either (before the rule set's hour): not missing.
    not_due: bool = False


@dataclass(frozen=True)
class ReportData:
    day: dt.date
    scope_path: str
    scope_name: str
    issuer: str  # the issuing body, from the scope's name (桐乡市…指挥部办公室)
    title: str
    figures: dict[str, Any]  # `situation()` for the day, as the dashboard shows it
    cases: list[CaseRow] = field(default_factory=list)
    cases_more: int = 0  # new cases not listed one by one (past CASES_LISTED_MAX)
    overdue: list[OverdueRow] = field(default_factory=list)
    overdue_total: int = 0
    towns: list[TownReport] = field(default_factory=list)
    generated_at: dt.datetime | None = None


def report_day_check(day: dt.date | None) -> dt.date:
    """The report's date: today unless given; a date to come is refused."""
    today = timezone.localdate()
    if day is None:
        return today
    if day > today:
        raise InvalidInput(
            "report_day_future", _("日报日期不能晚于今天"), field="day", value=day.isoformat()
        )
    return day


def report_check(*, user: User) -> None:
    """Who may have a daily report: report.view (403), for their own scope."""
    require(user, Capability.REPORT_VIEW)


def issuer_for(scope_name: str) -> str:
    return _("%(place)s新冠肺炎疫情防控工作指挥部办公室") % {"place": scope_name}


def title_for(scope_name: str) -> str:
    return _("%(place)s新冠肺炎疫情防控工作日报") % {"place": scope_name}


def _day_cases(*, user: User, day: dt.date, new: int) -> tuple[list[CaseRow], int]:
    """The cases reported on `day` in the user's scope, de-identified, by number, and
    how many of the day's `new` cases are not listed (past CASES_LISTED_MAX)."""
    page = cases_page(user=user, since=day, until=day, size=CASES_LISTED_MAX)
    paths = set()
    for case in page.items:
        paths.add(town_of(case.jurisdiction_path))
        paths.add(community_of(case.jurisdiction_path))
    names = jurisdiction_names(paths=paths)
    rows = [
        CaseRow(
            number=case.number,
            town=names.get(town_of(case.jurisdiction_path), ""),
            community=names.get(community_of(case.jurisdiction_path), ""),
            kind=str(case.get_kind_display()),
            found=_("隔离管控中发现") if case.from_contact_id else _("社会面筛查发现"),
            source=_("来源不明") if case.source_unknown else _("来源明确"),
        )
        for case in page.items
    ]
    rows.sort(key=lambda r: r.number)
    more = max(0, new - len(rows)) if page.next_cursor else 0
    return rows, more


def _overdue(*, user: User, now: dt.datetime) -> tuple[list[OverdueRow], int]:
    """The overdue items by owner, as the board shows them (none without overdue.view)."""
    if not has_capability(user, Capability.OVERDUE_VIEW):
        return [], 0
    groups = []
    for group in overdue_groups(actor=user, now=now, limit_per_kind=OVERDUE_LISTED_PER_KIND):
        kinds = []
        for item in group.items:
            known = kind_get(item.kind)
            label = str(known.label) if known is not None else item.kind
            if label not in kinds:
                kinds.append(label)
        groups.append(
            OverdueRow(
                owner=group.owner_label,
                count=len(group.items),
                oldest=group.oldest,
                kinds="、".join(kinds),
            )
        )
    return groups, sum(g.count for g in groups)


def _town_state_words() -> dict[str, str]:
    return {
        STATE_SUBMITTED: _("按时报送"),
        STATE_LATE: _("迟报"),
        STATE_MISSING: _("未报送"),
    }


def _towns(*, user: User, day: dt.date) -> list[TownReport]:
    """The towns' reports of `day` the user sees (none without town_report.view)."""
    if not has_capability(user, Capability.TOWN_REPORT_VIEW):
        return []
    words = _town_state_words()
    return [
        TownReport(
            town=str(r["town_name"]),
            submitted=r["state"] != STATE_MISSING,
            state=words.get(r["state"], str(r["state"])),
            submitted_at=r["submitted_at"],
            progress=str(r["progress"] or ""),
            problems=[str(p) for p in r["problems"]],
            needs=[str(n) for n in r["needs"]],
            not_due=r["state"] == STATE_MISSING and not r["overdue"],
        )
        for r in town_reports_for(user=user, day=day)
    ]


def _end_of(day: dt.date) -> dt.datetime:
    """The end of `day` in the display zone, or now if the day is today."""
    end = timezone.make_aware(
        dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min),
        timezone.get_default_timezone(),
    )
    return min(end, timezone.now())


def report_data(*, user: User, day: dt.date | None = None) -> ReportData:
    """Everything the daily report of `day` says, for the user's scope (see the module)."""
    report_check(user=user)
    day = report_day_check(day)
    figures = situation(user=user, day=day)
    path = str(figures.get("scope_path") or scope_path(user))
    scope_name = str(figures.get("scope_name") or "")
    if not scope_name:  # figures not computed for a scope without a name: the city's
        scope_name = jurisdiction_names(paths=[city_of(path)]).get(city_of(path), "")
    cases, more = _day_cases(user=user, day=day, new=int(figures["cases"]["new"]))
    groups, overdue_total = _overdue(user=user, now=_end_of(day))
    return ReportData(
        day=day,
        scope_path=path,
        scope_name=scope_name,
        issuer=issuer_for(scope_name),
        title=title_for(scope_name),
        figures=figures,
        cases=cases,
        cases_more=more,
        overdue=groups,
        overdue_total=overdue_total,
        towns=_towns(user=user, day=day),
        generated_at=timezone.now(),
    )
