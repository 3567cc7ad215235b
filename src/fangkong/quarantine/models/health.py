"""Health checks at the site (twice a day), alerts, and home check-ins."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.quarantine.choices import AlertKind, AlertState, CheckSlot


class HealthCheck(models.Model):
    """Temperature and symptoms of a placed person, one per slot (morning, afternoon)."""

    placement = models.ForeignKey(
        "quarantine.Placement", on_delete=models.CASCADE, related_name="health_checks"
    )
    on_date = models.DateField(_("日期"))
    slot = models.CharField(_("时段"), max_length=4, choices=CheckSlot.choices)
    temperature = models.DecimalField(_("体温"), max_digits=3, decimal_places=1)
    symptoms = models.JSONField(_("症状"), default=list, blank=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    checked_at = models.DateTimeField(_("记录时间"))
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("健康监测")
        verbose_name_plural = _("健康监测")
        constraints = [
            models.UniqueConstraint(
                fields=["placement", "on_date", "slot"], name="health_check_one_per_slot"
            ),
            models.CheckConstraint(
                condition=models.Q(temperature__gte=34, temperature__lte=43),
                name="health_check_temperature_plausible",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.on_date} {self.slot} {self.temperature}"


class HealthAlert(models.Model):
    """A fever, symptoms or a positive test: to the site doctor and to command, with an
    urgent test and a transfer to hospital."""

    placement = models.ForeignKey(
        "quarantine.Placement", on_delete=models.CASCADE, related_name="alerts"
    )
    health_check = models.ForeignKey(
        HealthCheck, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=AlertKind.choices)
    state = models.CharField(
        _("状态"), max_length=16, choices=AlertState.choices, default=AlertState.OPEN
    )
    raised_at = models.DateTimeField(_("发生时间"))
    handled_at = models.DateTimeField(_("处置时间"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(_("处置情况"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("健康预警")
        verbose_name_plural = _("健康预警")
        indexes = [models.Index(fields=["state", "raised_at"], name="alert_state_raised")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class HomeCheckIn(models.Model):
    """A community worker's daily check-in (上门/电话) on a person at home."""

    placement = models.ForeignKey(
        "quarantine.Placement", on_delete=models.CASCADE, related_name="home_checkins"
    )
    on_date = models.DateField(_("日期"))
    temperature = models.DecimalField(
        _("体温"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    symptoms = models.JSONField(_("症状"), default=list, blank=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    checked_at = models.DateTimeField(_("记录时间"))
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("居家监测打卡")
        verbose_name_plural = _("居家监测打卡")
        constraints = [
            models.UniqueConstraint(fields=["placement", "on_date"], name="home_checkin_one_a_day"),
            models.CheckConstraint(
                condition=models.Q(temperature__isnull=True)
                | models.Q(temperature__gte=34, temperature__lte=43),
                name="home_checkin_temperature_plausible",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.on_date} #{self.placement_id}"
