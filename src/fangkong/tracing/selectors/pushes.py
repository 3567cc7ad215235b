"""Tracing selectors: verification pushes, their items and assist requests.

Every read is scoped: a town's staff see only the lists pushed to their town and the
persons on them (`scope_q` on `jurisdiction_path`); city-wide roles see every town.
Anything outside the reader's scope is a 404, never a 403, so its existence does not leak.
Counts are single GROUP BY queries over the lists in view, never a query per list.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require, require_in_scope, scope_q
from fangkong.accounts.roles import Capability
from fangkong.core.deadlines import OverdueItem, OwnerKind
from fangkong.core.errors import DomainError, NotFound
from fangkong.core.pagination import Page, keyset_page
from fangkong.core.search import SearchHit
from fangkong.tracing.models import (
    AssistRequest,
    Case,
    Contact,
    ContactStatus,
    PushItem,
    PushItemStatus,
    PushStatus,
    VerificationPush,
)
from fangkong.tracing.services.pushes import (
    CONTROL_ITEM_STATUSES,
    FINAL_ITEM_STATUSES,
    contacts_of_case_q,
)

if TYPE_CHECKING:
    from fangkong.accounts.models import User

PUSH_STATUSES = frozenset(PushStatus.values)
# Done lists by their deadline: the push list's `completion` filter.
PUSH_COMPLETIONS = ("on_time", "late")
PUSH_DEADLINE_KIND = "tracing.push"


def _pushes_q(user: User) -> QuerySet[VerificationPush]:
    require(user, Capability.PUSH_VIEW)
    return VerificationPush.objects.filter(scope_q(user)).select_related("town", "case")


def _pushes_filtered(
    *,
    user: User,
    status: str | None = None,
    overdue: bool | None = None,
    town_path: str | None = None,
    case: Case | None = None,
    now: dt.datetime | None = None,
    completion: str | None = None,
) -> QuerySet[VerificationPush]:
    """The lists the user may see that match the filters (one queryset, no rows read).
    `completion` "on_time" keeps the lists done by their deadline, "late" those done
    after it (the command figures' on_time / late, `selectors.figures`)."""
    qs = _pushes_q(user)
    if status:
        if status not in PUSH_STATUSES:
            raise DomainError("push_status_invalid", _("状态无效"), value=status)
        qs = qs.filter(status=status)
    if overdue is not None:
        now = now or timezone.now()
        late = Q(status=PushStatus.OPEN, deadline__lt=now)
        qs = qs.filter(late) if overdue else qs.exclude(late)
    if completion:
        if completion not in PUSH_COMPLETIONS:
            raise DomainError("push_completion_invalid", _("完成情况无效"), value=completion)
        qs = qs.filter(status=PushStatus.DONE).filter(
            Q(completed_at__lte=F("deadline"))
            if completion == "on_time"
            else Q(completed_at__gt=F("deadline"))
        )
    if town_path:
        qs = qs.filter(jurisdiction_path=town_path)
    if case is not None:
        qs = qs.filter(case=case)
    return qs


def pushes(
    *,
    user: User,
    status: str | None = None,
    overdue: bool | None = None,
    town_path: str | None = None,
    case: Case | None = None,
    cursor: str | None = None,
    size: int = 50,
    now: dt.datetime | None = None,
    completion: str | None = None,
) -> Page[VerificationPush]:
    """The lists the user may see, newest first, keyset-paginated."""
    qs = _pushes_filtered(
        user=user,
        status=status,
        overdue=overdue,
        town_path=town_path,
        case=case,
        now=now,
        completion=completion,
    )
    return keyset_page(qs, cursor=cursor, size=size)


def push_get(*, user: User, pk: int) -> VerificationPush:
    found = _pushes_q(user).select_related("ruleset", "case__person").filter(pk=pk).first()
    if found is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="verification_push")
    return found


def push_items(*, user: User, push: VerificationPush) -> list[PushItem]:
    """The persons on a list (in the user's scope), in the order they were pushed."""
    require(user, Capability.PUSH_VIEW)
    require_in_scope(user, push.jurisdiction_path, what="verification_push")
    return list(
        PushItem.objects.filter(scope_q(user), push=push)
        .select_related("contact__person__household", "marked_by")
        .order_by("pk")
    )


