"""Every write of the accounts domain: audit records, users, logins, tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.accounts import rules
from fangkong.accounts.models import (
    AccessToken,
    AuditEvent,
    KnownLoginAddress,
    LoginFailure,
    User,
)
from fangkong.accounts.permissions import has_capability, require, require_in_scope
from fangkong.accounts.roles import CITY_WIDE_ROLES, PLACE_ROLES, Capability, Role
from fangkong.core.errors import Conflict, DomainError, NotFound, PermissionDenied

TOKEN_PREFIX = "fk_"  # noqa: S105 - the visible marker of a fangkong token, not a secret
TOKEN_PREFIX_LENGTH = 10  # "fk_" + 7 characters, stored to let a user recognise a token
TOKEN_TOUCH_INTERVAL = dt.timedelta(minutes=1)
USERNAME_MAX = 150

# Roles bound to a jurisdiction level below the city, and the refusal when they are not.
BOUND_LEVELS: dict[str, tuple[frozenset[str], Any]] = {
    Role.TOWN_STAFF: (frozenset({"town"}), gettext_lazy("镇街工作人员须绑定到镇街")),
    Role.COMMUNITY_WORKER: (
        frozenset({"community", "grid"}),
        gettext_lazy("村社网格员须绑定到村社或网格"),
    ),
}


def audit_record(
    *,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: str | int = "",
    object_label: str = "",
    field: str = "",
    jurisdiction_path: str = "",
    detail: dict[str, Any] | None = None,
    ip: str = "",
) -> AuditEvent:
    """Append one audit record. Called by every service whose action must be traceable
    (reveals, exports, logins, zone transitions ...), inside that service's transaction."""
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        actor=actor if authenticated else None,
        actor_username=getattr(actor, "username", "") if authenticated else "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_label=object_label[:200],
        field=field,
        jurisdiction_path=jurisdiction_path,
        detail=detail or {},
        at=timezone.now(),
        ip=ip[:64],
    )


def audit_record_many(*, actor: User | None, events: list[dict[str, Any]], ip: str = "") -> int:
    """Append many audit records of one action in one statement (bulk paths: a results
    import's corrections). Each event has the keyword arguments of `audit_record` but
    `actor` and `ip`. Returns the number of records written."""
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    now = timezone.now()
    rows = [
        AuditEvent(
            actor=actor if authenticated else None,
            actor_username=getattr(actor, "username", "") if authenticated else "",
            action=e["action"],
            object_type=e["object_type"],
            object_id=str(e.get("object_id", "")),
            object_label=str(e.get("object_label", ""))[:200],
            field=e.get("field", ""),
            jurisdiction_path=e.get("jurisdiction_path", ""),
            detail=e.get("detail") or {},
            at=now,
            ip=ip[:64],
        )
        for e in events
    ]
    AuditEvent.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


# --- Users ---------------------------------------------------------------------------


def user_binding_scope(*, role: str, jurisdiction: Any, place: Any = None) -> str:
    """Check that a role, a jurisdiction and a place fit together; return the scope path.

    City-wide roles are bound to the root city; town staff to a town; community workers
    to a community or a grid; site-bound roles to a place of their kind, in that place's
    jurisdiction. Raises DomainError with a stable code when they do not fit.
    """
    if role not in Role.values:
        raise DomainError("role_invalid", _("角色无效"), role=role)
    if place is not None:
        if role not in PLACE_ROLES:
            raise DomainError("place_not_allowed", _("该角色不绑定点位"), role=role)
        if place.kind != PLACE_ROLES[role]:
            raise DomainError(
                "place_kind_mismatch",
                _("点位类型与角色不符"),
                role=role,
                place_kind=place.kind,
                expected=PLACE_ROLES[role],
            )
        if jurisdiction is None:
            jurisdiction = place.jurisdiction
        elif jurisdiction.pk != place.jurisdiction_id:
            raise DomainError(
                "place_jurisdiction_mismatch", _("辖区必须是该点位所在的辖区"), role=role
            )
    if jurisdiction is None:
        raise DomainError("jurisdiction_required", _("请选择辖区"), role=role)
    level = jurisdiction.level
    if role in CITY_WIDE_ROLES:
        if level != "city" or jurisdiction.parent_id is not None:
            raise DomainError(
                "jurisdiction_level_mismatch",
                _("全市性角色须绑定到市级辖区"),
                role=role,
                level=level,
            )
    elif role in BOUND_LEVELS and level not in BOUND_LEVELS[role][0]:
        raise DomainError(
            "jurisdiction_level_mismatch", str(BOUND_LEVELS[role][1]), role=role, level=level
        )
    if place is not None:
        return str(place.jurisdiction_path or jurisdiction.path)
    return str(jurisdiction.path)


