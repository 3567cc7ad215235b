"""Transport boxes (转运箱), labs' results and their corrections, result imports, and
what a positive pool sets off: holds (原地管控) and single-tube rechecks (单管复核)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BoxState(models.TextChoices):
    PACKING = "packing", _("装箱中")
    HANDED_OVER = "handed_over", _("已交接")
    RECEIVED = "received", _("已接收")


class TransportBox(models.Model):
    """A barcoded box of closed tubes, handed over at a point and received by a lab."""

    barcode = models.CharField(_("转运箱条码"), max_length=64, unique=True)
    point = models.ForeignKey(
        "testing.SamplingPoint",
        verbose_name=_("采样点"),
        on_delete=models.PROTECT,
        related_name="boxes",
    )
    jurisdiction_path = models.CharField(max_length=32, db_index=True)
    lab = models.ForeignKey(
        "areas.Place", verbose_name=_("检测机构"), on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        _("状态"), max_length=16, choices=BoxState.choices, default=BoxState.PACKING
    )
    packed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("装箱时间"))
    handed_over_at = models.DateTimeField(_("交接时间"), null=True, blank=True)
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(_("接收时间"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("转运箱")
        verbose_name_plural = _("转运箱")
        indexes = [models.Index(fields=["lab", "state"])]

    def __str__(self) -> str:
        return self.barcode


class ResultValue(models.TextChoices):
    NEGATIVE = "negative", _("阴性")
    POSITIVE = "positive", _("阳性")
    INVALID = "invalid", _("无效需重采")


class ResultImport(models.Model):
    """One results file a lab sent (or one API batch); the file's hash makes re-importing
    it a no-op."""

    lab = models.ForeignKey("areas.Place", on_delete=models.PROTECT, related_name="+")
    file_sha256 = models.CharField(max_length=64)
    filename = models.CharField(max_length=255, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_applied = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    rows_corrected = models.PositiveIntegerField(default=0)
    positives = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("结果导入")
        verbose_name_plural = _("结果导入")
        constraints = [
            models.UniqueConstraint(fields=["lab", "file_sha256"], name="result_import_unique_file")
        ]

    def __str__(self) -> str:
        return f"{self.lab_id}: {self.filename or self.file_sha256[:12]}"


class TubeResult(models.Model):
    """A tube's current result. A changed result is a correction (TubeResultCorrection,
    plus an audit event), never a silent overwrite."""

    tube = models.OneToOneField(
        "testing.Tube", verbose_name=_("试管"), on_delete=models.PROTECT, related_name="result"
    )
    # No single-column indexes on round and lab: the composite indexes below lead with
    # them (fewer indexes to maintain on a 100,000-row import).
    round = models.ForeignKey(
        "testing.Round", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    lab = models.ForeignKey(
        "areas.Place",
        verbose_name=_("检测机构"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    result = models.CharField(_("结果"), max_length=16, choices=ResultValue.choices)
    ct_orf1ab = models.FloatField(_("ORF1ab Ct值"), null=True, blank=True)
    ct_n = models.FloatField(_("N Ct值"), null=True, blank=True)
    tested_at = models.DateTimeField(_("检测时间"))
    stored_at = models.DateTimeField(_("入库时间"))
    source = models.ForeignKey(
        ResultImport, null=True, blank=True, on_delete=models.PROTECT, related_name="results"
    )
    revision = models.PositiveSmallIntegerField(default=1)

    class Meta:
        verbose_name = _("检测结果")
        verbose_name_plural = _("检测结果")
        indexes = [
            models.Index(fields=["round", "result"], name="tube_result_round"),
            models.Index(fields=["lab", "tested_at"], name="tube_result_lab"),
        ]

    def __str__(self) -> str:
        return f"{self.tube_id}: {self.result}"


class TubeResultCorrection(models.Model):
    """An audited change of a stored result (订正)."""

    tube_result = models.ForeignKey(
        TubeResult, on_delete=models.PROTECT, related_name="corrections"
    )
    old_result = models.CharField(max_length=16, choices=ResultValue.choices)
    new_result = models.CharField(max_length=16, choices=ResultValue.choices)
    old_ct_orf1ab = models.FloatField(null=True, blank=True)
    old_ct_n = models.FloatField(null=True, blank=True)
    new_ct_orf1ab = models.FloatField(null=True, blank=True)
    new_ct_n = models.FloatField(null=True, blank=True)
    reason = models.CharField(_("订正原因"), max_length=300, blank=True)
    source = models.ForeignKey(
        ResultImport, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("结果订正")
        verbose_name_plural = _("结果订正")

    def __str__(self) -> str:
        return f"{self.tube_result_id}: {self.old_result} → {self.new_result}"


class HoldState(models.TextChoices):
    HELD = "held", _("原地管控")
    RELEASED = "released", _("已解除")


class Hold(models.Model):
    """A member of a positive pool, held where they are (原地管控) until rechecked."""

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    round = models.ForeignKey("testing.Round", on_delete=models.PROTECT, related_name="+")
    tube = models.ForeignKey("testing.Tube", on_delete=models.PROTECT, related_name="holds")
    jurisdiction_path = models.CharField(max_length=32, db_index=True)
    state = models.CharField(max_length=16, choices=HoldState.choices, default=HoldState.HELD)
    started_at = models.DateTimeField(_("管控时间"))
    released_at = models.DateTimeField(_("解除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("原地管控")
        verbose_name_plural = _("原地管控")
        constraints = [
            models.UniqueConstraint(fields=["tube", "person"], name="hold_tube_person_unique")
        ]

    def __str__(self) -> str:
        return f"{self.person_id} ({self.state})"


class RecheckStatus(models.TextChoices):
    PENDING = "pending", _("待复核")
    SAMPLED = "sampled", _("已复采")
    NEGATIVE = "negative", _("复核阴性")
    POSITIVE = "positive", _("复核阳性")


class Recheck(models.Model):
    """A single-tube recheck task (单管复核) for one held person, pushed to the person's
    community with the rule set's deadline; a positive recheck makes a case in tracing."""

    hold = models.OneToOneField(Hold, on_delete=models.PROTECT, related_name="recheck")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    round = models.ForeignKey("testing.Round", on_delete=models.PROTECT, related_name="+")
    source_tube = models.ForeignKey(
        "testing.Tube", on_delete=models.PROTECT, related_name="rechecks"
    )
    jurisdiction_path = models.CharField(max_length=32)
    status = models.CharField(
        _("状态"), max_length=16, choices=RecheckStatus.choices, default=RecheckStatus.PENDING
    )
    due_at = models.DateTimeField(_("复核时限"))
    recheck_tube = models.ForeignKey(
        "testing.Tube", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sampled_at = models.DateTimeField(_("复采时间"), null=True, blank=True)
    resulted_at = models.DateTimeField(_("复核结果时间"), null=True, blank=True)
    case = models.ForeignKey(
        "tracing.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Set once when the recheck is past its deadline without a result (escalated to command).
    escalated_at = models.DateTimeField(_("上报时间"), null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("单管复核")
        verbose_name_plural = _("单管复核")
        indexes = [
            models.Index(fields=["jurisdiction_path", "status"], name="recheck_scope_status"),
            models.Index(fields=["status", "due_at"], name="recheck_due"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} ({self.status})"
