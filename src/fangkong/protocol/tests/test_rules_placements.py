"""protocol.rules.placement_schedule: the measure, dates and tests of a placement under
v8 and v9, for close contacts, secondary contacts and co-presence risk persons."""

from __future__ import annotations

import datetime as dt
from importlib import import_module
from types import SimpleNamespace

import pytest

from fangkong.protocol.rules import Protocol, placement_schedule

SHIPPED = import_module("fangkong.protocol.migrations.0003_ship_versions_8_and_9").RULESETS
UPDATES = import_module("fangkong.protocol.migrations.0005_v9_secondary_release").RULESET_UPDATES


def _protocol(version: str) -> Protocol:
    return Protocol.from_ruleset(
        SimpleNamespace(version=version, **SHIPPED[version], **UPDATES[version])
    )


V8, V9 = _protocol("v8"), _protocol("v9")
EXPOSED = dt.date(2022, 7, 3)
D = dt.timedelta


def _days(dates: tuple) -> list[int]:
    return [(d.value - EXPOSED).days for d in dates]


@pytest.mark.parametrize(
    ("p", "central", "home", "tests", "home_tests"),
    [(V9, 7, 3, [1, 2, 3, 5, 7], [10]), (V8, 14, 7, [1, 4, 7, 14], [16, 21])],
)
def test_close_contact(p: Protocol, central: int, home: int, tests: list, home_tests: list) -> None:
    s = placement_schedule(p, classification="close", last_exposure_on=EXPOSED, start_on=EXPOSED)
    assert s.measure == "centralised"
    assert s.quarantine_end_on is not None
    assert s.quarantine_end_on.value == EXPOSED + D(central)
    assert s.monitoring_end_on.value == EXPOSED + D(central + home)
    assert _days(s.tests) == tests
    assert _days(s.monitoring_tests) == home_tests
    assert {t.ruleset_version for t in s.tests} == {p.version}


@pytest.mark.parametrize(("p", "measure"), [(V9, "home"), (V8, "centralised")])
def test_secondary_contact(p: Protocol, measure: str) -> None:
    s = placement_schedule(
        p, classification="secondary", last_exposure_on=EXPOSED, start_on=EXPOSED + D(1)
    )
    assert s.measure == measure
    assert s.quarantine_end_on is not None and s.quarantine_end_on.value == EXPOSED + D(7)
    assert _days(s.tests) == [1, 4, 7]
    assert s.tests[0].rule == "secondary_contact.test.1"


def test_co_presence_risk_person_three_days_two_tests() -> None:
    for p in (V8, V9):
        s = placement_schedule(
            p, classification="co_presence", last_exposure_on=EXPOSED, start_on=EXPOSED + D(1)
        )
        assert s.measure == "monitoring"
        assert s.quarantine_end_on is None
        assert s.monitoring_end_on.value == EXPOSED + D(3)
        assert _days(s.tests) == [1, 3]
        assert s.tests[0].rule == "risk_person.test.1"


def test_tests_before_the_start_are_left_out() -> None:
    s = placement_schedule(
        V9, classification="close", last_exposure_on=EXPOSED, start_on=EXPOSED + D(3)
    )
    assert _days(s.tests) == [3, 5, 7]


def test_without_an_exposure_the_day_before_the_start_stands_for_it() -> None:
    s = placement_schedule(V9, classification="", last_exposure_on=None, start_on=EXPOSED + D(1))
    assert s.last_exposure_on == EXPOSED
    assert s.measure == "centralised"


def test_an_exposure_during_the_stay_counts_from_it() -> None:
    later = EXPOSED + D(3)
    s = placement_schedule(V9, classification="close", last_exposure_on=later, start_on=EXPOSED)
    assert s.quarantine_end_on is not None and s.quarantine_end_on.value == later + D(7)
    assert [(t.value - later).days for t in s.tests] == [1, 2, 3, 5, 7]
