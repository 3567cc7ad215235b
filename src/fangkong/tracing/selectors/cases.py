"""Tracing selectors: cases.

Every read takes the acting user and returns only what that user may see: the capability
`case.view`, and the case's `jurisdiction_path` (the person's) inside the user's scope —
a town's staff see their town's cases, city-wide roles all of them. Outside the scope a
case is a 404. Lists are keyset pages by id (newest first).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Case as DjangoCase
from django.db.models import DateTimeField, F, Q, QuerySet, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import in_scope, require, scope_q
from fangkong.accounts.roles import Capability
from fangkong.accounts.selectors import audit_trail
from fangkong.core.deadlines import OverdueItem, OwnerKind
from fangkong.core.errors import DomainError, NotFound
from fangkong.core.pagination import Page, keyset_page
from fangkong.core.paths import under
from fangkong.core.search import SearchHit
from fangkong.people.services import person_identities
from fangkong.tracing.models import Case, CaseKind, CaseStatus, Investigation, ItineraryStop
from fangkong.tracing.rules import cases as case_rules

if TYPE_CHECKING:
    from fangkong.accounts.models import User

OVERDUE_LIST_MAX = 500


def overdue_q(now: dt.datetime) -> Q:
    """Open cases whose core facts or report are past due and not done."""
    return ~Q(status=CaseStatus.CLOSED) & (
        Q(core_facts_done_at__isnull=True, core_facts_due_at__lt=now)
        | Q(report_done_at__isnull=True, report_due_at__lt=now)
    )


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(
        dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone()
    )


def cases_in_scope(*, user: User) -> QuerySet[Case]:
    require(user, Capability.CASE_VIEW)
    return Case.objects.filter(scope_q(user, "jurisdiction_path"))


def cases(
    *,
    user: User,
    status: str | None = None,
    kind: str | None = None,
    source: str | None = None,
    town: Any = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    overdue: bool | None = None,
    cursor: str | None = None,
    size: int = 50,
    now: dt.datetime | None = None,
    with_total: bool = False,
) -> Page[Case]:
    """One keyset page of the cases `user` may see, newest first.

    Filters: `status`; `kind` (confirmed / asymptomatic); `source` ("known", "unknown":
    the 来源不明 mark); `town` (a Jurisdiction: its subtree); `since`/`until` (dates of
    the report, Asia/Shanghai, both included); `overdue` (True: past a deadline not met;
    False: not).
    """
    qs = cases_in_scope(user=user)
    if status:
        if status not in CaseStatus.values:
            raise DomainError("status_invalid", _("状态无效"), value=status)
        qs = qs.filter(status=status)
    if kind:
        if kind not in CaseKind.values:
            raise DomainError("kind_invalid", _("病例类型无效"), value=kind)
        qs = qs.filter(kind=kind)
    if source:
        if source not in ("known", "unknown"):
            raise DomainError("source_invalid", _("来源筛选无效"), value=source)
        qs = qs.filter(source_unknown=source == "unknown")
    if town is not None:
        qs = qs.filter(under("jurisdiction_path", town.path))
    if since is not None:
        qs = qs.filter(reported_at__gte=_day_start(since))
    if until is not None:
        qs = qs.filter(reported_at__lt=_day_start(until + dt.timedelta(days=1)))
    if overdue is not None:
        q = overdue_q(now or timezone.now())
        qs = qs.filter(q) if overdue else qs.exclude(q)
    return keyset_page(
        qs.select_related("person", "ruleset"), cursor=cursor, size=size, with_total=with_total
    )


def case_get(*, user: User, pk: int) -> Case:
    """One case the user may see; NotFound (404) when absent or outside the scope."""
    found = (
        cases_in_scope(user=user)
        .filter(pk=pk)
        .select_related("person", "person__jurisdiction", "ruleset", "created_by")
        .first()
    )
    if found is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="case")
    return found


# The most urgent first; the primary key last (a unique order, for keyset pages).
OVERDUE_ORDER = ("core_facts_due_at", "pk")


def cases_overdue(*, user: User, now: dt.datetime | None = None) -> list[Case]:
    """The user's open cases past a deadline not met, the most urgent first."""
    return list(
        cases_in_scope(user=user)
        .filter(overdue_q(now or timezone.now()))
        .select_related("person")
        .order_by(*OVERDUE_ORDER)[:OVERDUE_LIST_MAX]
    )


