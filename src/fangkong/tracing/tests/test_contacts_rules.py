"""Pure rules of contacts: co-presence overlap, merging, classification, dates."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from fangkong.protocol.rules import Protocol
from fangkong.tracing.rules import contacts as rules

TZ = ZoneInfo("Asia/Shanghai")


def t(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2022, 7, 4, hour, minute, tzinfo=TZ)


STOP = {"start": t(10), "end": t(11)}


def overlap(*scans: dt.datetime, tol: int = 0, dwell: int = 30) -> int | None:
    return rules.overlap_minutes(scans, **STOP, tolerance_minutes=tol, dwell_minutes=dwell)


def test_window_is_the_exact_query_bound() -> None:
    w = rules.copresence_window(start=t(10), end=t(11), tolerance_minutes=15, dwell_minutes=30)
    assert (w.low, w.high) == (t(9, 15), t(11, 15))


def test_overlapping_scan_counts_its_minutes_inside_the_stop() -> None:
    assert overlap(t(10, 10)) == 30
    assert overlap(t(9, 50)) == 20  # present 9:50-10:20, stop from 10:00
    assert overlap(t(10, 50)) == 10  # present 10:50-11:20, stop until 11:00


def test_touching_spans_are_co_present_with_zero_overlap() -> None:
    assert overlap(t(9, 30)) == 0  # leaves exactly when the case arrives
    assert overlap(t(11)) == 0  # arrives exactly when the case leaves


def test_non_overlapping_spans_are_not_co_present() -> None:
    assert overlap(t(9, 29)) is None
    assert overlap(t(11, 1)) is None


def test_tolerance_widens_the_stop_on_both_sides() -> None:
    assert overlap(t(9, 20)) is None
    assert overlap(t(9, 20), tol=15) == 5  # 9:20-9:50 against 9:45-11:15
    assert overlap(t(11, 10)) is None
    assert overlap(t(11, 10), tol=15) == 5  # 11:10-11:40 against 9:45-11:15
    assert overlap(t(9, 15), tol=15) == 0  # touches the widened stop
    assert overlap(t(9, 14), tol=15) is None


def test_several_scans_count_their_union_once() -> None:
    assert overlap(t(10), t(10, 10)) == 40  # 10:00-10:40, not 60
    assert overlap(t(10), t(10, 45)) == 45  # 10:00-10:30 and 10:45-11:00


def test_negative_values_are_refused() -> None:
    with pytest.raises(ValueError):
        rules.copresence_window(start=t(10), end=t(11), tolerance_minutes=-1, dwell_minutes=30)
    with pytest.raises(ValueError):
        rules.copresence_window(start=t(11), end=t(10), tolerance_minutes=0, dwell_minutes=30)


def hit(person: int, place: int, first: dt.datetime, minutes: int) -> rules.StopHit:
    return rules.StopHit(person, place, first, first, minutes)


def test_same_person_at_two_venues_is_one_contact_with_summed_overlap() -> None:
    merged = rules.merge_stop_hits(
        [hit(7, 1, t(10), 10), hit(7, 2, t(14), 12), hit(8, 1, t(10, 5), 3)]
    )
    assert set(merged) == {7, 8}
    assert merged[7].overlap_minutes == 22
    assert merged[7].first_scan == t(10)
    assert merged[7].last_scan == t(14)
    assert merged[7].place_ids == (1, 2)
    assert merged[7].best_place_id == 2


def test_classification_by_the_rule_set() -> None:
    """Household, workplace, companion, vehicle: close whatever the minutes; venue
    co-presence by venue kind (small: 15 minutes, large: never close, other: 240); a
    close contact's own co-presence makes a secondary contact from 240 summed minutes."""
    for kind in (rules.HOUSEHOLD, rules.WORKPLACE, rules.COMPANION, rules.VEHICLE):
        assert rules.classify_exposure(V9, kind=kind) == rules.CLOSE
        assert rules.classify_secondary_exposure(V9, kind=kind) == rules.SECONDARY
    assert rules.classify_exposure(V9, kind=rules.MANUAL) == rules.CO_PRESENCE
    assert rules.classify_copresence(V9, [("restaurant", 15)]) == rules.CLOSE
    assert rules.classify_copresence(V9, [("restaurant", 14)]) == rules.CO_PRESENCE
    assert rules.classify_copresence(V9, [("supermarket", 600)]) == rules.CO_PRESENCE
    assert rules.classify_copresence(V9, [("", 239)]) == rules.CO_PRESENCE
    assert rules.classify_copresence(V9, [("", 200), ("office", 40)]) == rules.CLOSE
    # a close contact's own co-presence: secondary only from 240 summed minutes
    assert rules.classify_secondary_copresence(V9, [("gym", 20)]) is None
    assert rules.classify_secondary_copresence(V9, [("gym", 200), ("", 40)]) == rules.SECONDARY
    assert rules.classify_secondary_copresence(V9, [("gym", 200), ("", 39)]) is None
    assert rules.classify_secondary_copresence(V9, [("mall", 500)]) is None


