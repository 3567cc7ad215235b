"""The overdue board's kind for the towns' daily reports: one item a town whose report
for today is missing past the rule set's `town_report_hour`, owned by the town; it leaves
the board when the town submits (and when the day ends)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.accounts.roles import Capability
from fangkong.command.selectors import town_reports as selectors
from fangkong.core.deadlines import DeadlineKind, OverdueItem, OwnerKind, register

KIND_CODE = "command.town_report"


def town_reports_overdue(actor: Any, now: dt.datetime, limit: int) -> list[OverdueItem]:
    rows = selectors.town_reports_missing(user=actor, now=now)
    rows.sort(key=lambda r: (r.due_at or now, r.town_path))
    url = reverse("command:town_reports")
    items = []
    for row in rows[:limit]:
        due_at = row.due_at or now
        day = timezone.localdate(due_at)
        items.append(
            OverdueItem(
                kind=KIND_CODE,
                key=f"{row.town_path}:{day.isoformat()}",
                title=_("%(town)s %(day)s 工作日报未报")
                % {"town": row.town_name, "day": day.strftime("%m-%d")},
                deadline=due_at,
                owner_kind=OwnerKind.TOWN,
                owner_key=row.town_path,
                owner_label=row.town_name,
                url=f"{url}?day={day.isoformat()}",
                path=row.town_path,
            )
        )
    return items


def town_reports_overdue_count(actor: Any, now: dt.datetime) -> int:
    return selectors.town_reports_missing_count(user=actor, now=now)


def register_town_reports() -> None:
    """Called from `CommandConfig.ready()`."""
    register(
        DeadlineKind(
            code=KIND_CODE,
            label=gettext_lazy("镇街工作日报"),
            capability=Capability.TOWN_REPORT_VIEW,
            overdue=town_reports_overdue,
            count=town_reports_overdue_count,
            order=60,
        )
    )
