from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.areas.choices import Level, PlaceKind, VenueKind, ZoneAction, ZoneLevel, ZoneState
from fangkong.core.paths import CITY_WIDTH, LEVEL_STEP

# Digits each level adds to the materialized path (the widths are core/paths.py's).
LEVEL_WIDTH = {
    Level.CITY: CITY_WIDTH,
    Level.TOWN: LEVEL_STEP,
    Level.COMMUNITY: LEVEL_STEP,
    Level.GRID: LEVEL_STEP,
}


class Jurisdiction(models.Model):
    """A node of the tree city → town/street → community → grid.

    `path` is the hierarchical digit code (city 6 digits, then 3 per level), so that
    "everything under X" is an indexed range query (core.paths.under).
    """

    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    code = models.CharField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(_("路径"), max_length=32, unique=True)
    depth = models.PositiveSmallIntegerField(default=0)
    population = models.PositiveIntegerField(_("常住人口"), default=0)

    class Meta:
        verbose_name = _("辖区")
        verbose_name_plural = _("辖区")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(parent__isnull=True) | models.Q(depth__gt=0),
                name="jurisdiction_depth_with_parent",
            )
        ]

    def __str__(self) -> str:
        return self.name


class JurisdictionGeometry(models.Model):
    """GeoJSON geometry (Polygon/MultiPolygon, WGS84) of a jurisdiction, for maps."""

    jurisdiction = models.OneToOneField(
        Jurisdiction, on_delete=models.CASCADE, related_name="geometry"
    )
    geojson = models.JSONField()
    centroid_lat = models.FloatField(null=True, blank=True)
    centroid_lon = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("辖区边界")
        verbose_name_plural = _("辖区边界")

    def __str__(self) -> str:
        return f"geometry of {self.jurisdiction_id}"


class Place(models.Model):
    """Anything with an address people visit; venues carry a unique venue code (场所码)."""

    kind = models.CharField(_("类型"), max_length=32, choices=PlaceKind.choices)
    name = models.CharField(_("名称"), max_length=200)
    venue_code = models.CharField(_("场所码"), max_length=32, unique=True, null=True, blank=True)
    # What kind of venue (VenueKind): the rule set classifies co-presence by it.
    venue_kind = models.CharField(
        _("场所类别"), max_length=32, choices=VenueKind.choices, blank=True, default=""
    )
    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("所属辖区"), on_delete=models.PROTECT, related_name="places"
    )
    jurisdiction_path = models.CharField(max_length=32, db_index=True)
    address = models.CharField(_("地址"), max_length=300, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lon = models.FloatField(_("经度"), null=True, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("场所")
        verbose_name_plural = _("场所")
        indexes = [models.Index(fields=["kind", "jurisdiction_path"])]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(lat__isnull=True) | models.Q(lat__gte=-90, lat__lte=90))
                & (models.Q(lon__isnull=True) | models.Q(lon__gte=-180, lon__lte=180)),
                name="place_coordinates_valid",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Zone(models.Model):
    """A sealed / controlled / precaution zone: a state machine driven by the rule set.

    `no_case_days` counts consecutive days with no new case, up to `counted_through`;
    a new case resets it. Transitions are recorded in ZoneTransition.
    """

    name = models.CharField(_("名称"), max_length=200)
    level = models.CharField(_("等级"), max_length=16, choices=ZoneLevel.choices)
    state = models.CharField(
        _("状态"), max_length=16, choices=ZoneState.choices, default=ZoneState.ACTIVE
    )
    # The jurisdiction that owns the zone (scope for who may see and manage it).
    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("所属辖区"), on_delete=models.PROTECT, related_name="zones"
    )
    jurisdiction_path = models.CharField(max_length=32, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级风险区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    ruleset = models.ForeignKey(
        "protocol.RuleSet", verbose_name=_("规则集"), on_delete=models.PROTECT, related_name="+"
    )
    started_on = models.DateField(_("划定日期"))
    last_case_on = models.DateField(_("最近病例日期"), null=True, blank=True)
    no_case_days = models.PositiveSmallIntegerField(_("连续无新增天数"), default=0)
    counted_through = models.DateField(_("计数截至"), null=True, blank=True)
    last_negative_screening_on = models.DateField(_("最近全阴筛查日期"), null=True, blank=True)
    # A controlled zone that stepped down from sealed may need fewer days (v9: 3).
    downgraded_from_sealed = models.BooleanField(_("由封控区降级"), default=False)
    lifted_on = models.DateField(_("解除日期"), null=True, blank=True)
    # The downgrade the system proposes (both conditions of the rule set hold), waiting
    # for command: the day it is for (the all-negative screening's) and when it was made.
    downgrade_proposed_on = models.DateField(_("建议降级日期"), null=True, blank=True)
    downgrade_proposed_at = models.DateTimeField(_("提出降级建议时间"), null=True, blank=True)
    # The day of the last proposal command declined: not proposed again for that day.
    downgrade_declined_for = models.DateField(_("不予降级的建议日期"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("风险区")
        verbose_name_plural = _("风险区")
        indexes = [models.Index(fields=["state", "level"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(downgrade_proposed_on__isnull=True)
                | models.Q(state="active", downgrade_proposed_at__isnull=False),
                name="zone_proposal_active",
            ),
            models.CheckConstraint(
                condition=models.Q(state="active", lifted_on__isnull=True)
                | models.Q(state="lifted", lifted_on__isnull=False),
                name="zone_lifted_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ZoneMember(models.Model):
    """A jurisdiction or a place that a zone covers (exactly one of the two)."""

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="members")
    jurisdiction = models.ForeignKey(
        Jurisdiction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    place = models.ForeignKey(
        Place, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("风险区所含辖区")
        verbose_name_plural = _("风险区所含辖区")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(jurisdiction__isnull=False) & models.Q(place__isnull=True))
                | (models.Q(jurisdiction__isnull=True) & models.Q(place__isnull=False)),
                name="zone_member_exactly_one",
            ),
            models.UniqueConstraint(
                fields=["zone", "jurisdiction"],
                condition=models.Q(jurisdiction__isnull=False),
                name="zone_member_unique_jurisdiction",
            ),
            models.UniqueConstraint(
                fields=["zone", "place"],
                condition=models.Q(place__isnull=False),
                name="zone_member_unique_place",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.zone_id}: {self.jurisdiction_id or self.place_id}"


class ZoneTransition(models.Model):
    """Append-only history of a zone: every change of level, state or counter, with why."""

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="transitions")
    action = models.CharField(_("动作"), max_length=32, choices=ZoneAction.choices)
    from_level = models.CharField(max_length=16, blank=True)
    to_level = models.CharField(max_length=16, blank=True)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    no_case_days = models.PositiveSmallIntegerField(default=0)
    on_date = models.DateField(_("业务日期"))
    reason = models.TextField(_("原因"), blank=True)
    # The rule set in force when the transition was decided (days needed come from it).
    ruleset = models.ForeignKey(
        "protocol.RuleSet",
        verbose_name=_("规则集"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Action-specific facts, e.g. {"all_negative": true} for a screening.
    detail = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("风险区变更记录")
        verbose_name_plural = _("风险区变更记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.zone_id} {self.action} {self.on_date}"
