"""Writing notifications: to named users, or to every user who holds a capability over a
jurisdiction path. Called by the apps above inside their own write transactions, so a
notification exists exactly when the thing it tells of does."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from fangkong.accounts.roles import ROLE_CAPABILITIES
from fangkong.core.paths import level_prefixes
from fangkong.notices.models import Notification

if TYPE_CHECKING:
    from fangkong.accounts.models import User


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
) -> int:
    """One notification to each of `users` (each user once). Returns how many."""
    now = timezone.now()
    seen: set[int] = set()
    rows = []
    for user in users:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        rows.append(
            Notification(
                user=user,
                kind=str(kind),
                title=str(title)[:200],
                body=str(body),
                url=str(url)[:300],
                object_type=object_type,
                object_id=str(object_id),
                jurisdiction_path=jurisdiction_path,
                created_at=now,
            )
        )
    Notification.objects.bulk_create(rows)
    return len(rows)


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
) -> int:
    """Notify every user `users_over(path, capability, roles)` finds."""
    return notify(
        users=users_over(path=path, capability=capability, roles=roles),
        kind=kind,
        title=title,
        body=body,
        url=url,
        object_type=object_type,
        object_id=object_id,
        jurisdiction_path=path,
    )
