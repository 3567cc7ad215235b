"""Reading a user's own inbox (nobody reads another's: another user's notification is
not found, 404, exactly like one that does not exist)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from fangkong.core.errors import NotFound
from fangkong.notices.models import Notification

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from fangkong.accounts.models import User

# The inbox's order: newest first (ids grow with time), a keyset by primary key.
INBOX_ORDER = ("-pk",)
# The bell shows up to this many ("99+"): the count stops there.
UNREAD_CAP = 99


def not_found() -> NotFound:
    return NotFound("not_found", _("未找到该通知"), object="notification")


def unread_count(*, user: User, cap: int | None = None) -> int:
    """The user's unread notifications: one query on the (user, read_at, id) index,
    counted up to `cap` + 1 when a cap is given (the bell shows "99+")."""
    if not getattr(user, "is_authenticated", False):
        return 0
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if cap is not None:
        return rows.order_by().values("pk")[: cap + 1].count()
    return rows.count()


def inbox(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    rows = Notification.objects.filter(user=user)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return rows.order_by(*INBOX_ORDER)


def notification_get(*, user: User, pk: int) -> Notification:
    """One of the user's own notifications; any other id is not found (404)."""
    found = Notification.objects.filter(pk=pk, user=user).first()
    if found is None:
        raise not_found()
    return found