def _require_place(role: str, place: Any, require_place: bool) -> None:
    if role in PLACE_ROLES and place is None and require_place:
        raise DomainError("place_required", _("该角色须绑定隔离点、采样点或检测机构"), role=role)


def _require_manager(actor: User, scope: str) -> None:
    """A user may be created or rebound only by a user manager whose scope covers it."""
    require(actor, Capability.USER_MANAGE)
    require_in_scope(actor, scope, what="jurisdiction")


@transaction.atomic
def user_create(
    *,
    actor: User | None = None,
    username: str,
    password: str,
    role: str,
    jurisdiction: Any,
    place: Any = None,
    display_name: str = "",
    staff: bool = False,
    require_place: bool = True,
) -> User:
    """Create a staff account bound to a role and a jurisdiction (and, if site-bound, a place).

    `actor=None` is the command line (provisioning); otherwise the actor needs user.manage
    over the target jurisdiction. `staff` also opens the Django admin (admin role only).
    `require_place=False` lets provisioning bind a site-bound role to a jurisdiction
    before its place exists.
    """
    username = (username or "").strip()
    if not username or len(username) > USERNAME_MAX:
        raise DomainError("username_invalid", _("用户名不能为空且不超过150个字符"))
    try:
        User.username_validator(username)
    except ValidationError as exc:
        raise DomainError("username_invalid", _("用户名只能包含字母、数字和 @/./+/-/_")) from exc
    _require_place(role, place, require_place)
    scope = user_binding_scope(role=role, jurisdiction=jurisdiction, place=place)
    if place is not None and jurisdiction is None:
        jurisdiction = place.jurisdiction
    if actor is not None:
        _require_manager(actor, scope)
    if staff and role != Role.ADMIN:
        raise DomainError("staff_requires_admin", _("只有系统管理员可以进入管理后台"))
    if display_name and len(display_name) > 64:
        raise DomainError("display_name_too_long", _("显示名不超过64个字符"))
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict("username_taken", _("用户名已被使用"), username=username)
    candidate = User(username=username, role=role, display_name=display_name)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise DomainError("password_invalid", " ".join(exc.messages)) from exc
    user = User(
        username=username,
        role=role,
        jurisdiction=jurisdiction,
        place=place,
        scope_path=scope,
        display_name=display_name,
        is_staff=staff,
        is_superuser=staff,
    )
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # a concurrent create of the same username
        raise Conflict("username_taken", _("用户名已被使用"), username=username) from exc
    audit_record(
        actor=actor,
        action="user.create",
        object_type="user",
        object_id=user.pk,
        object_label=username,
        jurisdiction_path=scope,
        detail={"role": role, "place": getattr(place, "pk", None)},
    )
    return user