def test_never_downgrade() -> None:
    assert rules.stronger(rules.CLOSE, rules.CO_PRESENCE) == rules.CLOSE
    assert rules.stronger(rules.CLOSE, rules.SECONDARY) == rules.CLOSE
    assert rules.stronger(rules.SECONDARY, rules.CLOSE) == rules.CLOSE
    assert rules.stronger(rules.CO_PRESENCE, rules.GENERAL) == rules.GENERAL
    assert rules.strongest([rules.CO_PRESENCE, rules.CLOSE, rules.GENERAL]) == rules.CLOSE


V9 = Protocol(
    version="v9",
    contact_lookback_days=4,
    close_centralised_days=7,
    close_home_monitoring_days=3,
    close_centralised_test_days=(1, 2, 3, 5, 7),
    close_home_test_days=(3,),
    secondary_measure="home",
    secondary_days=7,
    secondary_test_days=(1, 4, 7),
    sealed_downgrade_days=7,
    controlled_downgrade_days=7,
)
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


def test_close_contact_dates_v9_and_v8() -> None:
    d9 = rules.contact_dates(V9, classification="close", last_exposure_on=dt.date(2022, 7, 4))
    assert d9.quarantine_end_on == dt.date(2022, 7, 11)
    assert d9.monitoring_end_on == dt.date(2022, 7, 14)
    assert [x["date"] for x in d9.test_dates] == [
        "2022-07-05",
        "2022-07-06",
        "2022-07-07",
        "2022-07-09",
        "2022-07-11",
        "2022-07-14",
    ]
    assert d9.ruleset_version == "v9"
    d8 = rules.contact_dates(V8, classification="close", last_exposure_on=dt.date(2022, 7, 4))
    assert d8.quarantine_end_on == dt.date(2022, 7, 18)
    assert d8.monitoring_end_on == dt.date(2022, 7, 25)
    assert [x["date"] for x in d8.test_dates][:4] == [
        "2022-07-05",
        "2022-07-08",
        "2022-07-11",
        "2022-07-18",
    ]


def test_secondary_and_general_dates() -> None:
    d = rules.contact_dates(V9, classification="secondary", last_exposure_on=dt.date(2022, 7, 4))
    assert d.quarantine_end_on == dt.date(2022, 7, 11)
    assert d.monitoring_end_on is None
    assert [x["date"] for x in d.test_dates] == ["2022-07-05", "2022-07-08", "2022-07-11"]
    g = rules.contact_dates(V9, classification="general", last_exposure_on=dt.date(2022, 7, 4))
    assert (g.quarantine_end_on, g.monitoring_end_on, g.test_dates) == (None, None, [])


@pytest.mark.parametrize("p", [V8, V9], ids=["v8", "v9"])
def test_co_presence_risk_person_dates(p: Protocol) -> None:
    """A co-presence risk person: home health monitoring 3 days, tests on days 1 and 3."""
    r = rules.contact_dates(p, classification="co_presence", last_exposure_on=dt.date(2022, 7, 4))
    assert r.quarantine_end_on is None
    assert r.monitoring_end_on == dt.date(2022, 7, 7)
    assert r.test_dates == [
        {"date": "2022-07-05", "rule": "risk_person.test.1"},
        {"date": "2022-07-07", "rule": "risk_person.test.3"},
    ]
    assert r.ruleset_version == p.version


def test_local_date_needs_an_aware_moment() -> None:
    assert rules.local_date(dt.datetime(2022, 7, 4, 17, 0, tzinfo=dt.UTC), TZ) == dt.date(
        2022, 7, 5
    )
    with pytest.raises(ValueError):
        rules.local_date(dt.datetime(2022, 7, 4, 17, 0), TZ)