def cases_overdue_page(
    *, user: User, now: dt.datetime | None = None, cursor: str | None = None, size: int = 50
) -> Page[Case]:
    """A keyset page of `cases_overdue`, in the same order."""
    qs = cases_in_scope(user=user).filter(overdue_q(now or timezone.now()))
    return keyset_page(
        qs.select_related("person", "ruleset"), cursor=cursor, size=size, order=OVERDUE_ORDER
    )


def case_investigation(case: Case) -> Investigation | None:
    """The case's investigation (the case was resolved through a scoped selector)."""
    return Investigation.objects.filter(case=case).select_related("investigator").first()


def case_stops(case: Case) -> list[ItineraryStop]:
    """The case's itinerary, in time order; `note_words` is each note for the page."""
    stops = list(
        ItineraryStop.objects.filter(investigation__case=case)
        .select_related("place")
        .order_by("start", "id")
    )
    for stop in stops:
        stop.note_words = case_rules.note_words(stop.note)  # type: ignore[attr-defined]
    return stops


def case_stop_get(*, case: Case, pk: int) -> ItineraryStop:
    stop = (
        ItineraryStop.objects.filter(investigation__case=case, pk=pk)
        .select_related("investigation", "investigation__case", "place")
        .first()
    )
    if stop is None:
        raise NotFound("not_found", _("未找到该轨迹点"), object="stop")
    return stop


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    kind: str
    label: str
    detail: dict[str, Any] = field(default_factory=dict)


TIMELINE_ACTIONS = {
    "case.close": "closed",
    "itinerary.propose": "itinerary_proposed",
}


def case_timeline(case: Case) -> list[TimelineEntry]:
    """What happened to the case, in time order: from its own fields (report,
    investigation, core facts, stops, report, escalation) and its audit records
    (proposals, closing). The case was resolved through a scoped selector."""
    entries = [TimelineEntry(case.reported_at, "reported", _("报告病例"))]
    investigation = case_investigation(case)
    if investigation is not None:
        entries.append(TimelineEntry(investigation.started_at, "investigation", _("开始流调")))
        if investigation.itinerary_confirmed_at:
            entries.append(
                TimelineEntry(investigation.itinerary_confirmed_at, "itinerary", _("确认活动轨迹"))
            )
    if case.core_facts_done_at:
        entries.append(TimelineEntry(case.core_facts_done_at, "core_facts", _("核心信息完成")))
    for stop in case_stops(case):
        where = stop.place.name if stop.place else stop.address
        entries.append(
            TimelineEntry(stop.start, "stop", _("轨迹点"), {"where": where, "end": stop.end})
        )
    if case.report_done_at:
        entries.append(TimelineEntry(case.report_done_at, "report", _("流调报告完成")))
    if case.escalated_at:
        entries.append(TimelineEntry(case.escalated_at, "escalated", _("超时上报指挥部")))
    records = audit_trail(object_type="case", object_id=case.pk, actions=TIMELINE_ACTIONS)
    for record in records:
        kind = TIMELINE_ACTIONS[record.action]
        label = _("结案") if kind == "closed" else _("由扫码记录生成轨迹")
        entries.append(TimelineEntry(record.at, kind, label, dict(record.detail)))
    return sorted(entries, key=lambda e: e.at)


# --- the overdue board (core.deadlines, kind "tracing.case") ----------------------------

