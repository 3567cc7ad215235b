"""Writing notifications: to named users, or to every user who holds a capability over a
jurisdiction path. Called by the apps above inside their own write transactions, so a
notification exists exactly when the thing it tells of does; an urgent kind is also sent
by SMS (`notices.sms`) once that transaction has committed.

A user marks their own notifications read (one, or all); nobody touches another's.
Reading one's own inbox is not audited.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation

from fangkong.accounts.roles import ROLE_CAPABILITIES
from fangkong.core.paths import level_prefixes
from fangkong.notices import sms
from fangkong.notices.choices import URGENT_KINDS
from fangkong.notices.models import Notification
from fangkong.notices.selectors import not_found

if TYPE_CHECKING:
    from fangkong.accounts.models import User

logger = logging.getLogger("fangkong.notices")

TITLE_MAX = 200
URL_MAX = 300
SMS_PREFIX = "【防控平台】"


@contextmanager
def site_language() -> Iterator[None]:
    """Titles are stored as written: write them in the site's language (Chinese), whatever
    language the request that caused them was in."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


def site_relative(url: str) -> str:
    """`url` when it is a path on this site ("/tracing/pushes/7/"), else "": an inbox
    entry never leads off the site (no scheme, no host, no "//host")."""
    url = str(url or "")
    if not url.startswith("/") or url.startswith("//") or "\\" in url or len(url) > URL_MAX:
        return ""
    return url


def notify(
    *,
    users: Iterable[User],
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    object_type: str = "",
    object_id: str | int = "",
    jurisdiction_path: str = "",
    sms_text: bool | None = None,
) -> int:
    """One notification to each of `users` (each active user once; no service account,
    which cannot log in to read it: the system actor, the drill's actors). Returns how many.

    An urgent kind (`choices.URGENT_KINDS`; `sms_text=True/False` overrides) is also sent
    by SMS to those of them who have a work mobile, after the caller's transaction commits.
    """
    now = timezone.now()
    seen: set[int] = set()
    rows = []
    numbers: list[str] = []
    for user in users:
        if user is None or user.pk in seen or not user.is_active:
            continue
        if not user.has_usable_password():  # a service account (the system, the drill)
            continue
        seen.add(user.pk)
        rows.append(
            Notification(
                user=user,
                kind=str(kind),
                title=str(title)[:TITLE_MAX],
                body=str(body),
                url=site_relative(url),
                object_type=object_type,
                object_id=str(object_id),
                jurisdiction_path=jurisdiction_path,
                created_at=now,
            )
        )
        if getattr(user, "mobile", ""):
            numbers.append(user.mobile)
    Notification.objects.bulk_create(rows)
    urgent = str(kind) in URGENT_KINDS if sms_text is None else sms_text
    if urgent and numbers:
        text = f"{SMS_PREFIX}{str(title)[:TITLE_MAX]}"
        transaction.on_commit(lambda: _sms_send(numbers, text))
    return len(rows)


def _sms_send(numbers: list[str], text: str) -> None:
    try:
        sms.send(numbers, text)
    except Exception:  # a gateway's failure is logged, never the caller's
        logger.exception("SMS not sent to %d numbers", len(numbers))


def users_over(*, path: str, capability: str, roles: Iterable[str] | None = None) -> list[User]:
    """The active users whose role holds `capability` and whose scope covers `path` (their
    scope path is `path` or one of its ancestors): whom a thing at `path` concerns.
    `roles`, when given, narrows to those roles (a town's push: town staff, not command)."""
    holding = [role for role, caps in ROLE_CAPABILITIES.items() if str(capability) in caps]
    if roles is not None:
        wanted = {str(r) for r in roles}
        holding = [r for r in holding if r in wanted]
    if not holding or not path:
        return []
    prefixes = level_prefixes(path)
    return list(
        get_user_model()
        .objects.filter(Q(scope_path__in=prefixes), role__in=holding, is_active=True)
        .order_by("pk")
    )


def users_at_place(*, place_id: int | None, roles: Iterable[str]) -> list[User]:
    """The active users of `roles` bound to the place (a quarantine site's own staff)."""
    if not place_id:
        return []
    return list(
        get_user_model()
        .objects.filter(place_id=place_id, role__in=[str(r) for r in roles], is_active=True)
        .order_by("pk")
    )


def notify_over(
    *,
    path: str,
    capability: str,
    roles: Iterable[str] | None = None,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    object_type: str = "",
    object_id: str | int = "",
    also: Iterable[User] = (),
) -> int:
    """Notify every user `users_over(path, capability, roles)` finds, and `also` (each
    user once)."""
    return notify(
        users=[*users_over(path=path, capability=capability, roles=roles), *also],
        kind=kind,
        title=title,
        body=body,
        url=url,
        object_type=object_type,
        object_id=object_id,
        jurisdiction_path=path,
    )


# --- reading ---------------------------------------------------------------------------


@transaction.atomic
def notification_mark_read(*, actor: User, notification: Notification) -> Notification:
    """Mark one of the actor's own notifications read (again: nothing changes). Another
    user's is never found (`selectors.notification_get` answers 404 first); refused here
    too, in case a caller passes one."""
    if notification.user_id != actor.pk:
        raise not_found()
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


@transaction.atomic
def notifications_mark_all_read(*, actor: User) -> int:
    """Mark every unread notification of the actor read; how many."""
    return Notification.objects.filter(user=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )
