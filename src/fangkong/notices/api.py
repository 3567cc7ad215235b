"""The notices API: the acting user's own inbox (a page of notifications, the unread
count the header bell polls, marking read). Another user's notification is 404."""

from __future__ import annotations

import datetime as dt

from ninja import Query, Router, Schema

from fangkong.accounts.types import AuthedRequest
from fangkong.core.apitypes import Page, PageQuery, RowId
from fangkong.core.pagination import keyset_page
from fangkong.notices import selectors, services
from fangkong.notices.choices import URGENT_KINDS
from fangkong.notices.models import Notification

router = Router(tags=["notices"])


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    url: str
    object_type: str
    object_id: str
    urgent: bool
    created_at: dt.datetime
    read_at: dt.datetime | None

    @staticmethod
    def of(n: Notification) -> NotificationOut:
        return NotificationOut(
            id=n.pk,
            kind=n.kind,
            title=n.title,
            body=n.body,
            url=n.url,
            object_type=n.object_type,
            object_id=n.object_id,
            urgent=n.kind in URGENT_KINDS,
            created_at=n.created_at,
            read_at=n.read_at,
        )


class UnreadOut(Schema):
    unread: int


class MarkedOut(Schema):
    marked: int


@router.get("", summary="List my notifications, newest first", response=Page[NotificationOut])
def notification_list(
    request: AuthedRequest, paging: Query[PageQuery], unread: bool = False
) -> Page[NotificationOut]:
    page = keyset_page(
        selectors.inbox(user=request.user, unread_only=unread),
        cursor=paging.cursor,
        size=paging.size,
        order=selectors.INBOX_ORDER,
    )
    return Page[NotificationOut].of(page, NotificationOut.of)


@router.get(
    "/unread",
    summary="Count my unread notifications",
    response=UnreadOut,
    url_name="notices_unread",
)
def notification_unread(request: AuthedRequest) -> UnreadOut:
    return UnreadOut(unread=selectors.unread_count(user=request.user))


@router.post("/read-all", summary="Mark all my notifications read", response=MarkedOut)
def notification_read_all(request: AuthedRequest) -> MarkedOut:
    return MarkedOut(marked=services.notifications_mark_all_read(actor=request.user))


@router.post(
    "/{notification_id}/read", summary="Mark one of my notifications read", response=NotificationOut
)
def notification_read(request: AuthedRequest, notification_id: RowId) -> NotificationOut:
    notice = selectors.notification_get(user=request.user, pk=notification_id)
    return NotificationOut.of(
        services.notification_mark_read(actor=request.user, notification=notice)
    )
