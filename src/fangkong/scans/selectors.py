"""Reads of venue scans. Scans carry no personal data beyond ids; callers that show them
scope by the person or case they already resolved through a scoped selector."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fangkong.scans.models import VenueScan


@dataclass(frozen=True)
class PersonScan:
    place_id: int
    scanned_at: dt.datetime


def person_scans(*, person_id: int, since: dt.datetime, until: dt.datetime) -> list[PersonScan]:
    """One person's scans in [since, until), oldest first (served by the
    (person_id, scanned_at) index)."""
    rows = (
        VenueScan.objects.filter(person_id=person_id, scanned_at__gte=since, scanned_at__lt=until)
        .order_by("scanned_at", "id")
        .values_list("place_id", "scanned_at")
    )
    return [PersonScan(place_id=place_id, scanned_at=at) for place_id, at in rows]
