from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SecondaryMeasure(models.TextChoices):
    CENTRALISED = "centralised", _("集中隔离")
    HOME = "home", _("居家隔离")


def default_always_close_kinds() -> list[str]:
    return ["household", "vehicle", "workplace", "companion"]


def default_small_venue_kinds() -> list[str]:
    return ["restaurant", "ktv", "internet_bar", "gym", "clinic", "chess_room"]


def default_large_venue_kinds() -> list[str]:
    return ["market", "mall", "supermarket", "station", "hospital_hall", "scenic_area"]


def default_risk_test_days() -> list[int]:
    return [1, 3]


class RuleSet(models.Model):
    """One version of the prevention and control protocol (防控方案), or a local override.

    The rule set in force for a date and a jurisdiction path is, among those whose
    `region` is "" (national) or a prefix of the path, the one with the latest
    `effective_from` on or before that date; on the same date the longest region wins
    (`selectors.ruleset_for`). Every protocol date the system computes records the rule
    set that produced it.
    """

    version = models.CharField(_("版本"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    effective_from = models.DateField(_("生效日期"))
    region = models.CharField(
        _("适用辖区路径"), max_length=32, blank=True, help_text=_("留空表示全国")
    )
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="overrides"
    )
    source = models.TextField(_("依据"), blank=True)

    # Tracing: look-back window before onset (symptomatic) or first positive sample.
    contact_lookback_days = models.PositiveSmallIntegerField(_("密接追溯天数"))
    # Close contacts: counted from the last exposure.
    close_centralised_days = models.PositiveSmallIntegerField(_("密接集中隔离天数"))
    close_home_monitoring_days = models.PositiveSmallIntegerField(_("密接居家健康监测天数"))
    close_centralised_test_days = models.JSONField(_("密接集中隔离检测日"), default=list)
    close_home_test_days = models.JSONField(_("密接居家监测检测日"), default=list)
    # Secondary contacts.
    secondary_measure = models.CharField(
        _("次密接措施"), max_length=16, choices=SecondaryMeasure.choices
    )
    secondary_days = models.PositiveSmallIntegerField(_("次密接隔离天数"))
    secondary_test_days = models.JSONField(_("次密接检测日"), default=list)
    # Zones: consecutive days with no new case before a downgrade.
    sealed_downgrade_days = models.PositiveSmallIntegerField(_("封控区降级所需无新增天数"))
    controlled_downgrade_days = models.PositiveSmallIntegerField(_("管控区降级所需无新增天数"))
    precaution_lift_days = models.PositiveSmallIntegerField(
        _("防范区解除所需无新增天数"), default=0, help_text=_("0 表示随封控区、管控区一并解除")
    )
    # A controlled zone that was itself downgraded from sealed may lift sooner (v9: 3 days).
    controlled_after_sealed_days = models.PositiveSmallIntegerField(
        _("由封控区降级的管控区解除所需无新增天数"),
        default=0,
        help_text=_("0 表示与管控区相同"),
    )
    # v9: the zone's whole population screened all-negative on the last day of the count.
    downgrade_requires_screening = models.BooleanField(
        _("降级需当日全员核酸筛查阴性"), default=False
    )
    # Pooling by zone level (1 = single tube).
    pool_size_sealed = models.PositiveSmallIntegerField(_("封控区混采数"), default=1)
    pool_size_controlled = models.PositiveSmallIntegerField(_("管控区混采数"), default=10)
    pool_size_precaution = models.PositiveSmallIntegerField(_("防范区混采数"), default=20)
    # Deadlines (hours).
    case_core_facts_hours = models.PositiveSmallIntegerField(_("核心信息时限(小时)"), default=4)
    case_report_hours = models.PositiveSmallIntegerField(_("流调报告时限(小时)"), default=24)
    verification_push_hours = models.PositiveSmallIntegerField(_("推送核查时限(小时)"), default=24)
    round_deadline_hours = models.PositiveSmallIntegerField(_("核酸轮次时限(小时)"), default=24)
    recheck_hours = models.PositiveSmallIntegerField(_("单管复核时限(小时)"), default=6)
    samplers_per_population = models.PositiveIntegerField(_("每名采样员服务人数"), default=360)
    # Who is close (密接判定 by kind of exposure): exposure kinds that make a close contact
    # whatever the minutes (tracing's ExposureKind values); venue kinds (areas' VenueKind
    # values) where a short overlap makes a close contact; venue kinds where co-presence
    # makes a risk person (时空伴随者) only; other venues: summed minutes.
    always_close_exposure_kinds = models.JSONField(
        _("直接判定密接的接触方式"), default=default_always_close_kinds
    )
    small_venue_kinds = models.JSONField(_("密闭小场所类型"), default=default_small_venue_kinds)
    small_venue_close_minutes = models.PositiveSmallIntegerField(
        _("密闭小场所判定密接的重叠分钟"), default=15
    )
    large_venue_kinds = models.JSONField(_("大型场所类型"), default=default_large_venue_kinds)
    venue_close_minutes = models.PositiveSmallIntegerField(
        _("其他场所判定密接的累计重叠分钟"), default=240
    )
    # Risk persons (时空伴随者/风险人员): "3 days 2 tests" and home health monitoring.
    risk_monitoring_days = models.PositiveSmallIntegerField(
        _("风险人员居家健康监测天数"), default=3
    )
    risk_test_days = models.JSONField(_("风险人员检测日"), default=default_risk_test_days)
    # Release of a secondary contact: its close contact's first N tests negative (0: none).
    secondary_release_close_negatives = models.PositiveSmallIntegerField(
        _("次密接解除需密接前几次检测阴性"), default=0
    )
    # A close contact's own venue co-presence (large venues aside, summed) that makes a
    # secondary contact: shared living, work or a meal, not a short visit side by side.
    secondary_copresence_minutes = models.PositiveSmallIntegerField(
        _("判定次密接的累计重叠分钟"), default=240
    )
    # Quarantine sites.
    quarantine_rooms_per_10k = models.PositiveSmallIntegerField(
        _("每万人储备隔离房间数"), default=20
    )
    health_checks_per_day = models.PositiveSmallIntegerField(_("每日健康监测次数"), default=2)
    rectification_hours = models.PositiveSmallIntegerField(_("整改时限(小时)"), default=24)
    # Command: the hour of the day (local time, 0-23) by which each town's daily report
    # (镇街工作日报) is due; a report missing then is overdue.
    town_report_hour = models.PositiveSmallIntegerField(_("镇街日报报送时点(时)"), default=18)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("防控方案规则集")
        verbose_name_plural = _("防控方案规则集")
        ordering = ["-effective_from", "version"]
        indexes = [models.Index(fields=["region", "effective_from"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(close_centralised_days__gt=0), name="ruleset_close_days_pos"
            ),
            models.CheckConstraint(
                condition=models.Q(pool_size_sealed__gte=1)
                & models.Q(pool_size_controlled__gte=1)
                & models.Q(pool_size_precaution__gte=1),
                name="ruleset_pool_sizes_pos",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.name}"
