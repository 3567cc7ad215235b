"""Synthetic but sensible jurisdiction shapes for the drill city.

The city's rough outline is cut into square cells; each cell goes to the nearest town
centre (distance scaled by the town's relative area, so streets stay small and rural
towns large), then each town's cells go to its communities (seeds relaxed by a few
Lloyd steps). A jurisdiction's geometry is the outline of the union of its cells, so
the map shows a city of tiles that fit together without gaps or overlaps.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass

# Rough outline of Tongxiang (lon, lat), counter-clockwise.
CITY_OUTLINE: list[tuple[float, float]] = [
    (120.31, 30.52),
    (120.38, 30.46),
    (120.48, 30.47),
    (120.58, 30.50),
    (120.66, 30.53),
    (120.70, 30.59),
    (120.70, 30.68),
    (120.64, 30.74),
    (120.56, 30.76),
    (120.50, 30.80),
    (120.42, 30.79),
    (120.33, 30.76),
    (120.31, 30.70),
    (120.30, 30.62),
]
LON0, LAT0, LON1, LAT1 = 120.29, 30.45, 120.71, 30.81

Cell = tuple[int, int]


def point_in_polygon(x: float, y: float, poly: list[tuple[float, float]]) -> bool:
    inside = False
    n = len(poly)
    j = n - 1
    for i in range(n):
        xi, yi = poly[i]
        xj, yj = poly[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


@dataclass
class CellGrid:
    size: float  # degrees per cell side
    cells: list[Cell]

    def centre(self, cell: Cell) -> tuple[float, float]:
        """(lat, lon) of a cell's centre."""
        return LAT0 + (cell[1] + 0.5) * self.size, LON0 + (cell[0] + 0.5) * self.size

    def random_point(self, cell: Cell, rnd: random.Random) -> tuple[float, float]:
        return (
            round(LAT0 + (cell[1] + rnd.uniform(0.1, 0.9)) * self.size, 6),
            round(LON0 + (cell[0] + rnd.uniform(0.1, 0.9)) * self.size, 6),
        )


def city_cells(min_cells: int) -> CellGrid:
    """Cells inside the outline; fine enough to give every community a few cells."""
    size = 0.006
    while True:
        cols = math.ceil((LON1 - LON0) / size)
        rows = math.ceil((LAT1 - LAT0) / size)
        cells = [
            (i, j)
            for j in range(rows)
            for i in range(cols)
            if point_in_polygon(LON0 + (i + 0.5) * size, LAT0 + (j + 0.5) * size, CITY_OUTLINE)
        ]
        if len(cells) >= min_cells or size < 0.0008:
            return CellGrid(size=size, cells=cells)
        size *= 0.8


def assign_nearest(
    cells: list[Cell],
    grid: CellGrid,
    centres: list[tuple[float, float]],
    scale: list[float],
) -> list[list[Cell]]:
    """Cells per centre: nearest by distance / scale (a weighted Voronoi partition)."""
    out: list[list[Cell]] = [[] for _ in centres]
    cos_lat = math.cos(math.radians(30.6))
    for cell in cells:
        lat, lon = grid.centre(cell)
        best, best_d = 0, math.inf
        for k, (clat, clon) in enumerate(centres):
            d = math.hypot((lat - clat), (lon - clon) * cos_lat) / scale[k]
            if d < best_d:
                best, best_d = k, d
        out[best].append(cell)
    return out


def partition(cells: list[Cell], grid: CellGrid, k: int, rnd: random.Random) -> list[list[Cell]]:
    """Split a town's cells into k contiguous-looking parts (seeds + 3 Lloyd steps)."""
    if k <= 1 or len(cells) <= 1:
        return [list(cells)] + [[] for _ in range(max(0, k - 1))]
    k = min(k, len(cells))
    seeds = [grid.centre(c) for c in rnd.sample(cells, k)]
    parts: list[list[Cell]] = []
    for _ in range(3):
        parts = assign_nearest(cells, grid, seeds, [1.0] * k)
        seeds = [
            (
                sum(grid.centre(c)[0] for c in part) / len(part),
                sum(grid.centre(c)[1] for c in part) / len(part),
            )
            if part
            else seeds[n]
            for n, part in enumerate(parts)
        ]
    parts = assign_nearest(cells, grid, seeds, [1.0] * k)
    # An empty part takes one cell from the largest part so every community has a shape.
    for n, part in enumerate(parts):
        if not part:
            donor = max(range(len(parts)), key=lambda m: len(parts[m]))
            if len(parts[donor]) > 1:
                part.append(parts[donor].pop())
                parts[n] = part
    return parts


