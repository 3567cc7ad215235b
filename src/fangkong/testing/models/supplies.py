"""Supplies for testing (兵马粮草): stock per sampling point and warehouse.

Stock on hand is the last count plus what was received or issued since (movements),
minus what registrations consumed since (derived from tubes and samples, never written
per sample).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SupplyKind(models.TextChoices):
    SWAB = "swab", _("采样拭子")
    TUBE_1 = "tube_1", _("单采管")
    TUBE_10 = "tube_10", _("十混一采样管")
    TUBE_20 = "tube_20", _("二十混一采样管")
    PROTECTIVE_SUIT = "protective_suit", _("防护服")
    N95_MASK = "n95_mask", _("N95口罩")
    GLOVES = "gloves", _("手套(副)")
    FACE_SHIELD = "face_shield", _("面屏")


class SupplyStock(models.Model):
    """One kind of supply at one place (a sampling point or a warehouse)."""

    place = models.ForeignKey("areas.Place", on_delete=models.PROTECT, related_name="+")
    jurisdiction_path = models.CharField(max_length=32, db_index=True)
    kind = models.CharField(_("物资"), max_length=32, choices=SupplyKind.choices)
    counted_quantity = models.IntegerField(_("盘点数量"), default=0)
    counted_at = models.DateTimeField(_("盘点时间"))
    low_threshold = models.PositiveIntegerField(_("低库存预警线"), default=0)

    class Meta:
        verbose_name = _("物资库存")
        verbose_name_plural = _("物资库存")
        constraints = [
            models.UniqueConstraint(fields=["place", "kind"], name="supply_stock_unique")
        ]

    def __str__(self) -> str:
        return f"{self.place_id}: {self.kind}"


class MovementKind(models.TextChoices):
    RECEIVE = "receive", _("入库")
    ISSUE = "issue", _("出库")
    TRANSFER_IN = "transfer_in", _("调入")
    TRANSFER_OUT = "transfer_out", _("调出")


class SupplyMovement(models.Model):
    """Stock received, issued or transferred since the last count (signed quantity)."""

    stock = models.ForeignKey(SupplyStock, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(
        _("类型"), max_length=16, choices=MovementKind.choices, default=MovementKind.RECEIVE
    )
    delta = models.IntegerField(_("数量变化"))
    reason = models.CharField(_("事由"), max_length=200)
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("物资出入库")
        verbose_name_plural = _("物资出入库")
        indexes = [models.Index(fields=["stock", "at"])]

    def __str__(self) -> str:
        return f"{self.stock_id}: {self.delta:+d}"
