from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from fangkong.accounts.roles import Role


class User(AbstractUser):
    """A staff account: a role (what) bound to a jurisdiction (where).

    Site-bound roles (quarantine-site staff, sampler, lab) also name their place.
    """

    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    jurisdiction = models.ForeignKey(
        "areas.Jurisdiction",
        verbose_name=_("辖区"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    # Denormalized jurisdiction path: the scope every selector filters by.
    scope_path = models.CharField(_("辖区路径"), max_length=32, blank=True, db_index=True)
    place = models.ForeignKey(
        "areas.Place",
        verbose_name=_("所属点位"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        help_text=_("隔离点、采样点或检测机构"),
    )
    display_name = models.CharField(_("显示名"), max_length=64, blank=True)
    # The account holder's work mobile (工作手机), for urgent notifications by SMS
    # (notices.sms). A duty number of a staff account, kept in clear like the account's
    # name: it is no resident's personal data (those are people's, encrypted), and the
    # SMS gateway needs it as typed. Shown to user managers only (the admin).
    mobile = models.CharField(
        _("工作手机"),
        max_length=11,
        blank=True,
        validators=[RegexValidator(r"^1[3-9][0-9]{9}$", _("请输入11位手机号码"), "mobile_invalid")],
        help_text=_("用于接收超时升级、阳性等紧急通知短信"),
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]) | models.Q(role=""),
                name="accounts_user_role_valid",
            ),
            # usernames are unique regardless of case, also under concurrent creates
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username


class AccessToken(models.Model):
    """An API token for a device or an integration; only its SHA-256 is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tokens"
    )
    name = models.CharField(_("名称"), max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class LoginFailure(models.Model):
    """One failed login; lockout counts recent rows per username and per address."""

    username = models.CharField(max_length=150, db_index=True)
    address = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("登录失败记录")
        verbose_name_plural = _("登录失败记录")
        indexes = [models.Index(fields=["username", "at"]), models.Index(fields=["address", "at"])]

    def __str__(self) -> str:
        return f"{self.username}@{self.address} {self.at:%Y-%m-%d %H:%M}"


class KnownLoginAddress(models.Model):
    """An account's last successful login from one address (both as the lockout counts
    them: `rules.lockout_username`, `rules.lockout_address`). A pair seen within
    FANGKONG_LOGIN_KNOWN_ADDRESS_DAYS is exempt from the account-wide lockout limit."""

    username = models.CharField(max_length=150)
    address = models.CharField(max_length=64)
    last_success_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("常用登录地址")
        verbose_name_plural = _("常用登录地址")
        constraints = [
            models.UniqueConstraint(
                fields=["username", "address"], name="accounts_known_login_address_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.username}@{self.address} {self.last_success_at:%Y-%m-%d %H:%M}"


class AuditEvent(models.Model):
    """Append-only record of who did what to which object, when, from where."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    actor_username = models.CharField(max_length=150)
    action = models.CharField(_("动作"), max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, db_index=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    object_label = models.CharField(max_length=200, blank=True)
    field = models.CharField(max_length=64, blank=True)
    # Jurisdiction path of the object, so that audit views can be scoped like the data.
    jurisdiction_path = models.CharField(max_length=32, blank=True, db_index=True)
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(db_index=True)
    ip = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        indexes = [
            models.Index(fields=["object_type", "object_id", "at"]),
            # A user's recent records of one action (people's lookup budget counts them).
            models.Index(fields=["actor", "action", "at"], name="audit_actor_action_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.object_type}"
