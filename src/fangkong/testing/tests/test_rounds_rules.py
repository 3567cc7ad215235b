"""The pool-size advisor (Dorfman) and the planner's arithmetic, against hand values."""

from __future__ import annotations

import math

import pytest

from fangkong.core.errors import DomainError
from fangkong.testing.rules import rounds as rules


@pytest.mark.parametrize(
    ("p", "k", "expected"),
    [
        # 1/k + 1 − (1−p)^k worked by hand
        (0.01, 10, 0.1 + 1 - 0.99**10),  # 0.1956179...
        (0.01, 11, 1 / 11 + 1 - 0.99**11),  # 0.1955708...
        (0.01, 2, 0.5 + 1 - 0.9801),  # 0.5199
        (0.1, 4, 0.25 + 1 - 0.6561),  # 0.5939
        (0.0, 20, 0.05),  # nobody positive: one test per pool
        (1.0, 5, 1.2),  # everybody positive: the pool plus k singles
    ],
)
def test_expected_tests_per_person_is_dorfmans_formula(p: float, k: int, expected: float) -> None:
    assert rules.expected_tests_per_person(p, k) == pytest.approx(expected, abs=1e-12)


def test_single_tubes_cost_one_test_per_person() -> None:
    assert rules.expected_tests_per_person(0.3, 1) == 1.0


def test_hand_values_of_the_formula() -> None:
    assert rules.expected_tests_per_person(0.01, 10) == pytest.approx(0.195618, abs=1e-6)
    assert rules.expected_tests_per_person(0.1, 4) == pytest.approx(0.5939, abs=1e-9)


def test_advisor_picks_eleven_at_one_percent() -> None:
    advice = rules.best_pool_size(0.01)

    assert advice.pool_size == 11
    assert advice.tests_per_person == pytest.approx(0.195571, abs=1e-6)
    assert advice.saving == pytest.approx(1 - 0.195571, abs=1e-6)


@pytest.mark.parametrize(
    ("p", "k"), [(0.001, 32), (0.005, 15), (0.02, 8), (0.05, 5), (0.1, 4), (0.2, 3)]
)
def test_advisor_known_optima(p: float, k: int) -> None:
    assert rules.best_pool_size(p).pool_size == k


def test_advisor_is_the_minimum_of_the_curve() -> None:
    for p in (0.0005, 0.003, 0.01, 0.07):
        curve = rules.advice_curve(p)
        best = min(curve, key=lambda kv: (kv[1], kv[0]))
        assert rules.best_pool_size(p).pool_size == best[0]
        assert len(curve) == 50


def test_at_high_prevalence_pooling_does_not_pay() -> None:
    advice = rules.best_pool_size(0.35)
    assert advice.pool_size == 1 and advice.tests_per_person == 1.0


@pytest.mark.parametrize("p", [-0.01, 1.01, float("nan"), True])
def test_bad_prevalence_is_refused(p: float) -> None:
    with pytest.raises(DomainError) as err:
        rules.best_pool_size(p)
    assert err.value.code == "prevalence_invalid"


@pytest.mark.parametrize("k", [0, 51, True])
def test_bad_pool_size_is_refused(k: int) -> None:
    with pytest.raises(DomainError) as err:
        rules.expected_tests_per_person(0.01, k)
    assert err.value.code == "pool_size_invalid"


def test_tubes_are_pools_rounded_up_plus_ten_percent_spare() -> None:
    # 1,000 singles, 95 in 10-in-1 (10 pools), 41 in 20-in-1 (3 pools)
    tubes = rules.tubes_needed({1: 1000, 10: 95, 20: 41})
    assert tubes == {1: 1000 + 100, 10: 10 + 1, 20: 3 + 1}
    assert rules.tubes_needed({20: 41}, spare_share=0) == {20: 3}


def test_swabs_are_one_per_person_plus_five_percent() -> None:
    assert rules.swabs_needed(1000) == 1050
    assert rules.swabs_needed(101) == 101 + math.ceil(5.05)
    assert rules.swabs_needed(0) == 0


def test_tables_and_points_from_capacity() -> None:
    # 120 persons per table-hour: 57,600 persons in 24 h need 20 tables, 5 points of 4
    assert rules.tables_needed(57_600, hours=24) == 20
    assert rules.tables_needed(57_601, hours=24) == 21
    assert rules.points_needed(57_600, tables_per_point=4, hours=24) == 5
    with pytest.raises(DomainError):
        rules.tables_needed(10, hours=0)


def test_ppe_is_one_set_per_sampler_shift() -> None:
    assert rules.ppe_needed(10, hours=24) == {
        "protective_suit": 60,
        "n95_mask": 60,
        "face_shield": 60,
        "gloves": 480,
    }


def test_tube_kind_by_pool_size() -> None:
    assert [rules.supply_kind_for_pool_size(k) for k in (1, 2, 10, 11, 20)] == [
        "tube_1",
        "tube_10",
        "tube_10",
        "tube_20",
        "tube_20",
    ]