# Which persons of a list the list page shows: those still to answer, those answered (or
# still unanswered) after the deadline, or everyone.
ITEM_SHOWS = ("pending", "late", "all")


def _late_q(push: VerificationPush, now: dt.datetime) -> Q:
    """Marked after the deadline, or not marked yet and the deadline has passed."""
    late = Q(marked_at__gt=push.deadline)
    if push.deadline < now:
        late |= Q(status=PushItemStatus.PENDING)
    return late


def push_items_late_count(
    *, user: User, push: VerificationPush, now: dt.datetime | None = None
) -> int:
    """How many persons of the list are late (see `_late_q`); one COUNT."""
    require(user, Capability.PUSH_VIEW)
    require_in_scope(user, push.jurisdiction_path, what="verification_push")
    late = _late_q(push, now or timezone.now())
    return PushItem.objects.filter(scope_q(user), late, push=push).count()


def push_items_page(
    *,
    user: User,
    push: VerificationPush,
    show: str = "all",
    cursor: str | None = None,
    size: int = 50,
    now: dt.datetime | None = None,
) -> Page[PushItem]:
    """One keyset page of a list's persons (in the order they were pushed), filtered by
    `show` (ITEM_SHOWS); a fixed number of queries whatever the page's size."""
    require(user, Capability.PUSH_VIEW)
    require_in_scope(user, push.jurisdiction_path, what="verification_push")
    if show not in ITEM_SHOWS:
        raise DomainError("push_show_invalid", _("筛选条件无效"), value=show)
    qs = PushItem.objects.filter(scope_q(user), push=push).select_related(
        "contact__person__household", "marked_by"
    )
    if show == "pending":
        qs = qs.filter(status=PushItemStatus.PENDING)
    elif show == "late":
        qs = qs.filter(_late_q(push, now or timezone.now()))
    return keyset_page(qs, cursor=cursor, size=size, descending=False)


def push_item_get(*, user: User, pk: int) -> PushItem:
    require(user, Capability.PUSH_VIEW)
    found = (
        PushItem.objects.filter(scope_q(user), pk=pk)
        .select_related("push", "contact__person__household", "marked_by")
        .first()
    )
    if found is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="push_item")
    return found


def pushes_overdue(*, user: User, now: dt.datetime | None = None) -> list[VerificationPush]:
    """Open lists past their deadline, most overdue first."""
    now = now or timezone.now()
    return list(
        _pushes_q(user).filter(status=PushStatus.OPEN, deadline__lt=now).order_by("deadline", "pk")
    )


@dataclass
class ItemCounts:
    """How far a list (or a town, or everything in view) has got."""

    total: int = 0
    pending: int = 0
    located: int = 0
    controlled: int = 0
    not_found: int = 0
    outside: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    def add(self, status: str, n: int) -> None:
        self.total += n
        self.by_status[status] = self.by_status.get(status, 0) + n
        if status == PushItemStatus.PENDING:
            self.pending += n
        elif status == PushItemStatus.LOCATED:
            self.located += n
        elif status in CONTROL_ITEM_STATUSES:
            self.controlled += n
        elif status == PushItemStatus.NOT_FOUND:
            self.not_found += n
        elif status == PushItemStatus.OUTSIDE:
            self.outside += n

    @property
    def final(self) -> int:
        return sum(n for s, n in self.by_status.items() if s in FINAL_ITEM_STATUSES)

    @property
    def percent_done(self) -> int:
        return round(100 * self.final / self.total) if self.total else 0

    @property
    def unresolved(self) -> int:
        """Answered but not controlled: 未找到 and 不在本市 (final, yet nobody in hand)."""
        return self.not_found + self.outside

    @property
    def percent_controlled(self) -> int:
        """The green part of the progress bar; the rest of `percent_done` is the
        warning part (未找到, 不在本市), so a done list with persons not found is never
        one full green bar."""
        return round(100 * self.controlled / self.total) if self.total else 0

    @property
    def percent_unresolved(self) -> int:
        return max(self.percent_done - self.percent_controlled, 0)


