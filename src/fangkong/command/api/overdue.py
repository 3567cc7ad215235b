"""The overdue board's API: every overdue item the caller may see, the oldest first."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from ninja import Field, Query, Router, Schema

from fangkong.accounts.types import AuthedRequest
from fangkong.command.selectors import overdue as selectors
from fangkong.core.apitypes import Page, PageQuery
from fangkong.core.deadlines import OverdueItem
from fangkong.core.pagination import sequence_page

router = Router()


class OverdueItemOut(Schema):
    kind: str = Field(description="The registered kind of deadline (tracing.push, ...)")
    key: str = Field(description="The item within its kind (usually the object's id)")
    title: str
    deadline: dt.datetime
    overdue_minutes: int = Field(description="How long past the deadline, in minutes")
    owner: str = Field(description="`<owner kind>:<owner key>`, the board's owner filter")
    owner_kind: str = Field(description="town, community, department, site, lab, command")
    owner_label: str
    url: str = Field(description="The page where the item is done")
    detail: str
    escalated_at: dt.datetime | None


class OverdueFilter(PageQuery):
    kind: str | None = Field(None, max_length=64, description="One kind's code")
    owner: str | None = Field(None, max_length=100, description="`<owner kind>:<owner key>`")


class OverdueKindOut(Schema):
    code: str
    label: str
    count: int


class OverdueSummaryOut(Schema):
    total: int = Field(description="Overdue items in the caller's view, every kind")
    kinds: list[OverdueKindOut]


def _out(item: OverdueItem, now: dt.datetime) -> OverdueItemOut:
    return OverdueItemOut(
        kind=item.kind,
        key=item.key,
        title=item.title,
        deadline=item.deadline,
        overdue_minutes=int(item.overdue_by(now).total_seconds() // 60),
        owner=selectors.owner_token(item.owner_kind, item.owner_key),
        owner_kind=item.owner_kind,
        owner_label=item.owner_label,
        url=item.url,
        detail=item.detail,
        escalated_at=item.escalated_at,
    )


@router.get(
    "/overdue",
    summary="List the overdue items the caller may see, the oldest deadline first",
    response=Page[OverdueItemOut],
)
def overdue_list(request: AuthedRequest, filters: Query[OverdueFilter]) -> Page[OverdueItemOut]:
    now = timezone.now()
    items = selectors.overdue_items(
        actor=request.user, now=now, kind=filters.kind, owner=filters.owner
    )
    page = sequence_page(
        items, key=selectors.item_sort_key, cursor=filters.cursor, size=filters.size
    )
    return Page[OverdueItemOut].of(page, lambda item: _out(item, now))


@router.get(
    "/overdue/summary",
    summary="Count the overdue items the caller may see, in all and per kind",
    response=OverdueSummaryOut,
)
def overdue_summary(request: AuthedRequest) -> OverdueSummaryOut:
    counts = selectors.overdue_counts(actor=request.user, now=timezone.now())
    return OverdueSummaryOut(
        total=sum(c.count for c in counts),
        kinds=[OverdueKindOut(code=c.code, label=c.label, count=c.count) for c in counts],
    )
