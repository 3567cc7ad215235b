"""Pure rules of zones (封控区 / 管控区 / 防范区) and places: no ORM, values in, values out.

The protocol's zone rules (levels and their order, the days and the screening a
downgrade needs, when a zone lifts) are `protocol.rules`'; here is what areas adds: the
counter `no_case_days` (consecutive days with no new case, closed up to and including
`counted_through`; a new case resets it) and the geometry of areas and places.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from typing import Any


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