def push_item_counts(*, user: User, push_ids: list[int]) -> dict[int, ItemCounts]:
    """Item counts per list for the given lists (one GROUP BY query)."""
    require(user, Capability.PUSH_VIEW)
    result: dict[int, ItemCounts] = defaultdict(ItemCounts)
    if not push_ids:
        return result
    rows = (
        PushItem.objects.filter(scope_q(user), push_id__in=push_ids)
        .values("push_id", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        result[row["push_id"]].add(row["status"], row["n"])
    return result


@dataclass
class PushTotals:
    """The persons of every list in view (a page's summary cards) and how many lists."""

    lists: int
    items: ItemCounts


def push_totals(
    *,
    user: User,
    status: str | None = None,
    overdue: bool | None = None,
    town_path: str | None = None,
    now: dt.datetime | None = None,
    completion: str | None = None,
) -> PushTotals:
    """Item counts over every list that the list page's filter shows (open and done
    alike, every page of it, not only the first): two queries."""
    require(user, Capability.PUSH_VIEW)
    lists = _pushes_filtered(
        user=user,
        status=status,
        overdue=overdue,
        town_path=town_path,
        now=now,
        completion=completion,
    )
    qs = PushItem.objects.filter(scope_q(user), push__in=lists.values("pk"))
    totals = ItemCounts()
    for row in qs.values("status").annotate(n=Count("pk")).order_by():
        totals.add(row["status"], row["n"])
    return PushTotals(lists=lists.count(), items=totals)


def push_status_counts(*, user: User) -> dict[str, int]:
    """Number of lists per list status in the user's scope (one query)."""
    rows = _pushes_q(user).values("status").annotate(n=Count("pk")).order_by()
    return {row["status"]: row["n"] for row in rows}


def pushes_of_case(*, user: User, case: Case) -> list[VerificationPush]:
    """The lists pushed for a case that the user may see (its section on the case page)."""
    return list(_pushes_q(user).filter(case=case).order_by("jurisdiction_path", "pk"))


def case_contacts_waiting(*, user: User, case: Case) -> int:
    """How many of the case's contacts (in the user's scope) are identified, not pushed."""
    require(user, Capability.PUSH_VIEW)
    return (
        Contact.objects.filter(
            scope_q(user), contacts_of_case_q(case), status=ContactStatus.IDENTIFIED
        )
        .values("pk")
        .distinct()
        .count()
    )


def case_for_pushes(*, user: User, pk: int) -> Case:
    """A case whose lists the user looks at: case.view and the case in scope (else 404)."""
    require(user, Capability.CASE_VIEW)
    found = Case.objects.filter(scope_q(user), pk=pk).select_related("ruleset").first()
    if found is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="case")
    return found


def assist_request_get(*, user: User, pk: int) -> AssistRequest:
    """An assist request; push.view and the person's jurisdiction in scope (else 404)."""
    require(user, Capability.PUSH_VIEW)
    found = (
        AssistRequest.objects.filter(scope_q(user), pk=pk)
        .select_related("contact__person", "created_by")
        .first()
    )
    if found is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="assist_request")
    return found


def assist_request_exposures(*, user: User, assist: AssistRequest) -> list[Any]:
    """The exposure facts printed on an assist request (place, span, date, kind)."""
    require(user, Capability.PUSH_VIEW)
    require_in_scope(user, assist.jurisdiction_path, what="assist_request")
    return list(
        assist.contact.exposures.select_related(
            "place", "source_case", "source_contact__person"
        ).order_by("exposed_on", "pk")
    )


def assist_requests_of_push(
    *, user: User, push: VerificationPush, contact_ids: list[int] | None = None
) -> dict[int, int]:
    """contact id → latest assist request id for the persons of a list (one query); only
    for `contact_ids` when given (the persons on one page)."""
    require(user, Capability.PUSH_VIEW)
    qs = AssistRequest.objects.filter(scope_q(user), contact__push_items__push=push)
    if contact_ids is not None:
        qs = qs.filter(contact_id__in=contact_ids)
    rows = qs.order_by("contact_id", "pk").values_list("contact_id", "pk")
    return dict(rows)


