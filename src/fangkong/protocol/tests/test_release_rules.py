"""The release rule (解除隔离): pure, no database."""

from __future__ import annotations

import datetime as dt

from fangkong.protocol import rules
from fangkong.protocol.rules import StayTest

from .conftest import shipped_protocol

END = dt.date(2022, 5, 10)
V9 = shipped_protocol("v9", secondary_release_close_negatives=2)
V8 = shipped_protocol("v8", secondary_release_close_negatives=0)


def neg(day: int) -> StayTest:
    return StayTest(dt.date(2022, 5, day), True, "negative")


def code(**kwargs: object) -> str:
    kwargs.setdefault("today", END)
    kwargs.setdefault("end_on", END)
    return rules.release_eligible(V9, **kwargs).reason_code  # type: ignore[arg-type]


def test_all_scheduled_tests_negative_on_the_end_day_releases() -> None:
    assert code(tests=[neg(4), neg(6), neg(10)]) == "ok"


def test_not_before_the_end_date() -> None:
    assert code(today=END - dt.timedelta(days=1), tests=[neg(4)]) == "not_due"


def test_a_missing_test_refuses_and_a_later_one_does_not_count() -> None:
    missing = StayTest(dt.date(2022, 5, 6), False, "pending")
    assert code(tests=[neg(4), missing]) == "test_missing"
    after_end = StayTest(dt.date(2022, 5, 12), False, "pending")
    assert code(tests=[neg(4), after_end]) == "ok"


def test_positive_beats_missing_and_pending_refuses() -> None:
    positive = StayTest(dt.date(2022, 5, 4), True, "positive")
    missing = StayTest(dt.date(2022, 5, 6), False, "pending")
    assert code(tests=[positive, missing]) == "test_positive"
    pending = StayTest(dt.date(2022, 5, 6), True, "pending")
    assert code(tests=[neg(4), pending]) == "test_pending"
    invalid = StayTest(dt.date(2022, 5, 6), True, "invalid")
    assert code(tests=[neg(4), invalid, pending]) == "test_missing"  # to be taken again


def test_an_urgent_test_counts_once_taken() -> None:
    urgent = StayTest(None, True, "positive")
    assert code(tests=[neg(4), urgent]) == "test_positive"
    assert code(tests=[neg(4), StayTest(None, False, "pending")]) == "ok"


def test_secondary_waits_for_its_close_contacts_first_two_negatives_in_v9() -> None:
    assert code(tests=[neg(4)], close_contact_results=[]) == "close_contact_tests_pending"
    assert (
        code(tests=[neg(4)], close_contact_results=["negative", "pending"])
        == "close_contact_tests_pending"
    )
    assert (
        code(tests=[neg(4)], close_contact_results=["negative", "positive"])
        == "close_contact_tests_pending"
    )
    assert code(tests=[neg(4)], close_contact_results=["negative", "negative", "pending"]) == "ok"


def test_v8_does_not_wait_for_the_close_contact() -> None:
    got = rules.release_eligible(
        V8, today=END, end_on=END, tests=[neg(4)], close_contact_results=[]
    )
    assert got.reason_code == "ok"
