"""Services of the towns' daily reports (听取汇报).

Who may:
- submitting and editing: a town's own staff (`town_report.submit`, bound to a town) for
  their own town, for today (Asia/Shanghai) only, until command has read the report; a
  report for another town is 404, a role without the capability 403;
- marking read, turning a problem into a task: command (`town_report.review`) in scope;
- reminding a town of a missing report: the system (`fangkong periodic`), once a town a day.

The state of a day's report: submitted (on time), late (first submitted after the rule
set's `town_report_hour`), missing (none). Editing after the hour keeps the first
submission's time, so a late report stays late. Every write is atomic and audited; a
refusal writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require, require_in_scope, scope_path
from fangkong.accounts.roles import Capability, Role
from fangkong.accounts.services import audit_record
from fangkong.areas import selectors as area_selectors
from fangkong.areas.choices import Level
from fangkong.command.models import (
    TownReport,
    TownReportNeed,
    TownReportNeedKind,
    TownReportProblem,
    TownReportReminder,
)
from fangkong.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fangkong.core.paths import rows_under_delete, town_of, under
from fangkong.notices.choices import NoticeKind
from fangkong.notices.services import notify_over
from fangkong.protocol import rules as protocol_rules
from fangkong.protocol import selectors as protocol_selectors

if TYPE_CHECKING:
    from fangkong.accounts.models import User

PROGRESS_MAX = 2000
PROBLEM_MAX = 300
PROBLEMS_MAX = 20
NEED_ITEM_MAX = 100
NEED_UNIT_MAX = 10
NEEDS_MAX = 20
QUANTITY_MAX = 10_000_000


def town_report_due(*, town_path: str, day: dt.date) -> protocol_rules.ProtocolDeadline:
    """When the report of the town at `town_path` for `day` is due (the rule set in
    force for that town on that day)."""
    ruleset = protocol_selectors.ruleset_for(on_date=day, path=town_path)
    return protocol_rules.town_report_deadline(
        protocol_rules.Protocol.from_ruleset(ruleset), day, timezone.get_default_timezone()
    )


def _progress(value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        raise InvalidInput("progress_required", _("请填写工作进展"), field="progress")
    if len(text) > PROGRESS_MAX:
        raise InvalidInput(
            "progress_too_long", _("工作进展不能超过 2000 字"), field="progress", limit=PROGRESS_MAX
        )
    return text


def _problems(values: Sequence[Any]) -> list[str]:
    texts = [str(v or "").strip() for v in values]
    texts = [t for t in texts if t]
    if len(texts) > PROBLEMS_MAX:
        raise InvalidInput(
            "problems_too_many", _("困难和问题最多 20 条"), field="problems", limit=PROBLEMS_MAX
        )
    if any(len(t) > PROBLEM_MAX for t in texts):
        raise InvalidInput(
            "problem_too_long",
            _("每条困难和问题不能超过 300 字"),
            field="problems",
            limit=PROBLEM_MAX,
        )
    return texts


def _needs(values: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for n, value in enumerate(values, start=1):
        if not isinstance(value, Mapping):
            raise InvalidInput("need_invalid", _("需求格式无效"), field="needs", row=n)
        item = str(value.get("item") or "").strip()
        if not item:
            continue  # a blank row of the form
        kind = str(value.get("kind") or TownReportNeedKind.OTHER)
        if kind not in TownReportNeedKind.values:
            raise InvalidInput("need_kind_invalid", _("需求类别无效"), field="needs", row=n)
        if len(item) > NEED_ITEM_MAX:
            raise InvalidInput(
                "need_item_too_long", _("需求内容不能超过 100 字"), field="needs", row=n
            )
        quantity = value.get("quantity")
        if quantity is not None and (
            isinstance(quantity, bool)
            or not isinstance(quantity, int)
            or not 1 <= quantity <= QUANTITY_MAX
        ):
            raise InvalidInput(
                "need_quantity_invalid",
                _("需求数量须为 1 到 10000000 之间的整数"),
                field="needs",
                row=n,
            )
        unit = str(value.get("unit") or "").strip()
        if len(unit) > NEED_UNIT_MAX:
            raise InvalidInput("need_unit_too_long", _("单位不能超过 10 字"), field="needs", row=n)
        out.append({"kind": kind, "item": item, "quantity": quantity, "unit": unit})
    if len(out) > NEEDS_MAX:
        raise InvalidInput("needs_too_many", _("需求最多 20 条"), field="needs", limit=NEEDS_MAX)
    return out


def _own_town(actor: User, town_path: str) -> str:
    """The town a report is written for: the actor's own; another town is not found."""
    require(actor, Capability.TOWN_REPORT_SUBMIT)
    own = scope_path(actor)
    require_in_scope(actor, town_path, what="town_report")
    if town_of(own) != own or own != town_path:
        # In scope but not the actor's own town (a city-wide account): not theirs to write.
        raise PermissionDenied("town_report_town_only", _("镇街工作日报只能由本镇街工作人员报送"))
    return own


