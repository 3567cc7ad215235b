"""Inspections of a site against the standard (对照标准), findings and rectifications."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.quarantine.choices import RectificationStatus


class ChecklistItem(models.Model):
    """One line of the quarantine-site standard; editable (an item retired stays in old
    inspections)."""

    code = models.CharField(_("编号"), max_length=16, unique=True)
    category = models.CharField(_("类别"), max_length=50)
    text = models.CharField(_("标准要求"), max_length=300)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("隔离点标准条目")
        verbose_name_plural = _("隔离点标准条目")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.text}"


class Inspection(models.Model):
    site = models.ForeignKey(
        "quarantine.Site",
        verbose_name=_("隔离点"),
        on_delete=models.CASCADE,
        related_name="inspections",
    )
    inspected_on = models.DateField(_("检查日期"))
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    summary = models.TextField(_("检查小结"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("隔离点检查")
        verbose_name_plural = _("隔离点检查")
        ordering = ["-inspected_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.site_id} {self.inspected_on}"


class Finding(models.Model):
    """The inspection's answer to one checklist item: met, or a problem found."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="findings")
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="+")
    passed = models.BooleanField(_("符合"))
    note = models.CharField(_("问题描述"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("检查发现")
        verbose_name_plural = _("检查发现")
        constraints = [
            models.UniqueConstraint(fields=["inspection", "item"], name="finding_one_per_item")
        ]

    def __str__(self) -> str:
        return f"{self.item_id} {self.passed}"


class Rectification(models.Model):
    """A problem found becomes a rectification (整改) with an owner and a deadline; an
    overdue one escalates (`fangkong periodic`)."""

    finding = models.OneToOneField(Finding, on_delete=models.CASCADE, related_name="rectification")
    site = models.ForeignKey(
        "quarantine.Site", on_delete=models.CASCADE, related_name="rectifications"
    )
    owner_name = models.CharField(_("责任人"), max_length=50)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deadline_at = models.DateTimeField(_("整改时限"))
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=RectificationStatus.choices,
        default=RectificationStatus.OPEN,
    )
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    done_note = models.CharField(_("整改情况"), max_length=300, blank=True)
    escalated_at = models.DateTimeField(_("超时上报时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("整改")
        verbose_name_plural = _("整改")
        indexes = [models.Index(fields=["status", "deadline_at"], name="rectification_due")]

    def __str__(self) -> str:
        return f"{self.owner_name} {self.deadline_at:%Y-%m-%d}"
