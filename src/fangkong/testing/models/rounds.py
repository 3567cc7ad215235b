"""Rounds (轮次) of mass testing, their scope and their target population."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RoundStatus(models.TextChoices):
    PLANNED = "planned", _("计划中")
    OPEN = "open", _("采样中")
    CLOSED = "closed", _("已结束")


class RoundPurpose(models.TextChoices):
    """What a round is for: mass testing (筛查), or the standing round of a city's
    quarantine sites' tests (隔离点检测), one per city, created on first use and kept
    out of mass-testing lists, coverage and dashboards."""

    SCREENING = "screening", _("全员筛查")
    QUARANTINE = "quarantine", _("隔离点检测")


class SealedPooling(models.TextChoices):
    """How a sealed zone is sampled: the rule set's pool size, or one tube per household."""

    SINGLE = "single", _("单人单管")
    HOUSEHOLD = "household", _("一户一管")


class Round(models.Model):
    """One round of mass testing over a scope (city, towns, zones), with a deadline.

    The target population is computed from the scope when the round opens
    (`RoundTarget` rows), never typed; `target_count` is that number, kept for lists.
    """

    name = models.CharField(_("名称"), max_length=200)
    # The jurisdiction that owns the round: the common ancestor of its scope.
    jurisdiction = models.ForeignKey(
        "areas.Jurisdiction", verbose_name=_("所属辖区"), on_delete=models.PROTECT, related_name="+"
    )
    jurisdiction_path = models.CharField(max_length=32, db_index=True)
    ruleset = models.ForeignKey(
        "protocol.RuleSet", verbose_name=_("规则集"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=RoundStatus.choices, default=RoundStatus.PLANNED
    )
    purpose = models.CharField(
        _("用途"), max_length=16, choices=RoundPurpose.choices, default=RoundPurpose.SCREENING
    )
    sealed_pooling = models.CharField(
        _("封控区采样方式"),
        max_length=16,
        choices=SealedPooling.choices,
        default=SealedPooling.SINGLE,
    )
    starts_at = models.DateTimeField(_("开始时间"))
    deadline_at = models.DateTimeField(_("完成时限"))
    target_count = models.PositiveIntegerField(_("应检人数"), default=0)
    opened_at = models.DateTimeField(_("开始采样时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("核酸检测轮次")
        verbose_name_plural = _("核酸检测轮次")
        indexes = [models.Index(fields=["status", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(deadline_at__gt=models.F("starts_at")),
                name="round_deadline_after_start",
            ),
            # One standing quarantine round per city.
            models.UniqueConstraint(
                fields=["jurisdiction_path"],
                condition=models.Q(purpose="quarantine"),
                name="round_one_quarantine_per_city",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RoundScope(models.Model):
    """A jurisdiction or a zone that a round covers (exactly one of the two)."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="scopes")
    jurisdiction = models.ForeignKey(
        "areas.Jurisdiction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    zone = models.ForeignKey(
        "areas.Zone", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("轮次范围")
        verbose_name_plural = _("轮次范围")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(jurisdiction__isnull=False) & models.Q(zone__isnull=True))
                | (models.Q(jurisdiction__isnull=True) & models.Q(zone__isnull=False)),
                name="round_scope_exactly_one",
            ),
            models.UniqueConstraint(
                fields=["round", "jurisdiction"],
                condition=models.Q(jurisdiction__isnull=False),
                name="round_scope_unique_jurisdiction",
            ),
            models.UniqueConstraint(
                fields=["round", "zone"],
                condition=models.Q(zone__isnull=False),
                name="round_scope_unique_zone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round_id}: {self.jurisdiction_id or self.zone_id}"


class RoundTarget(models.Model):
    """One person of a round's target population (应检人群), computed from the scope.

    `zone_level` is the most severe active zone the person lives in ("" outside zones)
    and `pool_size` the rule set's pooling for it, both fixed when the round opens.
    """

    # No index of its own: round_target_unique leads with the round.
    round = models.ForeignKey(
        Round, on_delete=models.CASCADE, related_name="targets", db_index=False
    )
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    jurisdiction_path = models.CharField(max_length=32)
    zone_level = models.CharField(max_length=16, blank=True)
    pool_size = models.PositiveSmallIntegerField(default=1)

    class Meta:
        verbose_name = _("应检人员")
        verbose_name_plural = _("应检人员")
        constraints = [
            models.UniqueConstraint(fields=["round", "person"], name="round_target_unique"),
            models.CheckConstraint(
                condition=models.Q(pool_size__gte=1, pool_size__lte=50),
                name="round_target_pool_size_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["round", "jurisdiction_path", "person"], name="round_target_scope"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round_id}: {self.person_id}"