@transaction.atomic
def user_rebind(
    *, actor: User | None, user: User, role: str, jurisdiction: Any, place: Any = None
) -> User:
    """Change a user's role, jurisdiction or place (and so its scope); `actor` None for
    the system (`fangkong demo_users`), as in `user_create`."""
    _require_place(role, place, True)
    scope = user_binding_scope(role=role, jurisdiction=jurisdiction, place=place)
    if place is not None and jurisdiction is None:
        jurisdiction = place.jurisdiction
    if actor is not None:
        _require_manager(actor, scope)
        if user.scope_path:
            require_in_scope(actor, user.scope_path, what="user")
    before = {"role": user.role, "scope_path": user.scope_path, "place": user.place_id}
    user.role = role
    user.jurisdiction = jurisdiction
    user.place = place
    user.scope_path = scope
    user.save(update_fields=["role", "jurisdiction", "place", "scope_path"])
    audit_record(
        actor=actor,
        action="user.rebind",
        object_type="user",
        object_id=user.pk,
        object_label=user.username,
        jurisdiction_path=scope,
        detail={"before": before, "role": role, "place": getattr(place, "pk", None)},
    )
    return user


@transaction.atomic
def user_superuser_created(*, user: User, via: str) -> AuditEvent:
    """Record a superuser created outside `user_create` (Django's `createsuperuser`)."""
    return audit_record(
        actor=None,
        action="user.create",
        object_type="user",
        object_id=user.pk,
        object_label=user.username,
        jurisdiction_path=user.scope_path,
        detail={"role": user.role, "superuser": True, "via": via},
    )


# --- Logins --------------------------------------------------------------------------


def _lockout_window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.FANGKONG_LOGIN_LOCKOUT_MINUTES)


def _known_address_memory() -> dt.timedelta:
    return dt.timedelta(days=settings.FANGKONG_LOGIN_KNOWN_ADDRESS_DAYS)


# The three locks of a login, from the narrowest: (name, filter on LoginFailure, limit).
# Failures are counted per account *from one address*, so that failures for one user
# never lock another user, and an attacker cannot lock a user out from other addresses.
# Two higher limits back it up: the account from all addresses together (not applied to
# an address the account signed in from recently, `_address_is_known`), and the address
# for all accounts together (one address spraying many usernames).
def _lockout_keys(username: str, address: str) -> list[tuple[str, dict[str, str], int]]:
    keys = [
        (
            "account_address",
            {"username": username, "address": address},
            settings.FANGKONG_LOGIN_MAX_FAILURES,
        ),
        ("account", {"username": username}, settings.FANGKONG_LOGIN_MAX_ACCOUNT_FAILURES),
    ]
    if address:
        keys.append(("address", {"address": address}, settings.FANGKONG_LOGIN_MAX_ADDRESS_FAILURES))
    return keys


def _address_is_known(*, username: str, address: str, now: dt.datetime) -> bool:
    """Whether this account signed in from this address recently (one lookup on the
    pair's unique index)."""
    if not address:
        return False
    last = (
        KnownLoginAddress.objects.filter(username=username, address=address)
        .values_list("last_success_at", flat=True)
        .first()
    )
    return rules.address_is_known(last, remember=_known_address_memory(), now=now)


def _lock(*, username: str, address: str, now: dt.datetime) -> tuple[str, dt.datetime] | None:
    """The lock that refuses this attempt (its name and when it lifts), or None.

    Each lock is held while its limit of failures falls within the window
    (`rules.lock_lifts_at`); when several hold, the one that lifts last is answered.
    The account-wide lock does not hold for an address the account knows (looked up
    only when that lock would otherwise hold).
    """
    window = _lockout_window()
    found: tuple[str, dt.datetime] | None = None
    for name, key, limit in _lockout_keys(username, address):
        if limit <= 0:
            continue
        recent = list(
            LoginFailure.objects.filter(at__gt=now - window, at__lte=now, **key)
            .order_by("-at")
            .values_list("at", flat=True)[:limit]
        )
        lifts = rules.lock_lifts_at(recent, limit=limit, window=window, now=now)
        if lifts is None:
            continue
        if name == "account" and _address_is_known(username=username, address=address, now=now):
            continue
        if found is None or lifts > found[1]:
            found = (name, lifts)
    return found


def _address_remember(*, username: str, address: str, now: dt.datetime) -> None:
    """Record a successful login of this account from this address (insert or move the
    pair's time forward in one statement, safe under concurrent logins)."""
    if not address:
        return
    KnownLoginAddress.objects.bulk_create(
        [KnownLoginAddress(username=username, address=address, last_success_at=now)],
        update_conflicts=True,
        unique_fields=["username", "address"],
        update_fields=["last_success_at"],
    )


