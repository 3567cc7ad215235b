"""Sampling points (采样点), tubes (试管) and samples: what samplers register on phones."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class QueueStatus(models.TextChoices):
    CLOSED = "closed", _("未开放")
    IDLE = "idle", _("无需排队")
    NORMAL = "normal", _("排队较少")
    BUSY = "busy", _("排队较多")
    CROWDED = "crowded", _("排队拥挤")


class SamplingPoint(models.Model):
    """Operating details of a sampling point; its location is the `areas.Place`
    (kind sampling_point) it extends. Queue status is updated by the point's staff and
    shown to the public."""

    place = models.OneToOneField(
        "areas.Place", verbose_name=_("场所"), on_delete=models.PROTECT, related_name="sampling"
    )
    jurisdiction_path = models.CharField(max_length=32, db_index=True)
    tables = models.PositiveSmallIntegerField(_("采样台数"), default=1)
    samplers = models.PositiveSmallIntegerField(_("采样员人数"), default=2)
    opens_at = models.TimeField(_("开放时间"), null=True, blank=True)
    closes_at = models.TimeField(_("关闭时间"), null=True, blank=True)
    queue_status = models.CharField(
        _("排队状态"), max_length=16, choices=QueueStatus.choices, default=QueueStatus.CLOSED
    )
    queue_length = models.PositiveIntegerField(_("排队人数"), default=0)
    queue_updated_at = models.DateTimeField(_("排队状态更新时间"), null=True, blank=True)
    queue_updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("采样点")
        verbose_name_plural = _("采样点")

    def __str__(self) -> str:
        return str(self.place_id)


class TubeState(models.TextChoices):
    OPEN = "open", _("采样中")
    CLOSED = "closed", _("已封管")
    PACKED = "packed", _("已装箱")
    RECEIVED = "received", _("已接收")
    RESULTED = "resulted", _("已出结果")


class Tube(models.Model):
    """A tube (试管) with a globally unique barcode, in one round at one point, holding
    up to `pool_size` samples (1 = single tube)."""

    barcode = models.CharField(_("试管条码"), max_length=64, unique=True)
    # No index of its own: tube_round_scope and tube_round_state lead with the round.
    round = models.ForeignKey(
        "testing.Round",
        verbose_name=_("轮次"),
        on_delete=models.PROTECT,
        related_name="tubes",
        db_index=False,
    )
    point = models.ForeignKey(
        SamplingPoint, verbose_name=_("采样点"), on_delete=models.PROTECT, related_name="tubes"
    )
    # The point's path: tubes are scoped by where they were sampled.
    jurisdiction_path = models.CharField(max_length=32)
    pool_size = models.PositiveSmallIntegerField(_("混采数"))
    state = models.CharField(
        _("状态"), max_length=16, choices=TubeState.choices, default=TubeState.OPEN
    )
    sampler = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(_("开管时间"))
    closed_at = models.DateTimeField(_("封管时间"), null=True, blank=True)
    box = models.ForeignKey(
        "testing.TransportBox",
        verbose_name=_("转运箱"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tubes",
    )

    class Meta:
        verbose_name = _("试管")
        verbose_name_plural = _("试管")
        indexes = [
            models.Index(fields=["round", "jurisdiction_path"], name="tube_round_scope"),
            models.Index(fields=["round", "state"], name="tube_round_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pool_size__gte=1, pool_size__lte=50),
                name="tube_pool_size_valid",
            )
        ]

    def __str__(self) -> str:
        return self.barcode


class Sample(models.Model):
    """One person's swab in one tube. `client_uuid` is generated on the phone, so a
    retried sync adds nothing; a person sampled twice in a round (a retest) has two
    samples but counts once for coverage."""

    client_uuid = models.UUIDField(unique=True)
    # Samples are the hottest write (a sync stores a hundred at a time) and each index
    # costs every row: round and tube have no index of their own, since
    # sample_round_person and sample_tube_person_unique lead with them.
    round = models.ForeignKey(
        "testing.Round", on_delete=models.PROTECT, related_name="samples", db_index=False
    )
    tube = models.ForeignKey(Tube, on_delete=models.PROTECT, related_name="samples", db_index=False)
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    # The person's path (scoping and coverage by community).
    jurisdiction_path = models.CharField(max_length=32)
    # Not in the round's target population: a walk-in (愿检尽检).
    walk_in = models.BooleanField(default=False)
    sampled_at = models.DateTimeField(_("采样时间"))
    synced_at = models.DateTimeField(_("上传时间"))
    sampler = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("采样记录")
        verbose_name_plural = _("采样记录")
        constraints = [
            models.UniqueConstraint(fields=["tube", "person"], name="sample_tube_person_unique"),
        ]
        indexes = [
            models.Index(fields=["round", "person"], name="sample_round_person"),
            models.Index(fields=["round", "jurisdiction_path"], name="sample_round_scope"),
            # Coverage (selectors/coverage.py): distinct persons per path, those whose
            # tube has a result, samples per hour: index-only scans of two lean partial
            # indexes (each sample is in exactly one of them).
            models.Index(
                fields=["round", "jurisdiction_path", "person"],
                include=["tube", "sampled_at"],
                condition=models.Q(walk_in=False),
                name="sample_coverage",
            ),
            models.Index(
                fields=["round", "jurisdiction_path", "person"],
                include=["tube", "sampled_at"],
                condition=models.Q(walk_in=True),
                name="sample_walk_ins",
            ),
        ]

    def __str__(self) -> str:
        return str(self.client_uuid)