CASE_DEADLINE_KIND = "tracing.case"
# Who must act on an investigation: the city's investigation team (流调队), not the town.
INVESTIGATION_OWNER_KEY = "investigation"


def _missed_deadline() -> DjangoCase:
    """The deadline a case missed first: its core facts while they are not done, else its
    report (the core facts' deadline is always the earlier)."""
    return DjangoCase(
        When(core_facts_done_at__isnull=True, then=F("core_facts_due_at")),
        default=F("report_due_at"),
        output_field=DateTimeField(),
    )


def cases_overdue_items(user: User, now: dt.datetime, limit: int) -> list[OverdueItem]:
    """The board's items: open cases whose core facts or report are past due and not
    done (`overdue_q`), the oldest missed deadline first; owned by the investigation
    team. Cases are few (hundreds in an outbreak) and filtered by the open-status index."""
    require(user, Capability.CASE_MANAGE)
    rows = list(
        cases_in_scope(user=user)
        .filter(overdue_q(now))
        .annotate(missed_at=_missed_deadline())
        .order_by("missed_at", "pk")[:limit]
    )
    items = []
    for case in rows:
        core_missed = case.core_facts_done_at is None
        items.append(
            OverdueItem(
                kind=CASE_DEADLINE_KIND,
                key=str(case.pk),
                title=_("病例 %(number)s 的流调") % {"number": case.number},
                deadline=case.missed_at,  # type: ignore[attr-defined]
                owner_kind=OwnerKind.DEPARTMENT,
                owner_key=INVESTIGATION_OWNER_KEY,
                owner_label=_("流调队"),
                url=reverse("tracing:case_detail", kwargs={"pk": case.pk}),
                path=case.jurisdiction_path,
                detail=_("核心信息未完成") if core_missed else _("流调报告未完成"),
                escalated_at=case.escalated_at,
            )
        )
    return items


def cases_overdue_count(user: User, now: dt.datetime) -> int:
    require(user, Capability.CASE_MANAGE)
    return cases_in_scope(user=user).filter(overdue_q(now)).count()


# --- The header's search (core.search) --------------------------------------------------

CASE_NUMBER_QUERY_RE = re.compile(r"^[A-Za-z0-9-]{3,32}$")


def case_find(*, user: User, q: str, limit: int) -> list[SearchHit]:
    """The cases `user` may see whose number is `q` (exact, any case), starts with it
    (`TX2022`), or ends with it (`0001`: the yearly sequence), exact first, then newest.
    A hit names the person masked (people.services.person_identities), never in clear."""
    term = q.strip().upper()
    if not CASE_NUMBER_QUERY_RE.match(term):
        return []
    match = Q(number__iexact=term) | Q(number__istartswith=term)
    if term.isdigit():
        match |= Q(number__endswith=f"-{term}")
    rows = list(
        cases_in_scope(user=user)
        .filter(match)
        .select_related("person")
        .order_by("-reported_at", "-pk")[:limit]
    )
    rows.sort(key=lambda c: c.number.upper() != term)  # the exact one first, order kept
    visible = [c.person for c in rows if in_scope(user, c.person.jurisdiction_path)]
    names = {
        person.pk: identity.name
        for person, identity in zip(visible, person_identities(user, visible), strict=True)
    }
    kinds = dict(CaseKind.choices)
    statuses = dict(CaseStatus.choices)
    return [
        SearchHit(
            kind="tracing.case",
            key=str(case.pk),
            title=case.number,
            url=reverse("tracing:case_detail", args=[case.pk]),
            detail=" · ".join(
                part
                for part in (
                    names.get(case.person_id, ""),
                    str(kinds.get(case.kind, "")),
                    str(statuses.get(case.status, "")),
                    timezone.localtime(case.reported_at).strftime("%Y-%m-%d"),
                )
                if part
            ),
            exact=case.number.upper() == term,
        )
        for case in rows
    ]
