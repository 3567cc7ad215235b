from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class VenueScan(models.Model):
    """One venue-code scan: the largest table, append-only, partitionable by day.

    `jurisdiction_path` is the venue's (a shard/partition key that keeps the hot paths
    within one city); plain integer columns instead of foreign-key constraints keep bulk
    ingestion set-based. The (place, scanned_at) index serves co-presence queries and
    the (person, scanned_at) index serves itinerary proposals.
    """

    person_id = models.BigIntegerField()
    place_id = models.BigIntegerField()
    scanned_at = models.DateTimeField()
    scan_day = models.DateField()
    jurisdiction_path = models.CharField(max_length=32)

    class Meta:
        verbose_name = _("扫码记录")
        verbose_name_plural = _("扫码记录")
        indexes = [
            # person_id rides along so that co-presence reads the index alone (an
            # index-only scan on PostgreSQL), never the table.
            models.Index(
                fields=["place_id", "scanned_at", "person_id"], name="scan_place_time_idx"
            ),
            models.Index(fields=["person_id", "scanned_at"], name="scan_person_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}@{self.place_id} {self.scanned_at:%Y-%m-%d %H:%M}"


class ScanImportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    PARQUET = "parquet", "Parquet"


class ScanImport(models.Model):
    """One ingested scan-log file (扫码记录导入), recorded so that the same file (by its
    SHA-256) is never ingested twice; rows already present are skipped row by row too."""

    sha256 = models.CharField(max_length=64, unique=True)
    name = models.CharField(_("文件名"), max_length=255)
    fmt = models.CharField(_("格式"), max_length=8, choices=ScanImportFormat.choices)
    rows = models.PositiveIntegerField(_("行数"), default=0)
    added = models.PositiveIntegerField(_("新增"), default=0)
    duplicates = models.PositiveIntegerField(_("已存在"), default=0)
    bad = models.PositiveIntegerField(_("错误行"), default=0)
    bad_rows = models.JSONField(_("错误行明细"), default=list, blank=True)
    strict = models.BooleanField(_("严格模式"), default=False)
    actor = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("导入时间"))

    class Meta:
        verbose_name = _("扫码记录导入")
        verbose_name_plural = _("扫码记录导入")
        indexes = [models.Index(fields=["-at"], name="scanimport_at_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.added}/{self.rows})"
