"""The protocol's pure rules, exhaustively, for the shipped versions 8 and 9 (no database)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from fangkong.core.errors import DomainError
from fangkong.protocol import rules
from fangkong.protocol.rules import Eligibility, Protocol

from .conftest import shipped_protocol

D = dt.date
EXPOSED = D(2022, 7, 1)


def values(dates: tuple[rules.ProtocolDate, ...]) -> list[dt.date]:
    return [d.value for d in dates]


# --- close contacts -------------------------------------------------------------------


def test_v9_close_contact_7_plus_3_counted_from_last_exposure(v9: Protocol) -> None:
    s = rules.close_contact_schedule(v9, last_exposure_on=EXPOSED)
    assert s.centralised_end.value == D(2022, 7, 8)  # end of day 7
    assert s.home_monitoring_end.value == D(2022, 7, 11)  # 7 + 3
    assert values(s.centralised_tests) == [
        D(2022, 7, 2),
        D(2022, 7, 3),
        D(2022, 7, 4),
        D(2022, 7, 6),
        D(2022, 7, 8),
    ]
    assert values(s.home_tests) == [D(2022, 7, 11)]  # home day 3


def test_v8_close_contact_14_plus_7(v8: Protocol) -> None:
    s = rules.close_contact_schedule(v8, last_exposure_on=EXPOSED)
    assert s.centralised_end.value == D(2022, 7, 15)
    assert s.home_monitoring_end.value == D(2022, 7, 22)
    assert values(s.centralised_tests) == [
        D(2022, 7, 2),
        D(2022, 7, 5),
        D(2022, 7, 8),
        D(2022, 7, 15),
    ]
    assert values(s.home_tests) == [D(2022, 7, 17), D(2022, 7, 22)]  # home days 2 and 7


def test_every_close_contact_date_names_its_rule_set_and_rule(v9: Protocol) -> None:
    s = rules.close_contact_schedule(v9, last_exposure_on=EXPOSED)
    every = [s.centralised_end, s.home_monitoring_end, *s.centralised_tests, *s.home_tests]
    assert {d.ruleset_version for d in every} == {"v9"}
    assert s.centralised_end.rule == rules.RULE_CLOSE_CENTRALISED_END
    assert s.home_monitoring_end.rule == rules.RULE_CLOSE_HOME_END
    assert [t.rule for t in s.centralised_tests][-1] == "close_contact.centralised_test.7"
    assert s.home_tests[0].rule == "close_contact.home_test.3"


def test_close_contact_across_month_and_year_end(v8: Protocol) -> None:
    s = rules.close_contact_schedule(v8, last_exposure_on=D(2021, 12, 25))
    assert s.centralised_end.value == D(2022, 1, 8)
    assert s.home_monitoring_end.value == D(2022, 1, 15)


def test_unsorted_test_days_come_out_in_date_order() -> None:
    p = shipped_protocol("v9", close_centralised_test_days=[7, 1, 3])
    s = rules.close_contact_schedule(p, last_exposure_on=EXPOSED)
    assert values(s.centralised_tests) == [D(2022, 7, 2), D(2022, 7, 4), D(2022, 7, 8)]


# --- secondary contacts ---------------------------------------------------------------


def test_v9_secondary_contact_7_days_home_tests_1_4_7(v9: Protocol) -> None:
    s = rules.secondary_contact_schedule(v9, last_exposure_on=EXPOSED)
    assert s.measure == "home"
    assert s.end.value == D(2022, 7, 8)
    assert values(s.tests) == [D(2022, 7, 2), D(2022, 7, 5), D(2022, 7, 8)]
    assert {d.ruleset_version for d in (s.end, *s.tests)} == {"v9"}
    assert s.end.rule == rules.RULE_SECONDARY_END


def test_v8_secondary_contact_7_days_centralised(v8: Protocol) -> None:
    s = rules.secondary_contact_schedule(v8, last_exposure_on=EXPOSED)
    assert s.measure == "centralised"
    assert s.end.value == D(2022, 7, 8)
    assert values(s.tests) == [D(2022, 7, 2), D(2022, 7, 5), D(2022, 7, 8)]
    assert s.end.ruleset_version == "v8"


# --- a later exposure -----------------------------------------------------------------


@pytest.mark.parametrize("version", ["v8", "v9"])
def test_a_later_exposure_moves_every_date(version: str) -> None:
    p = shipped_protocol(version)
    before = rules.close_contact_schedule(p, last_exposure_on=EXPOSED)
    # a close contact exposed again: the schedule restarts from the later exposure
    after = rules.close_contact_schedule(
        p, last_exposure_on=rules.latest_exposure([EXPOSED, D(2022, 7, 4)])
    )
    old = [before.centralised_end, before.home_monitoring_end, *before.centralised_tests]
    new = [after.centralised_end, after.home_monitoring_end, *after.centralised_tests]
    old += list(before.home_tests)
    new += list(after.home_tests)
    assert len(old) == len(new)
    assert all(n.value - o.value == dt.timedelta(days=3) for o, n in zip(old, new, strict=True))
    later_secondary = rules.secondary_contact_schedule(p, last_exposure_on=D(2022, 7, 4))
    assert later_secondary.end.value == D(2022, 7, 11)


def test_an_earlier_exposure_found_late_changes_nothing(v9: Protocol) -> None:
    s = rules.close_contact_schedule(
        v9, last_exposure_on=rules.latest_exposure([EXPOSED, D(2022, 6, 28)])
    )
    assert s.last_exposure_on == EXPOSED
    assert s.centralised_end.value == D(2022, 7, 8)


def test_latest_exposure_needs_a_date() -> None:
    assert rules.latest_exposure([D(2022, 7, 3), D(2022, 7, 1)]) == D(2022, 7, 3)
    with pytest.raises(DomainError) as err:
        rules.latest_exposure([])
    assert err.value.code == "exposure_needs_date"


# --- look-back ------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v8", "v9"])
def test_lookback_symptomatic_4_days_before_onset(version: str) -> None:
    start = rules.contact_lookback_start(shipped_protocol(version), onset_on=D(2022, 7, 10))
    assert start.value == D(2022, 7, 6)
    assert start.rule == rules.RULE_LOOKBACK_SYMPTOMATIC
    assert start.ruleset_version == version


@pytest.mark.parametrize("version", ["v8", "v9"])
def test_lookback_asymptomatic_4_days_before_first_positive_sample(version: str) -> None:
    start = rules.contact_lookback_start(
        shipped_protocol(version), first_positive_sampled_on=D(2022, 7, 10)
    )
    assert start.value == D(2022, 7, 6)
    assert start.rule == rules.RULE_LOOKBACK_ASYMPTOMATIC


def test_lookback_onset_wins_when_both_dates_are_known(v9: Protocol) -> None:
    start = rules.contact_lookback_start(
        v9, onset_on=D(2022, 7, 8), first_positive_sampled_on=D(2022, 7, 10)
    )
    assert start.value == D(2022, 7, 4)
    assert start.rule == rules.RULE_LOOKBACK_SYMPTOMATIC


def test_lookback_v7_style_two_days() -> None:
    p = shipped_protocol("v9", contact_lookback_days=2)
    assert rules.contact_lookback_start(p, onset_on=D(2022, 7, 10)).value == D(2022, 7, 8)


def test_lookback_needs_a_date(v9: Protocol) -> None:
    with pytest.raises(DomainError) as err:
        rules.contact_lookback_start(v9)
    assert err.value.code == "lookback_needs_date"
    assert err.value.status == 400


# --- zones ----------------------------------------------------------------------------


def test_zone_downgrade_days(v8: Protocol, v9: Protocol) -> None:
    assert rules.zone_downgrade_days(v9, "sealed") == 7
    assert rules.zone_downgrade_days(v9, "controlled") == 7
    assert rules.zone_downgrade_days(v9, "controlled", downgraded_from_sealed=True) == 3
    assert rules.zone_downgrade_days(v9, "precaution") == 0
    assert rules.zone_downgrade_days(v8, "sealed") == 14
    assert rules.zone_downgrade_days(v8, "controlled", downgraded_from_sealed=True) == 14
    with pytest.raises(DomainError) as err:
        rules.zone_downgrade_days(v9, "orange")
    assert err.value.code == "invalid_zone_level"


ON = D(2022, 7, 20)


def eligible(p: Protocol, **kw: object) -> Eligibility:
    args: dict[str, object] = {"level": "sealed", "on_date": ON, "last_negative_screening_on": ON}
    args.update(kw)
    return rules.zone_downgrade_eligible(p, **args)  # type: ignore[arg-type]


def test_zone_below_days_is_not_eligible(v9: Protocol) -> None:
    assert eligible(v9, no_case_days=6) == Eligibility(False, "not_enough_days")


def test_zone_days_met_but_no_screening(v9: Protocol) -> None:
    assert eligible(v9, no_case_days=7, last_negative_screening_on=None) == Eligibility(
        False, "screening_missing"
    )


def test_zone_screening_on_a_wrong_day(v9: Protocol) -> None:
    # 9 days without cases up to 20 July: the screening must be on 20 July itself.
    assert eligible(v9, no_case_days=9, last_negative_screening_on=D(2022, 7, 17)) == Eligibility(
        False, "screening_not_on_date"
    )
    # a screening "in the future" does not count either
    assert eligible(v9, no_case_days=9, last_negative_screening_on=D(2022, 7, 21)) == Eligibility(
        False, "screening_not_on_date"
    )


def test_zone_days_and_screening_met(v9: Protocol) -> None:
    assert eligible(v9, no_case_days=7, last_negative_screening_on=ON) == Eligibility(True, "ok")
    assert eligible(v9, no_case_days=9, last_negative_screening_on=ON) == Eligibility(True, "ok")
    assert eligible(v9, level="controlled", no_case_days=7).ok


def test_v9_controlled_zone_downgraded_from_sealed_lifts_after_3_days_without_screening(
    v9: Protocol,
) -> None:
    result = eligible(
        v9,
        level="controlled",
        no_case_days=3,
        last_negative_screening_on=None,
        downgraded_from_sealed=True,
    )
    assert result == Eligibility(True, "ok")
    assert not eligible(v9, level="controlled", no_case_days=2, downgraded_from_sealed=True).ok


def test_v8_zone_needs_14_days_and_no_screening(v8: Protocol) -> None:
    assert eligible(v8, no_case_days=13, last_negative_screening_on=None).reason_code == (
        "not_enough_days"
    )
    assert eligible(v8, no_case_days=14, last_negative_screening_on=None) == Eligibility(True, "ok")


def test_precaution_zone_lifts_with_the_zones_it_surrounds(v9: Protocol) -> None:
    # a precaution zone is never downgraded: it lifts, at once under v9 (0 days) ...
    assert eligible(v9, level="precaution", no_case_days=30) == Eligibility(False, "level_lowest")
    lift = rules.zone_lift_eligible
    assert lift(v9, level="precaution", no_case_days=0, active_children=0).ok
    # ... once the zones it surrounds are lifted
    assert lift(v9, level="precaution", no_case_days=0, active_children=1) == Eligibility(
        False, "zone_children_active"
    )
    local = shipped_protocol("v9", precaution_lift_days=3)
    assert not lift(local, level="precaution", no_case_days=2, active_children=0).ok
    assert lift(local, level="precaution", no_case_days=3, active_children=0).ok


def test_zone_negative_no_case_days_refused(v9: Protocol) -> None:
    with pytest.raises(DomainError) as err:
        eligible(v9, no_case_days=-1)
    assert err.value.code == "invalid_value"


# --- pooling, samplers, deadlines -----------------------------------------------------


def test_pool_size_for(v9: Protocol) -> None:
    assert rules.pool_size_for(v9, "sealed") == 1
    assert rules.pool_size_for(v9, "controlled") == 10
    assert rules.pool_size_for(v9, "precaution") == 20
    assert rules.pool_size_for(v9, None) == 20
    with pytest.raises(DomainError):
        rules.pool_size_for(v9, "orange")


def test_samplers_needed(v9: Protocol) -> None:
    assert rules.samplers_needed(v9, 0) == 0
    assert rules.samplers_needed(v9, 360) == 1
    assert rules.samplers_needed(v9, 361) == 2
    assert rules.samplers_needed(v9, 1_000_000) == 2778
    with pytest.raises(DomainError) as err:
        rules.samplers_needed(v9, -5)
    assert err.value.code == "invalid_value"


SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("kind", "hours"),
    [
        ("case_core_facts", 4),
        ("case_report", 24),
        ("verification_push", 24),
        ("round", 24),
        ("recheck", 6),
    ],
)
def test_deadlines(v9: Protocol, kind: str, hours: int) -> None:
    start = dt.datetime(2022, 7, 1, 22, 30, tzinfo=SH)
    deadline = rules.deadline_after(v9, start, kind)
    assert deadline.value == start + dt.timedelta(hours=hours)
    assert deadline.ruleset_version == "v9"
    assert deadline.rule == f"deadline.{kind}"


def test_deadline_refuses_naive_time_and_unknown_kind(v9: Protocol) -> None:
    with pytest.raises(DomainError) as err:
        rules.deadline_after(v9, dt.datetime(2022, 7, 1, 8, 0), "round")
    assert err.value.code == "naive_datetime"
    with pytest.raises(DomainError) as err:
        rules.deadline_after(v9, dt.datetime(2022, 7, 1, 8, 0, tzinfo=SH), "lunch")
    assert err.value.code == "invalid_deadline_kind"


# --- validation -----------------------------------------------------------------------


def full(version: str = "v9", **changes: object) -> dict[str, object]:
    base = {k: v for k, v in shipped_protocol(version).__dict__.items() if k != "version"}
    base = {k: (list(v) if isinstance(v, tuple) else v) for k, v in base.items()}
    base.update(changes)
    return base


def test_validate_accepts_the_shipped_values_and_sorts_test_days() -> None:
    assert rules.validate_values(full("v8"))["close_centralised_test_days"] == [1, 4, 7, 14]
    assert rules.validate_values(full(secondary_test_days=[7, 1]))["secondary_test_days"] == [1, 7]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"close_centralised_days": 0}, "close_centralised_days"),
        ({"secondary_days": -1}, "secondary_days"),
        ({"contact_lookback_days": "4"}, "contact_lookback_days"),
        ({"close_centralised_test_days": "1,2"}, "close_centralised_test_days"),
        ({"close_centralised_test_days": [0, 1]}, "close_centralised_test_days"),
        ({"close_centralised_test_days": [1, 1]}, "close_centralised_test_days"),
        ({"close_centralised_test_days": [1, 8]}, "close_centralised_test_days"),
        ({"close_home_test_days": [4]}, "close_home_test_days"),
        ({"secondary_test_days": [1, 4, 7], "secondary_days": 5}, "secondary_test_days"),
        ({"secondary_measure": "hotel"}, "secondary_measure"),
        ({"downgrade_requires_screening": "yes"}, "downgrade_requires_screening"),
        ({"pool_size_sealed": 0}, "pool_size_sealed"),
        ({"close_home_monitoring_days": True}, "close_home_monitoring_days"),
        ({"close_centralised_days": 400}, "close_centralised_days"),
    ],
)
def test_validate_refuses_invalid_values(changes: dict[str, object], field: str) -> None:
    with pytest.raises(DomainError) as err:
        rules.validate_values(full(**changes))
    assert err.value.code == "invalid_value"
    assert err.value.detail["field"] == field


def test_validate_refuses_unknown_fields() -> None:
    with pytest.raises(DomainError) as err:
        rules.validate_values(full(quarantine_hotel_stars=5))
    assert err.value.code == "unknown_field"
    assert err.value.detail["fields"] == ["quarantine_hotel_stars"]


def test_zero_home_monitoring_is_allowed() -> None:
    out = rules.validate_values(full(close_home_monitoring_days=0, close_home_test_days=[]))
    assert out["close_home_monitoring_days"] == 0


# --- who is close -----------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v8", "v9"])
@pytest.mark.parametrize("kind", ["household", "vehicle", "workplace", "companion"])
@pytest.mark.parametrize("minutes", [0, 1, 14, 600])
def test_household_vehicle_workplace_companion_close_whatever_the_minutes(
    version: str, kind: str, minutes: int
) -> None:
    p = shipped_protocol(version)
    assert rules.classify_exposure(p, exposure_kind=kind, overlap_minutes=minutes) == "close"
    assert (
        rules.classify_exposure(
            p, exposure_kind=kind, venue_kind="supermarket", overlap_minutes=minutes
        )
        == "close"
    )


@pytest.mark.parametrize("venue", ["restaurant", "ktv", "internet_bar", "gym", "clinic"])
def test_small_venue_close_from_15_minutes(v9: Protocol, venue: str) -> None:
    def at(minutes: int) -> str:
        return rules.classify_exposure(
            v9, exposure_kind="co_presence", venue_kind=venue, overlap_minutes=minutes
        )

    assert at(0) == "co_presence"
    assert at(14) == "co_presence"
    assert at(15) == "close"
    assert at(300) == "close"


@pytest.mark.parametrize(
    "venue", ["market", "mall", "supermarket", "station", "hospital_hall", "scenic_area"]
)
@pytest.mark.parametrize("minutes", [0, 15, 240, 2000])
def test_large_venue_makes_a_risk_person_whatever_the_minutes(
    v9: Protocol, venue: str, minutes: int
) -> None:
    got = rules.classify_exposure(
        v9, exposure_kind="co_presence", venue_kind=venue, overlap_minutes=minutes
    )
    assert got == "co_presence"
    assert (
        rules.classify_secondary_exposure(
            v9, exposure_kind="co_presence", venue_kind=venue, overlap_minutes=minutes
        )
        is None
    )


@pytest.mark.parametrize("venue", ["shop", "office", "other", ""])
def test_other_venue_close_from_240_summed_minutes(v8: Protocol, venue: str) -> None:
    def at(minutes: int) -> str:
        return rules.classify_exposure(
            v8, exposure_kind="co_presence", venue_kind=venue, overlap_minutes=minutes
        )

    assert at(15) == "co_presence"
    assert at(239) == "co_presence"
    assert at(240) == "close"


def test_manual_exposure_is_not_always_close(v9: Protocol) -> None:
    assert rules.classify_exposure(v9, exposure_kind="manual") == "co_presence"


def test_secondary_needs_long_copresence(v9: Protocol) -> None:
    def sec(kind: str, venue: str, minutes: int) -> str | None:
        return rules.classify_secondary_exposure(
            v9, exposure_kind=kind, venue_kind=venue, overlap_minutes=minutes
        )

    assert v9.secondary_copresence_minutes == 240
    assert sec("household", "", 0) == "secondary"
    assert sec("vehicle", "", 0) == "secondary"
    assert sec("workplace", "", 0) == "secondary"
    assert sec("companion", "", 0) == "secondary"
    # 15 minutes at a restaurant with a close contact: close for a case, nothing here
    assert sec("co_presence", "restaurant", 15) is None
    assert sec("co_presence", "restaurant", 239) is None
    assert sec("co_presence", "restaurant", 240) == "secondary"
    assert sec("co_presence", "shop", 239) is None
    assert sec("co_presence", "shop", 240) == "secondary"
    assert sec("co_presence", "mall", 5000) is None
    with pytest.raises(DomainError):
        sec("co_presence", "restaurant", -1)


def test_secondary_copresence_sums_all_but_large_venues(v9: Protocol) -> None:
    assert rules.classify_secondary_venue_copresence(v9, [("restaurant", 15)]) is None
    assert rules.classify_secondary_venue_copresence(v9, [("restaurant", 240)]) == "secondary"
    # small and other venues summed together
    assert (
        rules.classify_secondary_venue_copresence(v9, [("restaurant", 120), ("office", 120)])
        == "secondary"
    )
    assert (
        rules.classify_secondary_venue_copresence(v9, [("restaurant", 120), ("office", 119)])
        is None
    )
    # large venues never count
    assert (
        rules.classify_secondary_venue_copresence(v9, [("restaurant", 120), ("mall", 900)]) is None
    )
    assert rules.secondary_minutes_floor(v9) == 240
    with pytest.raises(DomainError):
        rules.classify_secondary_venue_copresence(v9, [])


def test_a_local_override_of_the_secondary_minutes() -> None:
    lower = shipped_protocol("v9", secondary_copresence_minutes=15)
    assert (
        rules.classify_secondary_exposure(
            lower, exposure_kind="co_presence", venue_kind="restaurant", overlap_minutes=15
        )
        == "secondary"
    )
    assert rules.classify_secondary_venue_copresence(lower, [("restaurant", 15)]) == "secondary"
    assert rules.classify_secondary_venue_copresence(lower, [("mall", 900)]) is None
    assert rules.secondary_minutes_floor(lower) == 15


def test_several_stops_sum_by_venue_category(v9: Protocol) -> None:
    # 10 + 10 minutes at two small venues: 20 ≥ 15, close
    assert rules.classify_venue_copresence(v9, [("restaurant", 10), ("ktv", 10)]) == "close"
    # a long market visit never adds to a small venue's minutes
    assert (
        rules.classify_venue_copresence(v9, [("restaurant", 10), ("market", 600)]) == "co_presence"
    )
    # other venues summed against 240
    assert rules.classify_venue_copresence(v9, [("shop", 120), ("office", 120)]) == "close"
    assert rules.classify_venue_copresence(v9, [("shop", 120), ("", 119)]) == "co_presence"
    assert rules.venue_category_minutes(v9, [("mall", 5), ("gym", 3), ("x", 2)]) == {
        "small": 3,
        "large": 5,
        "other": 2,
    }
    assert rules.close_minutes_floor(v9) == 15
    with pytest.raises(DomainError):
        rules.classify_venue_copresence(v9, [])


def test_a_local_override_changes_the_classification() -> None:
    shorter = shipped_protocol("v9", small_venue_close_minutes=5)
    assert (
        rules.classify_exposure(
            shorter, exposure_kind="co_presence", venue_kind="restaurant", overlap_minutes=5
        )
        == "close"
    )
    # the market moved from the large to the small venues
    base = shipped_protocol("v9")
    moved = shipped_protocol(
        "v9",
        large_venue_kinds=[k for k in base.large_venue_kinds if k != "market"],
        small_venue_kinds=[*base.small_venue_kinds, "market"],
    )
    assert (
        rules.classify_exposure(
            moved, exposure_kind="co_presence", venue_kind="market", overlap_minutes=20
        )
        == "close"
    )
    # household taken off the always-close list: counted as any other exposure
    no_household = shipped_protocol("v9", always_close_exposure_kinds=["vehicle"])
    assert rules.classify_exposure(no_household, exposure_kind="household") == "co_presence"


@pytest.mark.parametrize("version", ["v8", "v9"])
def test_risk_person_3_days_2_tests(version: str) -> None:
    p = shipped_protocol(version)
    s = rules.risk_person_schedule(p, last_exposure_on=EXPOSED)
    assert s.monitoring_end.value == D(2022, 7, 4)  # end of day 3
    assert s.monitoring_end.rule == "risk_person.monitoring_end"
    assert values(s.tests) == [D(2022, 7, 2), D(2022, 7, 4)]  # days 1 and 3
    assert [t.rule for t in s.tests] == ["risk_person.test.1", "risk_person.test.3"]
    assert {d.ruleset_version for d in [s.monitoring_end, *s.tests]} == {version}


def test_risk_person_schedule_follows_the_rule_set() -> None:
    p = shipped_protocol("v9", risk_monitoring_days=7, risk_test_days=[1, 4, 7])
    s = rules.risk_person_schedule(p, last_exposure_on=EXPOSED)
    assert s.monitoring_end.value == D(2022, 7, 8)
    assert values(s.tests) == [D(2022, 7, 2), D(2022, 7, 5), D(2022, 7, 8)]


def test_a_venue_kind_in_both_lists_is_refused() -> None:
    with pytest.raises(DomainError) as exc:
        rules.validate_values(
            {"small_venue_kinds": ["restaurant", "market"], "large_venue_kinds": ["market"]}
        )
    assert exc.value.code == "invalid_value"
    ok = rules.validate_values(
        {"small_venue_kinds": ["restaurant", "market"], "large_venue_kinds": ["mall"]}
    )
    assert ok["small_venue_kinds"] == ["restaurant", "market"]
