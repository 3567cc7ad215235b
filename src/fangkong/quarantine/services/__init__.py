"""Services of quarantine, one module per part: sites (sites and rooms), placements
(placements, rooms taken, transfers, recompute), and the parts other helpers add.

`quarantine_delete_under(prefix)` deletes the app's rows under a jurisdiction path (the
drill rebuilding its city), like `testing_delete_under`."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from fangkong.core.paths import under
from fangkong.quarantine.models import (
    ChecklistItem,  # noqa: F401  (kept: a city-wide table, never deleted under a path)
    Finding,
    HealthAlert,
    HealthCheck,
    HomeCheckIn,
    Inspection,
    Occupancy,
    Placement,
    PlacementTest,
    Rectification,
    Room,
    Site,
    StaffShift,
    StaffTest,
    Transfer,
)


def quarantine_delete_under(prefix: str) -> dict[str, int]:
    """Delete quarantine's rows under the path `prefix`: the placements of persons who
    live there and everything hanging on them, and the sites there with their rooms,
    staff and inspections (with the placements at those sites). Returns {label: rows}."""
    out: dict[str, int] = {}

    def gone(model: type, qs: object) -> None:
        count, _ = qs.delete()  # type: ignore[attr-defined]
        out[model._meta.label] = out.get(model._meta.label, 0) + int(count)  # type: ignore[attr-defined]

    with transaction.atomic():
        sites = Site.objects.filter(under("jurisdiction_path", prefix)).values("pk")
        placements = Placement.objects.filter(
            Q(under("jurisdiction_path", prefix)) | Q(site__in=sites)
        ).values("pk")
        placement_ids = list(placements.values_list("pk", flat=True))
        for model in (HealthAlert, HealthCheck, HomeCheckIn, PlacementTest, Transfer):
            gone(model, model.objects.filter(placement_id__in=placement_ids))  # type: ignore[attr-defined]
        occupancy_ids = list(
            Placement.objects.filter(pk__in=placement_ids)
            .exclude(occupancy=None)
            .values_list("occupancy_id", flat=True)
        )
        Placement.objects.filter(pk__in=placement_ids).update(
            companion_of=None, follows=None, occupancy=None
        )
        gone(Placement, Placement.objects.filter(pk__in=placement_ids))
        gone(
            Occupancy,
            Occupancy.objects.filter(Q(pk__in=occupancy_ids) | Q(room__site__in=sites)),
        )
        gone(Rectification, Rectification.objects.filter(site__in=sites))
        gone(Finding, Finding.objects.filter(inspection__site__in=sites))
        gone(Inspection, Inspection.objects.filter(site__in=sites))
        gone(StaffTest, StaffTest.objects.filter(shift__site__in=sites))
        gone(StaffShift, StaffShift.objects.filter(site__in=sites))
        gone(Room, Room.objects.filter(site__in=sites))
        gone(Site, Site.objects.filter(under("jurisdiction_path", prefix)))
    return out