def _write_rows(report: TownReport, problems: list[str], needs: list[dict[str, Any]]) -> None:
    TownReportProblem.objects.filter(report=report).delete()
    TownReportNeed.objects.filter(report=report).delete()
    TownReportProblem.objects.bulk_create(
        TownReportProblem(report=report, position=i, text=text)
        for i, text in enumerate(problems, start=1)
    )
    TownReportNeed.objects.bulk_create(
        TownReportNeed(report=report, position=i, **need) for i, need in enumerate(needs, start=1)
    )


def _side_by_side_url(day: dt.date) -> str:
    return f"{reverse('command:town_reports')}?day={day.isoformat()}"


@transaction.atomic
def town_report_submit(
    *,
    actor: User,
    town_path: str,
    day: dt.date,
    progress: str,
    problems: Sequence[str],
    needs: Sequence[Mapping[str, Any]],
    now: dt.datetime | None = None,
    ip: str = "",
) -> TownReport:
    """Submit (or, until command has read it, edit) the town's report for `day`, which
    must be today. The first submission tells command (`town_report.submitted`)."""
    town_path = _own_town(actor, town_path)
    now = now or timezone.now()
    today = timezone.localdate(now)
    if day != today:
        raise Conflict(
            "town_report_day_closed",
            _("只能报送当天的工作日报"),
            day=day.isoformat(),
            today=today.isoformat(),
        )
    progress = _progress(progress)
    problem_texts = _problems(problems)
    need_rows = _needs(needs)
    town = area_selectors.jurisdictions_at(paths=[town_path], level=Level.TOWN).get(town_path)
    if town is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="town_report")
    report = TownReport.objects.select_for_update().filter(town_path=town_path, day=day).first()
    if report is not None:
        if report.read_at is not None:
            raise Conflict(
                "town_report_read", _("指挥部已阅知该日报，不能再修改"), report=report.pk
            )
        report.progress, report.updated_at = progress, now
        report.save(update_fields=["progress", "updated_at"])
        _write_rows(report, problem_texts, need_rows)
        _audit(actor, "town_report.update", report, ip, problems=len(problem_texts))
        return report
    due = town_report_due(town_path=town_path, day=day)
    try:
        with transaction.atomic():
            report = TownReport.objects.create(
                town_path=town_path,
                day=day,
                progress=progress,
                due_at=due.value,
                ruleset_version=due.ruleset_version,
                submitted_at=now,
                submitted_by=actor,
                updated_at=now,
            )
    except IntegrityError as exc:  # a concurrent first submission of the same day
        raise Conflict(
            "town_report_exists", _("该日日报已报送，请刷新后修改"), day=str(day)
        ) from exc
    _write_rows(report, problem_texts, need_rows)
    _audit(
        actor,
        "town_report.submit",
        report,
        ip,
        late=report.late,
        problems=len(problem_texts),
        needs=len(need_rows),
    )
    title = (
        _("%(town)s迟报%(day)s工作日报") if report.late else _("%(town)s已报送%(day)s工作日报")
    ) % {"town": town.name, "day": day.strftime("%m-%d")}
    notify_over(
        path=town_path,
        capability=Capability.TOWN_REPORT_REVIEW,
        kind=NoticeKind.TOWN_REPORT_SUBMITTED,
        title=title,
        body=_("困难和问题 %(p)s 条，需求 %(n)s 条")
        % {"p": len(problem_texts), "n": len(need_rows)},
        url=_side_by_side_url(day),
        object_type="town_report",
        object_id=report.pk,
    )
    return report


