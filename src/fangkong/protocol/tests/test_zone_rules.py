"""The zone rules the zone services run (protocol.rules), without a database.

Moved here from areas' tests with the rules themselves: the level order, the days and
the screening a downgrade needs under v8 and v9, and when a precaution zone lifts.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from fangkong.core.errors import DomainError
from fangkong.protocol import rules
from fangkong.protocol.rules import Eligibility

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


def test_levels_step_down_one_at_a_time_then_lift() -> None:
    assert rules.next_lower_level("sealed") == "controlled"
    assert rules.next_lower_level("controlled") == "precaution"
    assert rules.next_lower_level("precaution") is None


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError):
        rules.next_lower_level("red")
    with pytest.raises(DomainError) as err:
        rules.is_more_severe("red", "sealed")
    assert err.value.code == "invalid_zone_level"


def test_severity_order() -> None:
    assert rules.is_more_severe("sealed", "controlled")
    assert rules.is_more_severe("controlled", "precaution")
    assert not rules.is_more_severe("precaution", "sealed")
    assert rules.most_severe(["precaution", "sealed", "controlled"]) == "sealed"
    assert rules.most_severe([]) is None
    assert (
        tuple(sorted(rules.ZONE_SEVERITY, key=lambda level: -rules.ZONE_SEVERITY[level]))
        == rules.ZONE_LEVELS
    )


def test_required_days_come_from_the_rule_set() -> None:
    assert rules.zone_downgrade_days(V9, "sealed") == 7
    assert rules.zone_downgrade_days(V9, "controlled") == 7
    assert rules.zone_downgrade_days(V9, "controlled", downgraded_from_sealed=True) == 3
    assert rules.zone_downgrade_days(V9, "precaution") == 0
    assert rules.zone_downgrade_days(V8, "controlled", downgraded_from_sealed=True) == 14


def test_screening_required_by_v9_except_the_short_step() -> None:
    assert rules.zone_screening_required(V9, "sealed")
    assert rules.zone_screening_required(V9, "controlled")
    assert not rules.zone_screening_required(V9, "controlled", downgraded_from_sealed=True)
    assert not rules.zone_screening_required(V8, "sealed")


def check(p: Any = V9, **kw: Any) -> Eligibility:
    args: dict[str, Any] = {
        "level": "sealed",
        "no_case_days": 7,
        "last_negative_screening_on": d(7),
        "on_date": d(7),
    }
    args.update(kw)
    return rules.zone_downgrade_eligible(p, **args)


def test_downgrade_allowed_with_days_and_screening_on_the_last_day() -> None:
    assert check() == Eligibility(True, "ok")
    assert check(level="controlled") == Eligibility(True, "ok")


def test_downgrade_refused_below_the_days() -> None:
    assert check(no_case_days=6) == Eligibility(False, "not_enough_days")


def test_downgrade_refused_without_screening() -> None:
    assert check(last_negative_screening_on=None) == Eligibility(False, "screening_missing")


def test_downgrade_refused_with_screening_on_another_day() -> None:
    assert check(last_negative_screening_on=d(6)) == Eligibility(False, "screening_not_on_date")


def test_downgrade_without_screening_when_the_rule_set_asks_none() -> None:
    assert check(V8, no_case_days=14, last_negative_screening_on=None) == Eligibility(True, "ok")
    assert check(V8, no_case_days=3) == Eligibility(False, "not_enough_days")


def test_precaution_is_lifted_not_downgraded() -> None:
    assert check(level="precaution") == Eligibility(False, "level_lowest")


def test_lift_only_a_precaution_zone() -> None:
    for level in ("sealed", "controlled"):
        assert rules.zone_lift_eligible(
            V9, level=level, no_case_days=30, active_children=0
        ) == Eligibility(False, "not_precaution")


def test_lift_waits_for_children_and_own_days() -> None:
    local = SimpleNamespace(**{**vars(V9), "precaution_lift_days": 3})
    kw: dict[str, Any] = {"level": "precaution"}
    assert rules.zone_lift_eligible(local, no_case_days=3, active_children=1, **kw) == (
        Eligibility(False, "zone_children_active")
    )
    assert rules.zone_lift_eligible(local, no_case_days=2, active_children=0, **kw) == (
        Eligibility(False, "not_enough_days")
    )
    assert rules.zone_lift_eligible(local, no_case_days=3, active_children=0, **kw) == (
        Eligibility(True, "ok")
    )
    assert rules.zone_lift_eligible(
        V9, level="precaution", no_case_days=0, active_children=0
    ) == Eligibility(True, "ok")
