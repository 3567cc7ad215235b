"""Pure rules of the zone state machine (封控区 / 管控区 / 防范区): no ORM, values in, values out.

Levels are ordered sealed > controlled > precaution. A zone steps down one level at a time
(sealed → controlled → precaution) and only a precaution zone is lifted. The counter
`no_case_days` is the number of consecutive days with no new case, closed up to and
including `counted_through`; a new case resets it.

Downgrade (national protocol, e.g. version 9): a sealed zone with N consecutive days
without a new infection AND an all-negative screening of everyone in it on the last of
those days becomes a controlled zone; likewise controlled → precaution. The days come from
the rule set in force, never from constants here.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

SEALED = "sealed"
CONTROLLED = "controlled"
PRECAUTION = "precaution"

ACTIVE = "active"
LIFTED = "lifted"

# Most severe first.
LEVELS: tuple[str, ...] = (SEALED, CONTROLLED, PRECAUTION)
SEVERITY: dict[str, int] = {SEALED: 3, CONTROLLED: 2, PRECAUTION: 1}

# Reason codes returned by the checks (stable: services put them in error details).
OK = "ok"
REASON_LEVEL_LOWEST = "level_lowest"
REASON_NOT_PRECAUTION = "not_precaution"
REASON_NOT_ENOUGH_DAYS = "not_enough_days"
REASON_SCREENING_MISSING = "screening_missing"
REASON_SCREENING_NOT_ON_DATE = "screening_not_on_date"
REASON_CHILDREN_ACTIVE = "zone_children_active"


class ZoneDays(Protocol):
    """What the rules need from a rule set (protocol.models.RuleSet satisfies it)."""

    sealed_downgrade_days: int
    controlled_downgrade_days: int
    controlled_after_sealed_days: int
    precaution_lift_days: int
    downgrade_requires_screening: bool


def check_level(level: str) -> str:
    if level not in SEVERITY:
        raise ValueError(f"unknown zone level: {level!r}")
    return level


def is_more_severe(a: str, b: str) -> bool:
    """True when level `a` is strictly more severe than level `b`."""
    return SEVERITY[check_level(a)] > SEVERITY[check_level(b)]


def most_severe(levels: Iterable[str]) -> str | None:
    """The most severe of `levels`, or None when there are none."""
    best: str | None = None
    for level in levels:
        if best is None or is_more_severe(level, best):
            best = level
    return best


def next_lower_level(level: str) -> str | None:
    """sealed → controlled → precaution → None (None means: the next step is a lift)."""
    index = LEVELS.index(check_level(level))
    return LEVELS[index + 1] if index + 1 < len(LEVELS) else None


def short_step(level: str, ruleset: ZoneDays, *, downgraded_from_sealed: bool) -> bool:
    """A controlled zone that came down from sealed, under a rule set with a shorter count
    for it (v9: "此后连续3天无新增感染者降为低风险区", no screening named)."""
    return (
        level == CONTROLLED
        and downgraded_from_sealed
        and int(ruleset.controlled_after_sealed_days) > 0
    )


def required_days(level: str, ruleset: ZoneDays, *, downgraded_from_sealed: bool = False) -> int:
    """Consecutive no-case days a zone at `level` needs before it may step down (or lift)."""
    check_level(level)
    if level == SEALED:
        return int(ruleset.sealed_downgrade_days)
    if level == CONTROLLED:
        if short_step(level, ruleset, downgraded_from_sealed=downgraded_from_sealed):
            return int(ruleset.controlled_after_sealed_days)
        return int(ruleset.controlled_downgrade_days)
    return int(ruleset.precaution_lift_days)


def screening_required(
    level: str, ruleset: ZoneDays, *, downgraded_from_sealed: bool = False
) -> bool:
    """Does a downgrade from `level` need the all-negative screening on its last day?"""
    return bool(ruleset.downgrade_requires_screening) and not short_step(
        level, ruleset, downgraded_from_sealed=downgraded_from_sealed
    )


def counter_after_day(
    no_case_days: int, counted_through: dt.date | None, day: dt.date, had_case: bool
) -> tuple[int, dt.date]:
    """The counter after closing `day`.

    Idempotent: a day already counted (day <= counted_through) changes nothing. A day with
    a case sets the counter to 0. Days between counted_through and `day` that were never
    closed had no recorded case (recording a case moves counted_through to its day), so
    they count as no-case days along with `day` itself.
    """
    if counted_through is not None and day <= counted_through:
        return no_case_days, counted_through
    if had_case:
        return 0, day
    step = 1 if counted_through is None else (day - counted_through).days
    return no_case_days + step, day


def counter_after_case(
    no_case_days: int, counted_through: dt.date | None, case_day: dt.date
) -> tuple[int, dt.date]:
    """The counter after a case on `case_day`.

    The usual case is today's: the counter restarts at 0 and `case_day` is closed (it can
    never count). A case reported late, for a day already counted, leaves only the days
    after it: the counter becomes the number of closed days after `case_day`.
    """
    if counted_through is None or case_day >= counted_through:
        return 0, case_day
    return min(no_case_days, (counted_through - case_day).days), counted_through


def downgrade_check(
    *,
    level: str,
    no_case_days: int,
    required_days: int,
    last_negative_screening_on: dt.date | None,
    on_date: dt.date,
    requires_screening: bool = True,
) -> tuple[bool, str]:
    """May a zone step down one level on `on_date`?

    Only when the counter has reached the rule set's days for the current level AND an
    all-negative full screening was recorded on `on_date` itself (the last day) — unless
    the rule set asks for no screening for this step (`requires_screening`, see
    screening_required). A precaution zone is never downgraded: it is lifted.
    """
    if check_level(level) == PRECAUTION:
        return False, REASON_LEVEL_LOWEST
    if no_case_days < required_days:
        return False, REASON_NOT_ENOUGH_DAYS
    if not requires_screening:
        return True, OK
    if last_negative_screening_on is None:
        return False, REASON_SCREENING_MISSING
    if last_negative_screening_on != on_date:
        return False, REASON_SCREENING_NOT_ON_DATE
    return True, OK


def lift_check(
    *,
    level: str,
    no_case_days: int,
    required_days: int,
    active_children: int,
) -> tuple[bool, str]:
    """May a zone be lifted? Only a precaution zone, once its own counter has reached the
    rule set's `precaution_lift_days` (which may be 0) and every child zone is lifted."""
    if check_level(level) != PRECAUTION:
        return False, REASON_NOT_PRECAUTION
    if no_case_days < required_days:
        return False, REASON_NOT_ENOUGH_DAYS
    if active_children > 0:
        return False, REASON_CHILDREN_ACTIVE
    return True, OK


