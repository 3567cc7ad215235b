"""Areas' pure rules (the zone counter, geometry), without a database.

The zone level rules are the protocol's: protocol/tests/test_zone_rules.py."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.areas import rules

D = dt.date(2022, 9, 1)


def d(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


def test_counter_counts_a_no_case_day():
    assert rules.counter_after_day(0, None, d(1), had_case=False) == (1, d(1))
    assert rules.counter_after_day(1, d(1), d(2), had_case=False) == (2, d(2))


def test_counter_is_idempotent_per_day():
    assert rules.counter_after_day(2, d(2), d(2), had_case=False) == (2, d(2))
    assert rules.counter_after_day(2, d(2), d(1), had_case=False) == (2, d(2))


def test_counter_case_day_does_not_count():
    assert rules.counter_after_day(5, d(5), d(6), had_case=True) == (0, d(6))


def test_counter_fills_days_never_closed():
    # Days 3 and 4 were never closed and had no recorded case: they count.
    assert rules.counter_after_day(2, d(2), d(5), had_case=False) == (5, d(5))


def test_case_today_resets_and_closes_the_day():
    assert rules.counter_after_case(6, d(6), d(7)) == (0, d(7))
    assert rules.counter_after_case(0, None, d(0)) == (0, d(0))


def test_case_reported_late_keeps_only_the_days_after_it():
    # Counted through day 6 (6 days); a case on day 4 leaves days 5 and 6.
    assert rules.counter_after_case(6, d(6), d(4)) == (2, d(6))


SQUARE = {
    "type": "Polygon",
    "coordinates": [[[120, 30], [121, 30], [121, 31], [120, 31], [120, 30]]],
}


def test_polygon_centroid():
    lat, lon = rules.centroid(rules.parse_polygons(SQUARE))
    assert lat == pytest.approx(30.5)
    assert lon == pytest.approx(120.5)


def test_polygon_with_hole_and_multipolygon():
    hole = [[120.0, 30.0], [120.5, 30.0], [120.5, 30.5], [120.0, 30.5], [120.0, 30.0]]
    with_hole = {"type": "Polygon", "coordinates": [SQUARE["coordinates"][0], hole]}
    lat, lon = rules.centroid(rules.parse_polygons(with_hole))
    assert lat > 30.5 and lon > 120.5  # the hole pulls the centroid away from it
    multi = {
        "type": "MultiPolygon",
        "coordinates": [
            SQUARE["coordinates"],
            [[[122, 30], [123, 30], [123, 31], [122, 31], [122, 30]]],
        ],
    }
    lat, lon = rules.centroid(rules.parse_polygons(multi))
    assert (lat, lon) == (pytest.approx(30.5), pytest.approx(121.5))


@pytest.mark.parametrize(
    "geojson",
    [
        None,
        [],
        {"type": "Point", "coordinates": [120, 30]},
        {"type": "Polygon", "coordinates": []},
        {"type": "Polygon", "coordinates": [[[120, 30], [121, 30], [120, 30]]]},
        {"type": "Polygon", "coordinates": [[[120, 30], [121, 30], [121, 31], [120, 31]]]},
        {"type": "Polygon", "coordinates": [[[120, 30], [121, 30], [121, 91], [120, 30]]]},
        {"type": "Polygon", "coordinates": [[[120, 30], ["a", 30], [121, 31], [120, 30]]]},
        {"type": "Polygon", "coordinates": [[[120, 30], [True, 30], [121, 31], [120, 30]]]},
        {"type": "MultiPolygon", "coordinates": []},
    ],
)
def test_invalid_geometry_is_refused(geojson):
    with pytest.raises(rules.GeometryError):
        rules.parse_polygons(geojson)


def test_coordinates():
    assert rules.coordinates_valid(None, None)
    assert rules.coordinates_valid(30.6, 120.5)
    assert not rules.coordinates_valid(30.6, None)
    assert not rules.coordinates_valid(91, 120)
    assert not rules.coordinates_valid(30, 181)
    assert not rules.coordinates_valid(float("nan"), 120)