# --- the overdue board (core.deadlines, kind "tracing.push") ----------------------------


def _pushes_overdue_q(user: User, now: dt.datetime) -> QuerySet[VerificationPush]:
    """Open lists past their deadline in the user's scope (index push_status_deadline_idx)."""
    return VerificationPush.objects.filter(scope_q(user), status=PushStatus.OPEN, deadline__lt=now)


def pushes_overdue_items(user: User, now: dt.datetime, limit: int) -> list[OverdueItem]:
    """The board's items: open lists past their deadline, the oldest deadline first, owned
    by the town they were pushed to; the detail counts the persons not yet answered
    (one GROUP BY over the lists shown)."""
    require(user, Capability.PUSH_VIEW)
    rows = list(
        _pushes_overdue_q(user, now)
        .select_related("town", "case")
        .order_by("deadline", "pk")[:limit]
    )
    counts = push_item_counts(user=user, push_ids=[p.pk for p in rows])
    items = []
    for push in rows:
        c = counts.get(push.pk, ItemCounts())
        title = _("推送核查 %(number)s") % {"number": push.number}
        if push.case is not None:
            title = _("推送核查 %(number)s（病例 %(case)s）") % {
                "number": push.number,
                "case": push.case.number,
            }
        items.append(
            OverdueItem(
                kind=PUSH_DEADLINE_KIND,
                key=str(push.pk),
                title=title,
                deadline=push.deadline,
                owner_kind=OwnerKind.TOWN,
                owner_key=push.jurisdiction_path,
                owner_label=push.town.name,
                url=reverse("tracing:push_detail", kwargs={"pk": push.pk}),
                path=push.jurisdiction_path,
                detail=_("共 %(total)s 人，未反馈 %(pending)s 人")
                % {"total": c.total, "pending": c.total - c.final},
                escalated_at=push.escalated_at,
            )
        )
    return items


def pushes_overdue_count(user: User, now: dt.datetime) -> int:
    require(user, Capability.PUSH_VIEW)
    return _pushes_overdue_q(user, now).count()


def pushes_overdue_count_by_owner(user: User, now: dt.datetime) -> dict[tuple[str, str], int]:
    """The overdue lists per town they were pushed to (the board's owners)."""
    require(user, Capability.PUSH_VIEW)
    rows = (
        _pushes_overdue_q(user, now)
        .order_by()
        .values("jurisdiction_path")
        .annotate(n=Count("pk"))
        .values_list("jurisdiction_path", "n")
    )
    return {(OwnerKind.TOWN, path): n for path, n in rows}


# --- The header's search (core.search) --------------------------------------------------

PUSH_NUMBER_QUERY_RE = re.compile(r"^[A-Za-z0-9-]{3,32}$")


def push_find(*, user: User, q: str, limit: int) -> list[SearchHit]:
    """The pushed lists `user` may see (scoped as the push list: a town its own) whose
    number is `q` (exact, any case), starts with it (`TS20261205`) or ends with it
    (`0001`: the day's sequence); the exact one first, then newest. A hit names the town,
    the state and the deadline, never a person."""
    term = q.strip().upper()
    if not PUSH_NUMBER_QUERY_RE.match(term):
        return []
    match = Q(number__iexact=term) | Q(number__istartswith=term)
    if term.isdigit():
        match |= Q(number__endswith=f"-{term}")
    rows = list(_pushes_q(user).filter(match).order_by("-created_at", "-pk")[:limit])
    rows.sort(key=lambda p: p.number.upper() != term)  # the exact one first, order kept
    statuses = dict(PushStatus.choices)
    return [
        SearchHit(
            kind="tracing.push",
            key=str(push.pk),
            title=push.number,
            url=reverse("tracing:push_detail", args=[push.pk]),
            detail=" · ".join(
                str(part)
                for part in (
                    push.town.name,
                    statuses.get(push.status, ""),
                    "{} {}".format(
                        _("时限"), timezone.localtime(push.deadline).strftime("%Y-%m-%d %H:%M")
                    ),
                )
                if part
            ),
            exact=push.number.upper() == term,
        )
        for push in rows
    ]
