"""Every read of the accounts domain, scoped to the acting user."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import AccessToken, AuditEvent, User
from fangkong.accounts.permissions import require, scope_path, scope_q
from fangkong.accounts.roles import CITY_WIDE_ROLES, Capability, Role
from fangkong.core.errors import NotFound
from fangkong.core.paths import CITY_WIDTH


def sees_unscoped_rows(user: User) -> bool:
    """Rows with no jurisdiction (failed logins of unknown names, system events) are
    visible only to city-wide roles bound to the whole city."""
    return user.role in CITY_WIDE_ROLES and len(scope_path(user)) == CITY_WIDTH


def _day_start(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    return timezone.make_aware(dt.datetime.combine(value, dt.time.min))


def audit_events(
    *,
    user: User,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: dt.date | dt.datetime | None = None,
    until: dt.date | dt.datetime | None = None,
) -> QuerySet[AuditEvent]:
    """Audit records the user may see, newest first (page with core.pagination.keyset_page).

    `actor` is a username; `since`/`until` are datetimes or dates (a date `until`
    includes that whole day, Asia/Shanghai).
    """
    require(user, Capability.AUDIT_VIEW)
    visible = scope_q(user)
    if sees_unscoped_rows(user):
        visible |= Q(jurisdiction_path="")
    qs = AuditEvent.objects.filter(visible)
    if actor:
        qs = qs.filter(actor_username=actor.strip())
    if action:
        qs = qs.filter(action=action.strip())
    if object_type:
        qs = qs.filter(object_type=object_type.strip())
    if object_id:
        qs = qs.filter(object_id=object_id.strip())
    if since is not None:
        qs = qs.filter(at__gte=_day_start(since))
    if until is not None:
        if isinstance(until, dt.datetime):
            qs = qs.filter(at__lte=_day_start(until))
        else:
            qs = qs.filter(at__lt=_day_start(until + dt.timedelta(days=1)))
    return qs.order_by("-pk")


def user_tokens(*, user: User) -> QuerySet[AccessToken]:
    """The user's own API tokens, newest first (the digest never leaves the server)."""
    require(user, Capability.TOKEN_MANAGE)
    return AccessToken.objects.filter(user=user).order_by("-created_at", "-pk")


def user_token(*, user: User, token_id: int) -> AccessToken:
    """One of the user's own tokens; anyone else's is 'not found'."""
    token = user_tokens(user=user).filter(pk=token_id).first()
    if token is None:
        raise NotFound("not_found", _("未找到该令牌"), object="token")
    return token


# --- For other apps (records and accounts they ask for instead of reading the tables) ----


def audit_actions_of(
    *, actor_id: int, actions: Iterable[str], since: dt.datetime, detail_key: str
) -> list[tuple[str, Any]]:
    """(action, detail[detail_key]) of the actor's records of `actions` since `since`
    (index actor, action, at): a budget counted from its own trail (people's lookups).
    One query; unscoped, the actor's own records."""
    rows = AuditEvent.objects.filter(
        actor_id=actor_id, action__in=list(actions), at__gte=since
    ).values_list("action", f"detail__{detail_key}")
    return list(rows)


def audit_trail(
    *, object_type: str, object_id: str | int, actions: Iterable[str], limit: int = 200
) -> list[AuditEvent]:
    """The records of `actions` on one object, oldest first, at most `limit` (an object's
    timeline; the caller has checked the object is the user's to see)."""
    return list(
        AuditEvent.objects.filter(
            object_type=object_type, object_id=str(object_id), action__in=list(actions)
        ).order_by("at", "pk")[:limit]
    )


def active_account(*, username: str | None) -> User | None:
    """The active account `username`, or without a name the first active admin (a
    command-line tool's acting account); None if there is none."""
    users = User.objects.filter(is_active=True)
    if username:
        return users.filter(username=username).first()
    return users.filter(role=Role.ADMIN).order_by("pk").first()


def users_at_place(*, place_id: int, role: str, limit: int = 200) -> list[User]:
    """The active accounts of `role` bound to a place (a quarantine site's staff, whom an
    inspection may name as a rectification's owner), by name."""
    return list(
        User.objects.filter(place_id=place_id, role=role, is_active=True).order_by(
            "display_name", "username", "pk"
        )[:limit]
    )
