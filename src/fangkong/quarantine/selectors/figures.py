"""Aggregate reads of quarantine for command's figures: one grouped pass per table.

As `tracing.selectors.figures`: grouped by the first `width` digits of the path under the
city path `within`, {prefix: {figure: n}}; command's figures job scopes what it shows.

- rooms by the site's path: `rooms` in service (not out of service), `occupied` (someone
  checked in), `reserved` (held for persons not yet arrived: occupied with no active
  placement, as the site board counts it), `free` (ready);
- placements by the person's home path: `placed` open now (planned, in transit, active),
  `released` released.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef, Q

from fangkong.core.paths import level_prefix_expr, under
from fangkong.quarantine.choices import OPEN_STATUSES, PlacementStatus, RoomState
from fangkong.quarantine.models import Placement, Room

FIGURES: tuple[str, ...] = ("rooms", "occupied", "reserved", "free", "placed", "released")


def quarantine_figures_by_prefix(*, within: str, width: int) -> dict[str, dict[str, int]]:
    """{prefix: {rooms, occupied, reserved, free, placed, released}} in two grouped passes."""
    out: dict[str, dict[str, int]] = {}

    def at(prefix: str) -> dict[str, int]:
        return out.setdefault(prefix, dict.fromkeys(FIGURES, 0))

    checked_in = Placement.objects.filter(room=OuterRef("pk"), status=PlacementStatus.ACTIVE)
    for row in (
        Room.objects.filter(under("site__jurisdiction_path", within))
        .annotate(
            prefix=level_prefix_expr("site__jurisdiction_path", width), held=~Exists(checked_in)
        )
        .values("prefix")
        .annotate(
            rooms=Count("id", filter=~Q(state=RoomState.OUT_OF_SERVICE)),
            occupied=Count("id", filter=Q(state=RoomState.OCCUPIED, held=False)),
            reserved=Count("id", filter=Q(state=RoomState.OCCUPIED, held=True)),
            free=Count("id", filter=Q(state=RoomState.READY)),
        )
        .order_by()
    ):
        figures = at(row["prefix"])
        for name in ("rooms", "occupied", "reserved", "free"):
            figures[name] = row[name]
    placements: Any = (
        Placement.objects.filter(under("jurisdiction_path", within))
        .annotate(prefix=level_prefix_expr("jurisdiction_path", width))
        .values("prefix")
        .annotate(
            placed=Count("id", filter=Q(status__in=OPEN_STATUSES)),
            released=Count("id", filter=Q(status=PlacementStatus.RELEASED)),
        )
        .order_by()
    )
    for row in placements:
        figures = at(row["prefix"])
        figures["placed"] = row["placed"]
        figures["released"] = row["released"]
    return out
