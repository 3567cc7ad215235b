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
            models.Index(fields=["place_id", "scanned_at"], name="scan_place_time_idx"),
            models.Index(fields=["person_id", "scanned_at"], name="scan_person_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}@{self.place_id} {self.scanned_at:%Y-%m-%d %H:%M}"