def _scope_of_username(username: str) -> str:
    return str(
        User.objects.filter(username__iexact=username).values_list("scope_path", flat=True).first()
        or ""
    )


def _login_refused(
    *, username: str, address: str, ip: str, now: dt.datetime, action: str, detail: dict[str, Any]
) -> None:
    """Count one failed attempt for the lockout and audit it."""
    with transaction.atomic():
        LoginFailure.objects.create(
            username=rules.lockout_username(username), address=address, at=now
        )
        audit_record(
            actor=None,
            action=action,
            object_type="user",
            object_id=username,
            object_label=username,
            jurisdiction_path=_scope_of_username(username),
            detail={"username": username, **detail},
            ip=ip,
        )


def login_attempt(
    *,
    username: str,
    password: str,
    ip: str,
    via: str = "web",
    staff_only: bool = False,
    now: dt.datetime | None = None,
) -> User:
    """Check a username and password, with lockout; return the user or raise.

    Every way in (the login page, the Django admin: `via`) goes through here. The
    attempt is refused, even with the right password, while a lock holds
    (`account_locked` or `address_locked`, 403): FANGKONG_LOGIN_MAX_FAILURES failures
    within FANGKONG_LOGIN_LOCKOUT_MINUTES for this account from this address;
    FANGKONG_LOGIN_MAX_ACCOUNT_FAILURES for this account from all addresses, unless it
    signed in from this address within FANGKONG_LOGIN_KNOWN_ADDRESS_DAYS;
    FANGKONG_LOGIN_MAX_ADDRESS_FAILURES from this address for all accounts. A wrong
    username or password is `login_failed` (401), never saying which of the two was
    wrong; so is a user who is not staff at a staff-only door (`staff_only`, the admin).
    In production mode the demo password is `demo_password_refused` (403) on any account.
    """
    now = now or timezone.now()
    username = (username or "").strip()[:USERNAME_MAX]
    ip = (ip or "")[:64]
    key_username = rules.lockout_username(username)
    address = rules.lockout_address(ip)
    lock = _lock(username=key_username, address=address, now=now)
    if lock is not None:
        which, locked_until = lock
        with transaction.atomic():
            audit_record(
                actor=None,
                action="login.locked",
                object_type="user",
                object_id=username,
                object_label=username,
                jurisdiction_path=_scope_of_username(username),
                detail={
                    "username": username,
                    "lock": which,
                    "locked_until": locked_until.isoformat(),
                    "via": via,
                },
                ip=ip,
            )
        local = timezone.localtime(locked_until).strftime("%Y-%m-%d %H:%M")
        if which == "address":
            raise PermissionDenied(
                "address_locked",
                _("本地址登录失败次数过多，已暂时锁定，请于 %(time)s 之后再试") % {"time": local},
                retry_at=locked_until.isoformat(),
            )
        raise PermissionDenied(
            "account_locked",
            _("登录失败次数过多，账号已暂时锁定，请于 %(time)s 之后再试") % {"time": local},
            retry_at=locked_until.isoformat(),
        )
    if settings.PRODUCTION and password == rules.DEMO_PASSWORD:
        _login_refused(
            username=username,
            address=address,
            ip=ip,
            now=now,
            action="login.refused",
            detail={"reason": "demo_password", "via": via},
        )
        raise PermissionDenied(
            "demo_password_refused", _("生产环境不接受演示密码，请联系系统管理员重设密码")
        )
    user = authenticate(None, username=username, password=password) if username else None
    if user is None or not isinstance(user, User) or (staff_only and not user.is_staff):
        reason = "not_staff" if isinstance(user, User) else "credentials"
        _login_refused(
            username=username,
            address=address,
            ip=ip,
            now=now,
            action="login.failure",
            detail={"reason": reason, "via": via},
        )
        raise DomainError("login_failed", _("用户名或密码错误"), status=401)
    with transaction.atomic():
        # this account's own mistakes from this address are forgiven; failures from
        # other addresses (someone else's guesses) still count
        LoginFailure.objects.filter(username=key_username, address=address).delete()
        _address_remember(username=key_username, address=address, now=now)
        audit_record(
            actor=user,
            action="login.success",
            object_type="user",
            object_id=user.pk,
            object_label=user.username,
            jurisdiction_path=user.scope_path,
            detail={"via": via},
            ip=ip,
        )
    return user


