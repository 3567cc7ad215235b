"""What a new task made from an object starts with: a short de-identified summary of the
object (its number, town, kind, date; never a person's name) and its town ticked.

Read through the owning apps' scoped selectors, so an object outside the user's view
gives nothing (the form then starts blank, as for an unknown object)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.areas import selectors as area_selectors
from fangkong.core.errors import NotFound
from fangkong.core.paths import town_of
from fangkong.tracing.selectors.cases import case_get
from fangkong.tracing.selectors.pushes import push_get

if TYPE_CHECKING:
    from fangkong.accounts.models import User


@dataclass(frozen=True)
class SourceSummary:
    body: str = ""
    town_paths: frozenset[str] = field(default_factory=frozenset)


def _town_name(path: str) -> str:
    town = town_of(path)
    return area_selectors.jurisdiction_names(paths=[town]).get(town, "") if town else ""


def task_source_summary(*, user: User, object_type: str, object_id: str) -> SourceSummary:
    """The body and the towns a task from (`object_type`, `object_id`) starts with."""
    if not object_id.isdigit():
        return SourceSummary()
    pk = int(object_id)
    try:
        if object_type == "case":
            case = case_get(user=user, pk=pk)
            town = _town_name(case.jurisdiction_path)
            body = _("病例 %(number)s，%(town)s，%(kind)s，报告日期 %(day)s。") % {
                "number": case.number,
                "town": town or "—",
                "kind": case.get_kind_display(),
                "day": timezone.localdate(case.reported_at).isoformat(),
            }
            return SourceSummary(body, frozenset({town_of(case.jurisdiction_path)} - {""}))
        if object_type == "verification_push":
            push = push_get(user=user, pk=pk)
            town = _town_name(push.jurisdiction_path)
            body = _("协查推送 %(number)s（病例 %(case)s），推送至%(town)s，时限 %(due)s。") % {
                "number": push.number,
                "case": push.case.number if push.case is not None else "—",
                "town": town or "—",
                "due": timezone.localtime(push.deadline).strftime("%Y-%m-%d %H:%M"),
            }
            return SourceSummary(body, frozenset({town_of(push.jurisdiction_path)} - {""}))
        if object_type == "zone":
            zone = area_selectors.zone_get(user=user, pk=pk)
            path = zone.jurisdiction.path
            town = _town_name(path)
            body = _("风险区 %(name)s，%(town)s，%(level)s，%(day)s 划定。") % {
                "name": zone.name,
                "town": town or "—",
                "level": zone.get_level_display(),
                "day": zone.started_on.isoformat(),
            }
            return SourceSummary(body, frozenset({town_of(path)} - {""}))
    except NotFound:
        return SourceSummary()
    return SourceSummary()
