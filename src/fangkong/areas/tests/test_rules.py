"""The zone state machine's pure rules, without a database."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from fangkong.areas import rules

D = dt.date(2022, 9, 1)


def d(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


V9 = SimpleNamespace(
    sealed_downgrade_days=7,
    controlled_downgrade_days=7,
    controlled_after_sealed_days=3,
    precaution_lift_days=0,
    downgrade_requires_screening=True,
)
V8 = SimpleNamespace(
    sealed_downgrade_days=14,
    controlled_downgrade_days=14,
    controlled_after_sealed_days=0,
    precaution_lift_days=0,
    downgrade_requires_screening=False,
)


def test_levels_step_down_one_at_a_time_then_lift():
    assert rules.next_lower_level("sealed") == "controlled"
    assert rules.next_lower_level("controlled") == "precaution"
    assert rules.next_lower_level("precaution") is None


def test_unknown_level_is_refused():
    with pytest.raises(ValueError):
        rules.next_lower_level("red")


def test_severity_order():
    assert rules.is_more_severe("sealed", "controlled")
    assert rules.is_more_severe("controlled", "precaution")
    assert not rules.is_more_severe("precaution", "sealed")
    assert rules.most_severe(["precaution", "sealed", "controlled"]) == "sealed"
    assert rules.most_severe([]) is None


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


def test_required_days_come_from_the_rule_set():
    assert rules.required_days("sealed", V9) == 7
    assert rules.required_days("controlled", V9) == 7
    assert rules.required_days("controlled", V9, downgraded_from_sealed=True) == 3
    assert rules.required_days("precaution", V9) == 0
    assert rules.required_days("controlled", V8, downgraded_from_sealed=True) == 14


def test_screening_required_by_v9_except_the_short_step():
    assert rules.screening_required("sealed", V9)
    assert rules.screening_required("controlled", V9)
    assert not rules.screening_required("controlled", V9, downgraded_from_sealed=True)
    assert not rules.screening_required("sealed", V8)


def check(**kw):
    args = {
        "level": "sealed",
        "no_case_days": 7,
        "required_days": 7,
        "last_negative_screening_on": d(7),
        "on_date": d(7),
    }
    args.update(kw)
    return rules.downgrade_check(**args)


def test_downgrade_allowed_with_days_and_screening_on_the_last_day():
    assert check() == (True, "ok")
    assert check(level="controlled") == (True, "ok")


def test_downgrade_refused_below_the_days():
    assert check(no_case_days=6) == (False, "not_enough_days")


def test_downgrade_refused_without_screening():
    assert check(last_negative_screening_on=None) == (False, "screening_missing")


def test_downgrade_refused_with_screening_on_another_day():
    assert check(last_negative_screening_on=d(6)) == (False, "screening_not_on_date")


def test_downgrade_without_screening_when_the_rule_set_asks_none():
    assert check(last_negative_screening_on=None, requires_screening=False) == (True, "ok")
    assert check(no_case_days=3, requires_screening=False) == (False, "not_enough_days")


def test_precaution_is_lifted_not_downgraded():
    assert check(level="precaution") == (False, "level_lowest")


def test_lift_only_a_precaution_zone():
    for level in ("sealed", "controlled"):
        assert rules.lift_check(
            level=level, no_case_days=30, required_days=0, active_children=0
        ) == (False, "not_precaution")


def test_lift_waits_for_children_and_own_days():
    kw = {"level": "precaution", "required_days": 3}
    assert rules.lift_check(no_case_days=3, active_children=1, **kw) == (
        False,
        "zone_children_active",
    )
    assert rules.lift_check(no_case_days=2, active_children=0, **kw) == (False, "not_enough_days")
    assert rules.lift_check(no_case_days=3, active_children=0, **kw) == (True, "ok")
    assert rules.lift_check(
        level="precaution", no_case_days=0, required_days=0, active_children=0
    ) == (True, "ok")


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