def _rings(cells: list[Cell]) -> list[list[Cell]]:
    """Boundary rings (in cell-corner coordinates) of a union of unit squares."""
    edges: dict[tuple[Cell, Cell], None] = {}
    for i, j in cells:
        corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)]
        for k in range(4):
            e = (corners[k], corners[(k + 1) % 4])
            rev = (e[1], e[0])
            if rev in edges:
                del edges[rev]
            else:
                edges[e] = None
    outgoing: dict[Cell, list[Cell]] = defaultdict(list)
    for a, b in edges:
        outgoing[a].append(b)
    rings: list[list[Cell]] = []
    for start_edge in list(edges):
        a, b = start_edge
        if b not in outgoing[a]:
            continue
        ring = [a]
        outgoing[a].remove(b)
        prev, cur = a, b
        while cur != a:
            ring.append(cur)
            options = outgoing[cur]
            if len(options) == 1:
                nxt = options[0]
            else:  # a pinch vertex: turn left to keep rings simple
                dx, dy = cur[0] - prev[0], cur[1] - prev[1]
                left = (cur[0] - dy, cur[1] + dx)
                nxt = left if left in options else options[0]
            options.remove(nxt)
            prev, cur = cur, nxt
        rings.append(_drop_collinear(ring))
    return rings


def _drop_collinear(ring: list[Cell]) -> list[Cell]:
    out: list[Cell] = []
    n = len(ring)
    for k in range(n):
        p, c, q = ring[k - 1], ring[k], ring[(k + 1) % n]
        if (c[0] - p[0]) * (q[1] - c[1]) - (c[1] - p[1]) * (q[0] - c[0]) != 0:
            out.append(c)
    return out


def _signed_area(ring: list[tuple[float, float]]) -> float:
    return sum(
        ring[k][0] * ring[(k + 1) % len(ring)][1] - ring[(k + 1) % len(ring)][0] * ring[k][1]
        for k in range(len(ring))
    )


def outline_geojson(cells: list[Cell], grid: CellGrid) -> dict:
    """GeoJSON Polygon/MultiPolygon (lon, lat) of the union of `cells`."""

    def to_lonlat(ring: list[Cell]) -> list[tuple[float, float]]:
        return [(round(LON0 + x * grid.size, 6), round(LAT0 + y * grid.size, 6)) for x, y in ring]

    outers: list[list[tuple[float, float]]] = []
    holes: list[list[tuple[float, float]]] = []
    for ring in _rings(sorted(cells)):
        coords = to_lonlat(ring)
        if len(coords) < 3:
            continue
        (outers if _signed_area(coords) > 0 else holes).append(coords)
    polygons: list[list[list[list[float]]]] = []
    for outer in outers:
        rings = [outer] + [
            h
            for h in holes
            if point_in_polygon(
                (h[0][0] + h[1][0]) / 2 + 1e-9, (h[0][1] + h[1][1]) / 2 + 1e-9, outer
            )
        ]
        polygons.append([[list(p) for p in [*r, r[0]]] for r in rings])
    if len(polygons) == 1:
        return {"type": "Polygon", "coordinates": polygons[0]}
    return {"type": "MultiPolygon", "coordinates": polygons}


def cells_centroid(cells: list[Cell], grid: CellGrid) -> tuple[float, float]:
    lat = sum(grid.centre(c)[0] for c in cells) / len(cells)
    lon = sum(grid.centre(c)[1] for c in cells) / len(cells)
    return round(lat, 6), round(lon, 6)