@transaction.atomic
def login_records_purge(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete the lockout's records no lock reads any more: failures older than the
    lockout window (every lock counts within that one window), and addresses an account
    last signed in from longer ago than FANGKONG_LOGIN_KNOWN_ADDRESS_DAYS. Run by
    `fangkong periodic`; running it twice deletes nothing more. Returns the rows deleted."""
    now = now or timezone.now()
    failures, _ = LoginFailure.objects.filter(at__lte=now - _lockout_window()).delete()
    known, _ = KnownLoginAddress.objects.filter(
        last_success_at__lte=now - _known_address_memory()
    ).delete()
    return {"failures": failures, "known_addresses": known}


@transaction.atomic
def user_password_changed(*, actor: User | None, user: User, ip: str = "", via: str) -> int:
    """Record a password set by Django's own forms (the admin's password pages), and
    revoke the user's live API tokens: a password reset after a compromise must also end
    the access of tokens minted with the old password. The addresses the account knows
    are forgotten too (the intruder's among them). Returns the tokens revoked."""
    now = timezone.now()
    revoked = AccessToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    KnownLoginAddress.objects.filter(username=rules.lockout_username(user.username)).delete()
    audit_record(
        actor=actor,
        action="user.password_change",
        object_type="user",
        object_id=user.pk,
        object_label=user.username,
        jurisdiction_path=user.scope_path,
        detail={"via": via, "usable": user.has_usable_password(), "tokens_revoked": revoked},
        ip=ip,
    )
    return revoked


@transaction.atomic
def user_logout(*, actor: User | AnonymousUser, ip: str) -> None:
    """Record a logout (the view ends the session); an anonymous one records nothing."""
    if not isinstance(actor, User):
        return
    audit_record(
        actor=actor,
        action="logout",
        object_type="user",
        object_id=actor.pk,
        object_label=actor.username,
        jurisdiction_path=actor.scope_path,
        ip=ip,
    )


# --- API tokens ----------------------------------------------------------------------


def token_digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def _require_token_owner_or_manager(actor: User, user: User) -> None:
    require(actor, Capability.TOKEN_MANAGE)
    if actor.pk == user.pk:
        return
    if not has_capability(actor, Capability.USER_MANAGE):
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="token")
    require_in_scope(actor, user.scope_path, what="user")


def token_max_expiry(*, created_at: dt.datetime) -> dt.datetime:
    """The latest a token created at `created_at` may live (FANGKONG_TOKEN_MAX_LIFETIME_DAYS)."""
    return created_at + dt.timedelta(days=settings.FANGKONG_TOKEN_MAX_LIFETIME_DAYS)


