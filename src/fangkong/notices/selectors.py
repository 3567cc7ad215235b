"""Reading a user's own inbox (nobody reads another's)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fangkong.notices.models import Notification

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from fangkong.accounts.models import User


def unread_count(*, user: User) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def inbox(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    rows = Notification.objects.filter(user=user)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return rows.order_by("-id")
