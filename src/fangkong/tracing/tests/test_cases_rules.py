"""Pure rules of cases: look-back start, deadlines, lifecycle, stops from scans (no DB)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from fangkong.core.errors import DomainError
from fangkong.protocol.rules import Protocol
from fangkong.tracing.rules import cases as rules

SH = dt.timezone(dt.timedelta(hours=8))

V8 = Protocol(
    version="v8",
    contact_lookback_days=4,
    close_centralised_days=14,
    close_home_monitoring_days=7,
    close_centralised_test_days=(1, 4, 7, 14),
    close_home_test_days=(2, 7),
    secondary_measure="centralised",
    secondary_days=7,
    secondary_test_days=(1, 4, 7),
    sealed_downgrade_days=14,
    controlled_downgrade_days=14,
)
V9 = replace(
    V8,
    version="v9",
    close_centralised_days=7,
    close_home_monitoring_days=3,
    secondary_measure="home",
    case_core_facts_hours=4,
    case_report_hours=24,
)
LOCAL_2_DAYS = replace(V9, version="local", contact_lookback_days=2, case_core_facts_hours=2)


def t(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2022, 7, day, hour, minute, tzinfo=SH)


# --- look-back --------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", [V8, V9])
def test_symptomatic_case_looks_back_from_onset(protocol: Protocol) -> None:
    start = rules.case_lookback_start(
        protocol,
        kind="confirmed",
        onset_date=dt.date(2022, 7, 10),
        first_positive_sampled_on=dt.date(2022, 7, 11),
    )
    assert (start.value, start.rule, start.ruleset_version) == (
        dt.date(2022, 7, 6),
        "contact_lookback.onset",
        protocol.version,
    )


@pytest.mark.parametrize("protocol", [V8, V9])
def test_asymptomatic_case_looks_back_from_first_positive_sample(protocol: Protocol) -> None:
    start = rules.case_lookback_start(
        protocol,
        kind="asymptomatic",
        onset_date=None,
        first_positive_sampled_on=dt.date(2022, 7, 11),
    )
    assert (start.value, start.rule) == (
        dt.date(2022, 7, 7),
        "contact_lookback.first_positive_sample",
    )


def test_confirmed_case_without_onset_looks_back_from_sample() -> None:
    start = rules.case_lookback_start(
        V9, kind="confirmed", onset_date=None, first_positive_sampled_on=dt.date(2022, 7, 11)
    )
    assert start.value == dt.date(2022, 7, 7)


def test_lookback_days_come_from_the_rule_set() -> None:
    start = rules.case_lookback_start(
        LOCAL_2_DAYS,
        kind="confirmed",
        onset_date=dt.date(2022, 7, 10),
        first_positive_sampled_on=dt.date(2022, 7, 10),
    )
    assert (start.value, start.ruleset_version) == (dt.date(2022, 7, 8), "local")


# --- deadlines and lifecycle -----------------------------------------------------------


def test_deadlines_are_hours_of_the_rule_set() -> None:
    reported = t(11, 9, 30)
    v9 = rules.case_deadlines(V9, reported_at=reported)
    local = rules.case_deadlines(LOCAL_2_DAYS, reported_at=reported)
    assert (v9.core_facts.value, v9.report.value) == (t(11, 13, 30), t(12, 9, 30))
    assert local.core_facts.value == t(11, 11, 30)
    assert v9.core_facts.rule == "deadline.case_core_facts"


def test_deadlines_refuse_a_naive_report_time() -> None:
    with pytest.raises(DomainError) as exc:
        rules.case_deadlines(V9, reported_at=dt.datetime(2022, 7, 11, 9))
    assert exc.value.code == "naive_datetime"


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        ("reported", "investigating", True),
        ("investigating", "investigated", True),
        ("investigated", "closed", True),
        ("reported", "investigated", False),
        ("reported", "closed", False),
        ("investigating", "investigating", False),
        ("closed", "investigating", False),
        ("investigated", "investigating", False),
    ],
)
def test_lifecycle_transitions(current: str, target: str, allowed: bool) -> None:
    assert rules.transition_allowed(current, target) is allowed


def test_overdue_when_a_deadline_passed_undone() -> None:
    base = {
        "status": "investigating",
        "core_facts_due_at": t(11, 13),
        "report_due_at": t(12, 9),
        "core_facts_done_at": None,
        "report_done_at": None,
    }
    assert rules.case_is_overdue(now=t(11, 12), **base) is False
    assert rules.case_is_overdue(now=t(11, 14), **base) is True
    assert (
        rules.case_is_overdue(now=t(11, 14), **{**base, "core_facts_done_at": t(11, 12)}) is False
    )
    assert rules.case_is_overdue(now=t(12, 10), **{**base, "core_facts_done_at": t(11, 12)}) is True
    assert rules.case_is_overdue(now=t(12, 10), **{**base, "status": "closed"}) is False


def test_case_numbers() -> None:
    assert rules.case_number("TX", 2022, 1) == "TX2022-0001"
    assert rules.case_number("TX", 2022, 12345) == "TX2022-12345"
    assert rules.case_number_sequence("TX2022-0042", "TX", 2022) == 42
    assert rules.case_number_sequence("TX2021-0042", "TX", 2022) is None


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"onset_date": dt.date(2022, 7, 13)}, "date_in_future"),
        ({"first_positive_sampled_on": dt.date(2022, 7, 13)}, "date_in_future"),
        ({"onset_date": dt.date(2022, 7, 11)}, "onset_after_sample"),
        ({"kind": "asymptomatic", "onset_date": dt.date(2022, 7, 9)}, "asymptomatic_with_onset"),
        ({"reported_on": dt.date(2022, 7, 9)}, "sample_after_report"),
    ],
)
def test_case_dates_refused(kwargs: dict, code: str) -> None:
    values = {
        "kind": "confirmed",
        "onset_date": None,
        "first_positive_sampled_on": dt.date(2022, 7, 10),
        "reported_on": dt.date(2022, 7, 12),
        "today": dt.date(2022, 7, 12),
        **kwargs,
    }
    with pytest.raises(DomainError) as exc:
        rules.check_case_dates(**values)
    assert exc.value.code == code


# --- stops from scans ------------------------------------------------------------------

HOUR = dt.timedelta(hours=1)


def test_consecutive_scans_at_one_place_merge_into_one_stop() -> None:
    stops = rules.stops_from_scans([(1, t(8, 9)), (1, t(8, 9, 40)), (1, t(8, 10, 30))], dwell=HOUR)
    assert stops == [rules.ProposedStop(1, t(8, 9), t(8, 11, 30), 3)]


def test_a_long_gap_at_the_same_place_makes_two_stops() -> None:
    stops = rules.stops_from_scans([(1, t(8, 9)), (1, t(8, 14))], dwell=HOUR)
    assert [(s.start, s.end) for s in stops] == [(t(8, 9), t(8, 10)), (t(8, 14), t(8, 15))]


def test_gap_is_configurable_apart_from_the_dwell() -> None:
    scans = [(1, t(8, 9)), (1, t(8, 11))]
    assert len(rules.stops_from_scans(scans, dwell=HOUR)) == 2
    merged = rules.stops_from_scans(scans, dwell=HOUR, gap=3 * HOUR)
    assert [(s.start, s.end, s.scans) for s in merged] == [(t(8, 9), t(8, 12), 2)]


def test_a_stop_ends_when_the_next_place_is_scanned() -> None:
    stops = rules.stops_from_scans([(1, t(8, 9)), (2, t(8, 9, 20)), (1, t(8, 9, 50))], dwell=HOUR)
    assert [(s.place_id, s.start, s.end) for s in stops] == [
        (1, t(8, 9), t(8, 9, 20)),
        (2, t(8, 9, 20), t(8, 9, 50)),
        (1, t(8, 9, 50), t(8, 10, 50)),
    ]


def test_scans_are_ordered_and_the_last_stop_ends_at_the_report() -> None:
    stops = rules.stops_from_scans([(2, t(8, 18)), (1, t(8, 9))], dwell=HOUR, until=t(8, 18, 15))
    assert [(s.place_id, s.end) for s in stops] == [(1, t(8, 10)), (2, t(8, 18, 15))]


def test_no_scans_no_stops_and_zero_dwell() -> None:
    assert rules.stops_from_scans([], dwell=HOUR) == []
    stops = rules.stops_from_scans([(1, t(8, 9))], dwell=dt.timedelta(0))
    assert (stops[0].start, stops[0].end) == (t(8, 9), t(8, 9))
    with pytest.raises(DomainError):
        rules.stops_from_scans([(1, t(8, 9))], dwell=-HOUR)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"has_place": False, "address": "  "}, "stop_needs_place"),
        ({"end": t(8, 8)}, "stop_end_before_start"),
        ({"start": t(3, 23)}, "stop_outside_window"),
        ({"end": t(12, 10)}, "stop_outside_window"),
        ({"start": dt.datetime(2022, 7, 8, 9)}, "naive_datetime"),
    ],
)
def test_stop_checks(kwargs: dict, code: str) -> None:
    values = {
        "has_place": True,
        "address": "",
        "start": t(8, 9),
        "end": t(8, 10),
        "window_start": t(4, 0),
        "window_end": t(12, 9),
        **kwargs,
    }
    with pytest.raises(DomainError) as exc:
        rules.check_stop(**values)
    assert exc.value.code == code


def test_a_stop_on_the_window_edges_is_fine() -> None:
    rules.check_stop(
        has_place=False,
        address="桐乡市某路1号",
        start=t(4, 0),
        end=t(12, 9),
        window_start=t(4, 0),
        window_end=t(12, 9),
    )