@transaction.atomic
def token_create(
    *,
    actor: User,
    user: User,
    name: str,
    expires_at: dt.datetime | None = None,
    ip: str = "",
    by_token: bool = False,
) -> tuple[AccessToken, str]:
    """Create an API token for `user`; returns the row and the plaintext (shown once).

    A request authenticated by a token (`by_token`) cannot create tokens: a leaked token
    must not outlive its revocation through tokens it minted. Tokens expire: without
    `expires_at` after FANGKONG_TOKEN_LIFETIME_DAYS; a date beyond
    FANGKONG_TOKEN_MAX_LIFETIME_DAYS is refused.
    """
    if by_token:
        raise PermissionDenied(
            "token_cannot_create_token", _("接口令牌不能创建令牌，请登录网页后创建")
        )
    _require_token_owner_or_manager(actor, user)
    name = (name or "").strip()
    if not name:
        raise DomainError("token_name_required", _("请填写令牌名称"))
    if len(name) > 100:
        raise DomainError("token_name_too_long", _("令牌名称不超过100个字符"))
    now = timezone.now()
    latest = token_max_expiry(created_at=now)
    max_days = settings.FANGKONG_TOKEN_MAX_LIFETIME_DAYS
    if expires_at is None:
        expires_at = min(now + dt.timedelta(days=settings.FANGKONG_TOKEN_LIFETIME_DAYS), latest)
    else:
        if timezone.is_naive(expires_at):
            raise DomainError("token_expiry_invalid", _("过期时间须带时区"))
        if expires_at <= now:
            raise DomainError("token_expiry_invalid", _("过期时间须晚于当前时间"))
        if expires_at > latest:
            raise DomainError(
                "token_expiry_too_far",
                _("令牌有效期最长 %(days)s 天") % {"days": max_days},
                max_days=max_days,
                latest=latest.isoformat(),
            )
    if not user.is_active:
        raise DomainError("user_inactive", _("该账号已停用"))
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AccessToken.objects.create(
        user=user,
        name=name,
        prefix=plaintext[:TOKEN_PREFIX_LENGTH],
        digest=token_digest(plaintext),
        expires_at=expires_at,
    )
    audit_record(
        actor=actor,
        action="token.create",
        object_type="token",
        object_id=token.pk,
        object_label=f"{name} ({token.prefix}…)",
        jurisdiction_path=user.scope_path,
        detail={"user": user.username, "expires_at": expires_at.isoformat()},
        ip=ip,
    )
    return token, plaintext


@transaction.atomic
def token_revoke(*, actor: User, token: AccessToken, ip: str = "") -> AccessToken:
    """Revoke a token at once; a revoked token never authenticates again."""
    locked = AccessToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    _require_token_owner_or_manager(actor, locked.user)
    if locked.revoked_at is not None:
        raise Conflict("token_already_revoked", _("该令牌已被吊销"))
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        action="token.revoke",
        object_type="token",
        object_id=locked.pk,
        object_label=f"{locked.name} ({locked.prefix}…)",
        jurisdiction_path=locked.user.scope_path,
        detail={"user": locked.user.username},
        ip=ip,
    )
    token.revoked_at = locked.revoked_at
    return locked


def token_resolve(plaintext: str, *, now: dt.datetime | None = None) -> AccessToken | None:
    """The live token for a plaintext, with its user, or None if unknown, revoked,
    expired or of an inactive user. A token stored without an expiry (created before
    tokens expired by default) lives FANGKONG_TOKEN_MAX_LIFETIME_DAYS from its creation.

    Records when the token was last used, at most once a minute (no write per request).
    """
    if not plaintext or not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 200:
        return None
    token = (
        AccessToken.objects.select_related("user", "user__jurisdiction")
        .filter(digest=token_digest(plaintext))
        .first()
    )
    if token is None or token.revoked_at is not None:
        return None
    now = now or timezone.now()
    expires_at = token.expires_at or token_max_expiry(created_at=token.created_at)
    if expires_at <= now:
        return None
    if not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_TOUCH_INTERVAL:
        AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def token_authenticate(plaintext: str, *, now: dt.datetime | None = None) -> User | None:
    """The user a bearer token stands for, or None (see `token_resolve`)."""
    token = token_resolve(plaintext, now=now)
    return token.user if token is not None else None


def service_account(*, username: str, role: str, jurisdiction: Any, display_name: str) -> User:
    """The service account `username` (role, bound to `jurisdiction`, no usable password:
    it cannot log in), created on first use. Race-safe: a concurrent first use that
    inserts it first is answered with its row. For automatic consequences done in a
    city's name (testing's system actor, docs/decisions/0008)."""
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user
    user = User(
        username=username,
        role=role,
        jurisdiction=jurisdiction,
        scope_path=jurisdiction.path,
        display_name=display_name,
    )
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError:  # a concurrent first use created it
        return User.objects.get(username=username)
    return user