# --- Geometry (GeoJSON, WGS84) --------------------------------------------------------

MAX_GEOMETRY_POSITIONS = 100_000


class GeometryError(ValueError):
    """The GeoJSON is not a valid Polygon/MultiPolygon; the message says why."""


def _position(value: Any) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) < 2:
        raise GeometryError("a position is [longitude, latitude]")
    lon, lat = value[0], value[1]
    for v in (lon, lat):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise GeometryError("coordinates must be finite numbers")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise GeometryError("coordinates out of range")
    return float(lon), float(lat)


def _ring(value: Any) -> list[tuple[float, float]]:
    if not isinstance(value, list) or len(value) < 4:
        raise GeometryError("a linear ring has at least 4 positions")
    ring = [_position(p) for p in value]
    if ring[0] != ring[-1]:
        raise GeometryError("a linear ring is closed (first position = last)")
    return ring


def _polygon(value: Any) -> list[list[tuple[float, float]]]:
    if not isinstance(value, list) or not value:
        raise GeometryError("a polygon is a non-empty list of rings")
    return [_ring(r) for r in value]


def parse_polygons(geojson: Any) -> list[list[list[tuple[float, float]]]]:
    """Validate a GeoJSON Polygon or MultiPolygon; return its polygons (lists of rings)."""
    if not isinstance(geojson, dict):
        raise GeometryError("geometry must be a GeoJSON object")
    kind = geojson.get("type")
    coords = geojson.get("coordinates")
    if kind == "Polygon":
        polygons = [_polygon(coords)]
    elif kind == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            raise GeometryError("a MultiPolygon is a non-empty list of polygons")
        polygons = [_polygon(p) for p in coords]
    else:
        raise GeometryError("geometry type must be Polygon or MultiPolygon")
    positions = sum(len(r) for p in polygons for r in p)
    if positions > MAX_GEOMETRY_POSITIONS:
        raise GeometryError(f"at most {MAX_GEOMETRY_POSITIONS} positions")
    return polygons


def _ring_area_centroid(ring: Sequence[tuple[float, float]]) -> tuple[float, float, float]:
    """Signed area and area-weighted centroid sums (shoelace) of one ring."""
    area2 = cx = cy = 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise(ring):
        cross = x0 * y1 - x1 * y0
        area2 += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    return area2 / 2.0, cx, cy


def centroid(polygons: Sequence[Sequence[Sequence[tuple[float, float]]]]) -> tuple[float, float]:
    """Area-weighted centroid (lat, lon) of polygons with holes; the mean of the vertices
    when the area is zero (degenerate shapes)."""
    total = sx = sy = 0.0
    for polygon in polygons:
        for index, ring in enumerate(polygon):
            area, cx, cy = _ring_area_centroid(ring)
            # Outer ring adds, holes subtract, whatever their winding order.
            sign = 1.0 if index == 0 else -1.0
            if area < 0:
                area, cx, cy = -area, -cx, -cy
            total += sign * area
            sx += sign * cx
            sy += sign * cy
    if abs(total) > 1e-15:
        return sy / (6.0 * total), sx / (6.0 * total)
    points = [p for polygon in polygons for ring in polygon for p in ring]
    lon = sum(p[0] for p in points) / len(points)
    lat = sum(p[1] for p in points) / len(points)
    return lat, lon


def coordinates_valid(lat: float | None, lon: float | None) -> bool:
    """Both absent, or both finite and in range."""
    if lat is None and lon is None:
        return True
    if lat is None or lon is None:
        return False
    for v in (lat, lon):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            return False
    return -90 <= lat <= 90 and -180 <= lon <= 180