def _audit(
    actor: User | None, action: str, report: TownReport, ip: str = "", **detail: Any
) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="town_report",
        object_id=report.pk,
        object_label=f"{report.town_path} {report.day.isoformat()}",
        jurisdiction_path=report.town_path,
        detail={"day": report.day.isoformat(), **detail},
        ip=ip,
    )


def _report_for_review(actor: User, pk: int) -> TownReport:
    require(actor, Capability.TOWN_REPORT_REVIEW)
    report = TownReport.objects.select_for_update().filter(pk=pk).first()
    if report is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="town_report")
    require_in_scope(actor, report.town_path, what="town_report")
    return report


@transaction.atomic
def town_report_mark_read(
    *, actor: User, report_id: int, now: dt.datetime | None = None, ip: str = ""
) -> TownReport:
    """Command has read the report (阅知): from now on the town cannot edit it. Marking a
    read report again changes nothing."""
    report = _report_for_review(actor, report_id)
    if report.read_at is None:
        report.read_at, report.read_by = now or timezone.now(), actor
        report.save(update_fields=["read_at", "read_by"])
        _audit(actor, "town_report.read", report, ip)
    return report


def town_reports_remind_missing(*, now: dt.datetime | None = None) -> int:
    """Tell each town whose report for today is missing at the rule set's hour, once a
    town a day (`town_report.missing` to the town's staff). Run by `fangkong periodic`;
    safe to run repeatedly and concurrently. Returns how many towns were told."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    towns = area_selectors.jurisdiction_rows_at_level(level=Level.TOWN)
    submitted = set(TownReport.objects.filter(day=day).values_list("town_path", flat=True))
    reminded = set(TownReportReminder.objects.filter(day=day).values_list("town_path", flat=True))
    told = 0
    for town in towns:
        path = town["path"]
        if path in submitted or path in reminded:
            continue
        try:
            due = town_report_due(town_path=path, day=day)
        except NotFound:  # no rule set in force: nothing is due
            continue
        if now < due.value:
            continue
        if _remind(path=path, name=town["name"], day=day, now=now):
            told += 1
    return told


@transaction.atomic
def _remind(*, path: str, name: str, day: dt.date, now: dt.datetime) -> bool:
    try:
        with transaction.atomic():
            _reminder, created = TownReportReminder.objects.get_or_create(
                town_path=path, day=day, defaults={"notified_at": now}
            )
    except IntegrityError:  # a concurrent run told this town first
        return False
    if not created or TownReport.objects.filter(town_path=path, day=day).exists():
        return False
    notify_over(
        path=path,
        capability=Capability.TOWN_REPORT_SUBMIT,
        roles=[Role.TOWN_STAFF],
        kind=NoticeKind.TOWN_REPORT_MISSING,
        title=_("%(town)s%(day)s工作日报逾期未报") % {"town": name, "day": day.strftime("%m-%d")},
        body=_("请尽快报送工作进展、困难和问题、需求"),
        url=reverse("command:town_report_submit"),
        object_type="town_report_missing",
        object_id=f"{path}:{day.isoformat()}",
    )
    audit_record(
        actor=None,
        action="town_report.missing_notify",
        object_type="town_report",
        object_label=f"{path} {day.isoformat()}",
        jurisdiction_path=path,
        detail={"day": day.isoformat()},
    )
    return True


@transaction.atomic
def command_town_reports_delete_under(prefix: str) -> int:
    """Delete the town reports (with their problems and needs) and reminders under
    `prefix` (the drill rebuilding its city). Returns the reports deleted."""
    ids = list(TownReport.objects.filter(under("town_path", prefix)).values_list("pk", flat=True))
    TownReportProblem.objects.filter(report_id__in=ids).delete()
    TownReportNeed.objects.filter(report_id__in=ids).delete()
    rows_under_delete(TownReportReminder, "town_path", prefix)
    return rows_under_delete(TownReport, "town_path", prefix)
