"""The protocol's pure rules: date arithmetic, zone downgrades, pooling, deadlines.

Everything here takes values and returns values; no ORM. A `Protocol` is a frozen copy of
one rule set's values (`Protocol.from_ruleset(rs)`), and every date computed from it is a
`ProtocolDate` that says which rule set version and which rule produced it.

Counting convention (the national texts count "第N天" from the last exposure):

- day 1 is the day AFTER the last exposure; day k is `last_exposure_on + k days`;
- a period of N days ends at the end of day N, i.e. on `last_exposure_on + N days`
  (release the next morning);
- home health monitoring follows centralised quarantine without a gap: its day 1 is the
  day after the centralised end, so it ends on `last_exposure_on + N + M days`;
- a test on "day k" of a period is taken on that period's day k.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any, Final, Literal
from typing import Protocol as TypingProtocol

from fangkong.core.errors import DomainError

ZoneLevelName = Literal["sealed", "controlled", "precaution"]
# The zone levels (封控区 / 管控区 / 防范区), most severe first.
ZONE_LEVELS: Final[tuple[str, ...]] = ("sealed", "controlled", "precaution")
SECONDARY_MEASURES: Final[tuple[str, ...]] = ("centralised", "home")

DeadlineKind = Literal["case_core_facts", "case_report", "verification_push", "round", "recheck"]
DEADLINE_FIELDS: Final[dict[str, str]] = {
    "case_core_facts": "case_core_facts_hours",
    "case_report": "case_report_hours",
    "verification_push": "verification_push_hours",
    "round": "round_deadline_hours",
    "recheck": "recheck_hours",
}

# Rule names recorded with every computed date (stable strings).
RULE_LOOKBACK_SYMPTOMATIC: Final = "contact_lookback.onset"
RULE_LOOKBACK_ASYMPTOMATIC: Final = "contact_lookback.first_positive_sample"
RULE_CLOSE_CENTRALISED_END: Final = "close_contact.centralised_end"
RULE_CLOSE_HOME_END: Final = "close_contact.home_monitoring_end"
RULE_CLOSE_CENTRALISED_TEST: Final = "close_contact.centralised_test"
RULE_CLOSE_HOME_TEST: Final = "close_contact.home_test"
RULE_SECONDARY_END: Final = "secondary_contact.end"
RULE_SECONDARY_TEST: Final = "secondary_contact.test"
RULE_RISK_MONITORING_END: Final = "risk_person.monitoring_end"
RULE_RISK_TEST: Final = "risk_person.test"
RULE_TOWN_REPORT_DUE: Final = "deadline.town_report"

# The classifications the "who is close" rules answer (tracing's ContactClass values).
CLASS_CLOSE: Final = "close"
CLASS_SECONDARY: Final = "secondary"
CLASS_CO_PRESENCE: Final = "co_presence"
# The exposure kind of venue co-presence (tracing's ExposureKind value).
EXPOSURE_CO_PRESENCE: Final = "co_presence"


@dataclass(frozen=True)
class Protocol:
    """The values of one rule set, detached from the database."""

    version: str
    contact_lookback_days: int
    close_centralised_days: int
    close_home_monitoring_days: int
    close_centralised_test_days: tuple[int, ...]
    close_home_test_days: tuple[int, ...]
    secondary_measure: str
    secondary_days: int
    secondary_test_days: tuple[int, ...]
    sealed_downgrade_days: int
    controlled_downgrade_days: int
    controlled_after_sealed_days: int = 0
    precaution_lift_days: int = 0
    downgrade_requires_screening: bool = False
    pool_size_sealed: int = 1
    pool_size_controlled: int = 10
    pool_size_precaution: int = 20
    case_core_facts_hours: int = 4
    case_report_hours: int = 24
    verification_push_hours: int = 24
    round_deadline_hours: int = 24
    recheck_hours: int = 6
    samplers_per_population: int = 360
    always_close_exposure_kinds: tuple[str, ...] = (
        "household",
        "vehicle",
        "workplace",
        "companion",
    )
    small_venue_kinds: tuple[str, ...] = (
        "restaurant",
        "ktv",
        "internet_bar",
        "gym",
        "clinic",
        "chess_room",
    )
    small_venue_close_minutes: int = 15
    large_venue_kinds: tuple[str, ...] = (
        "market",
        "mall",
        "supermarket",
        "station",
        "hospital_hall",
        "scenic_area",
    )
    venue_close_minutes: int = 240
    risk_monitoring_days: int = 3
    risk_test_days: tuple[int, ...] = (1, 3)
    secondary_release_close_negatives: int = 0
    secondary_copresence_minutes: int = 240
    quarantine_rooms_per_10k: int = 20
    health_checks_per_day: int = 2
    rectification_hours: int = 24
    town_report_hour: int = 18

    @classmethod
    def from_ruleset(cls, rs: Any) -> Protocol:
        """Copy a RuleSet row's values (attribute reads only)."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            # A field with a default may be absent from plain value holders (tests).
            value = getattr(rs, f.name) if f.default is MISSING else getattr(rs, f.name, f.default)
            if f.name in TEST_DAY_FIELDS:
                value = tuple(int(d) for d in value)
            elif f.name in KIND_LIST_FIELDS:
                value = tuple(str(k) for k in value)
            values[f.name] = value
        return cls(**values)


RULE_VALUE_FIELDS: Final[tuple[str, ...]] = tuple(
    f.name for f in fields(Protocol) if f.name != "version"
)
TEST_DAY_FIELDS: Final[dict[str, str]] = {
    # test-day field -> the period length it must fit in
    "close_centralised_test_days": "close_centralised_days",
    "close_home_test_days": "close_home_monitoring_days",
    "secondary_test_days": "secondary_days",
    "risk_test_days": "risk_monitoring_days",
}
# Lists of vocabulary codes (exposure kinds, venue kinds) kept by rule sets.
KIND_LIST_FIELDS: Final[frozenset[str]] = frozenset(
    {"always_close_exposure_kinds", "small_venue_kinds", "large_venue_kinds"}
)
_KIND_CODE = re.compile(r"^[a-z][a-z_]{0,31}$")
# Day counts that must be at least 1; the others may be 0 (0 = "none" / "same as").
POSITIVE_FIELDS: Final[frozenset[str]] = frozenset(
    {
        "contact_lookback_days",
        "close_centralised_days",
        "secondary_days",
        "sealed_downgrade_days",
        "controlled_downgrade_days",
        "pool_size_sealed",
        "pool_size_controlled",
        "pool_size_precaution",
        "case_core_facts_hours",
        "case_report_hours",
        "verification_push_hours",
        "round_deadline_hours",
        "recheck_hours",
        "samplers_per_population",
        "quarantine_rooms_per_10k",
        "health_checks_per_day",
        "rectification_hours",
        "secondary_copresence_minutes",
    }
)
# Hours of the day (0-23, local time).
HOUR_OF_DAY_FIELDS: Final[frozenset[str]] = frozenset({"town_report_hour"})
BOOLEAN_FIELDS: Final[frozenset[str]] = frozenset({"downgrade_requires_screening"})
MAX_DAYS: Final = 366


@dataclass(frozen=True)
class ProtocolDate:
    """A date computed by the protocol, with the rule set version and rule behind it."""

    value: dt.date
    ruleset_version: str
    rule: str


@dataclass(frozen=True)
class ProtocolDeadline:
    """A deadline (aware datetime) computed by the protocol."""

    value: dt.datetime
    ruleset_version: str
    rule: str


@dataclass(frozen=True)
class CloseContactSchedule:
    last_exposure_on: dt.date
    centralised_end: ProtocolDate
    home_monitoring_end: ProtocolDate
    centralised_tests: tuple[ProtocolDate, ...]
    home_tests: tuple[ProtocolDate, ...]


@dataclass(frozen=True)
class SecondaryContactSchedule:
    last_exposure_on: dt.date
    measure: str
    end: ProtocolDate
    tests: tuple[ProtocolDate, ...]


@dataclass(frozen=True)
class RiskPersonSchedule:
    """Home health monitoring of a co-presence risk person (时空伴随者), with its tests."""

    last_exposure_on: dt.date
    monitoring_end: ProtocolDate
    tests: tuple[ProtocolDate, ...]


@dataclass(frozen=True)
class Eligibility:
    ok: bool
    reason_code: str


# --- validation -----------------------------------------------------------------------


def _invalid(field: str, message: str, value: object) -> DomainError:
    return DomainError("invalid_value", message, field=field, value=repr(value))


def _as_int(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(field, f"{field} 必须是整数", value)
    if value < 0 or value > 100000:
        raise _invalid(field, f"{field} 不能为负数或过大", value)
    return value


def _kind_list(field: str, value: object) -> list[str]:
    """A list of distinct vocabulary codes (lower-case letters and underscores)."""
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        raise _invalid(field, f"{field} 必须是类型代码列表", value)
    if any(not _KIND_CODE.match(k) for k in value):
        raise _invalid(field, f"{field} 的类型代码只能是小写字母和下划线", value)
    if len(set(value)) != len(value):
        raise _invalid(field, f"{field} 的类型代码不能重复", value)
    return list(value)


def validate_values(values: Mapping[str, object]) -> dict[str, object]:
    """Check a complete set of rule values; return them normalised (test days sorted lists).

    Raises DomainError `unknown_field` for a name that is not a rule value and
    `invalid_value` for: a negative or non-integer number, zero where at least 1 is
    needed, a secondary measure other than centralised/home, test days that are not a
    list of distinct positive integers, or a test day beyond its period.
    """
    unknown = sorted(set(values) - set(RULE_VALUE_FIELDS))
    if unknown:
        raise DomainError("unknown_field", f"未知的规则字段：{', '.join(unknown)}", fields=unknown)
    out: dict[str, object] = {}
    for name, value in values.items():
        if name in TEST_DAY_FIELDS:
            continue
        if name in KIND_LIST_FIELDS:
            out[name] = _kind_list(name, value)
        elif name in BOOLEAN_FIELDS:
            if not isinstance(value, bool):
                raise _invalid(name, f"{name} 必须是布尔值", value)
            out[name] = value
        elif name == "secondary_measure":
            if value not in SECONDARY_MEASURES:
                raise _invalid(name, "次密接措施必须是 centralised 或 home", value)
            out[name] = value
        else:
            number = _as_int(name, value)
            if name in POSITIVE_FIELDS and number < 1:
                raise _invalid(name, f"{name} 必须至少为 1", value)
            if name.endswith("_days") and number > MAX_DAYS:
                raise _invalid(name, f"{name} 不能超过 {MAX_DAYS} 天", value)
            if name in HOUR_OF_DAY_FIELDS and number > 23:
                raise _invalid(name, f"{name} 须为 0 到 23 之间的整点", value)
            out[name] = number
    for name, period_field in TEST_DAY_FIELDS.items():
        if name not in values:
            continue
        raw = values[name]
        if isinstance(raw, tuple):
            raw = list(raw)
        if not isinstance(raw, list):
            raise _invalid(name, f"{name} 必须是天数列表", raw)
        days = [_as_int(name, d) for d in raw]
        if any(d < 1 for d in days):
            raise _invalid(name, f"{name} 的检测日必须为正整数", raw)
        if len(set(days)) != len(days):
            raise _invalid(name, f"{name} 的检测日不能重复", raw)
        period = out.get(period_field)
        if isinstance(period, int) and any(d > period for d in days):
            raise _invalid(name, f"{name} 的检测日超出了 {period} 天的期限", raw)
        out[name] = sorted(days)
    small, large = out.get("small_venue_kinds"), out.get("large_venue_kinds")
    if isinstance(small, list) and isinstance(large, list):
        both = sorted(set(small) & set(large))
        if both:
            raise _invalid(
                "large_venue_kinds",
                f"场所类型不能同时属于密闭小场所和大型场所：{', '.join(both)}",
                both,
            )
    return out


# --- contacts -------------------------------------------------------------------------


def contact_lookback_start(
    p: Protocol,
    *,
    onset_on: dt.date | None = None,
    first_positive_sampled_on: dt.date | None = None,
) -> ProtocolDate:
    """First day of the contact look-back window.

    Symptomatic case: `contact_lookback_days` before symptom onset. Asymptomatic
    infection: that many days before the sampling date of the first positive sample.
    When both are given the onset wins (the case is symptomatic).
    """
    if onset_on is not None:
        return ProtocolDate(
            onset_on - dt.timedelta(days=p.contact_lookback_days),
            p.version,
            RULE_LOOKBACK_SYMPTOMATIC,
        )
    if first_positive_sampled_on is not None:
        return ProtocolDate(
            first_positive_sampled_on - dt.timedelta(days=p.contact_lookback_days),
            p.version,
            RULE_LOOKBACK_ASYMPTOMATIC,
        )
    raise DomainError(
        "lookback_needs_date",
        "需要发病日期（有症状）或首次阳性采样日期（无症状）",
    )


def _day(start: dt.date, k: int) -> dt.date:
    return start + dt.timedelta(days=k)


def close_contact_schedule(p: Protocol, *, last_exposure_on: dt.date) -> CloseContactSchedule:
    """Centralised quarantine then home health monitoring of a close contact.

    Day 1 is the day after the last exposure; centralised quarantine ends at the end of
    day N (`last_exposure_on + N`); home monitoring days 1..M follow, ending on
    `last_exposure_on + N + M`. Centralised test day k is `last_exposure_on + k`; home
    test day k is `centralised_end + k`.
    """
    centralised_end = _day(last_exposure_on, p.close_centralised_days)
    home_end = _day(centralised_end, p.close_home_monitoring_days)
    return CloseContactSchedule(
        last_exposure_on=last_exposure_on,
        centralised_end=ProtocolDate(centralised_end, p.version, RULE_CLOSE_CENTRALISED_END),
        home_monitoring_end=ProtocolDate(home_end, p.version, RULE_CLOSE_HOME_END),
        centralised_tests=tuple(
            ProtocolDate(_day(last_exposure_on, k), p.version, f"{RULE_CLOSE_CENTRALISED_TEST}.{k}")
            for k in sorted(p.close_centralised_test_days)
        ),
        home_tests=tuple(
            ProtocolDate(_day(centralised_end, k), p.version, f"{RULE_CLOSE_HOME_TEST}.{k}")
            for k in sorted(p.close_home_test_days)
        ),
    )


def secondary_contact_schedule(
    p: Protocol, *, last_exposure_on: dt.date
) -> SecondaryContactSchedule:
    """Quarantine (centralised or at home, per the rule set) of a secondary contact,
    counted like the close contact's: day 1 is the day after the last exposure."""
    return SecondaryContactSchedule(
        last_exposure_on=last_exposure_on,
        measure=p.secondary_measure,
        end=ProtocolDate(_day(last_exposure_on, p.secondary_days), p.version, RULE_SECONDARY_END),
        tests=tuple(
            ProtocolDate(_day(last_exposure_on, k), p.version, f"{RULE_SECONDARY_TEST}.{k}")
            for k in sorted(p.secondary_test_days)
        ),
    )


def latest_exposure(exposures: Iterable[dt.date]) -> dt.date:
    """The last exposure among several: every period is counted from it."""
    dates = list(exposures)
    if not dates:
        raise DomainError("exposure_needs_date", "至少需要一个暴露日期")
    return max(dates)


# --- who is close -----------------------------------------------------------------------


def classify_exposure(
    p: Protocol, *, exposure_kind: str, venue_kind: str = "", overlap_minutes: int = 0
) -> str:
    """Close contact ("close") or co-presence risk person ("co_presence") of a case.

    - an exposure kind in `always_close_exposure_kinds` (household, same vehicle trip,
      shared room at work or school, companion) makes a close contact whatever the minutes;
    - venue co-presence at a kind in `small_venue_kinds` (small enclosed venues) makes
      one from `small_venue_close_minutes` of overlap, a risk person below;
    - at a kind in `large_venue_kinds` (markets, malls, stations, hospital halls) it makes
      a risk person whatever the minutes;
    - at any other venue, one from `venue_close_minutes` (summed) minutes, a risk person
      below.
    """
    if overlap_minutes < 0:
        raise DomainError("invalid_value", "重叠分钟不能为负", field="overlap_minutes")
    if exposure_kind in p.always_close_exposure_kinds:
        return CLASS_CLOSE
    if venue_kind and venue_kind in p.small_venue_kinds:
        threshold = p.small_venue_close_minutes
    elif venue_kind and venue_kind in p.large_venue_kinds:
        return CLASS_CO_PRESENCE
    else:
        threshold = p.venue_close_minutes
    return CLASS_CLOSE if overlap_minutes >= threshold else CLASS_CO_PRESENCE


def classify_secondary_exposure(
    p: Protocol, *, exposure_kind: str, venue_kind: str = "", overlap_minutes: int = 0
) -> str | None:
    """A close contact's own exposure of someone: secondary contact ("secondary") or
    nothing (None; no risk persons of contacts).

    - an exposure kind in `always_close_exposure_kinds` (household, same vehicle trip,
      shared room at work or school, companion) makes a secondary contact whatever the
      minutes (shared living, work, meals: the protocol's sense of 密接的密接);
    - venue co-presence at a kind in `large_venue_kinds` makes nothing;
    - co-presence at any other venue, small enclosed ones included, makes one only from
      `secondary_copresence_minutes` of overlap: a short meal beside a close contact is
      not shared living.
    """
    if overlap_minutes < 0:
        raise DomainError("invalid_value", "重叠分钟不能为负", field="overlap_minutes")
    if exposure_kind in p.always_close_exposure_kinds:
        return CLASS_SECONDARY
    if venue_kind and venue_kind in p.large_venue_kinds:
        return None
    return CLASS_SECONDARY if overlap_minutes >= p.secondary_copresence_minutes else None


def venue_category_minutes(p: Protocol, venue_minutes: Iterable[tuple[str, int]]) -> dict[str, int]:
    """(venue kind, minutes) pairs of one person's co-presence summed by category:
    "small" (small enclosed venues), "large" (large venues), "other"."""
    totals = {"small": 0, "large": 0, "other": 0}
    for kind, minutes in venue_minutes:
        if kind and kind in p.small_venue_kinds:
            totals["small"] += minutes
        elif kind and kind in p.large_venue_kinds:
            totals["large"] += minutes
        else:
            totals["other"] += minutes
    return totals


def _venue_classes(p: Protocol, venue_minutes: Iterable[tuple[str, int]]) -> list[str]:
    pairs = list(venue_minutes)
    if not pairs:
        raise DomainError("exposure_needs_venue", "至少需要一个场所")
    totals = venue_category_minutes(p, pairs)
    representative: dict[str, str] = {}
    for kind, _minutes in pairs:
        if kind and kind in p.small_venue_kinds:
            representative.setdefault("small", kind)
        elif kind and kind in p.large_venue_kinds:
            representative.setdefault("large", kind)
        else:
            representative.setdefault("other", kind)
    return [
        classify_exposure(
            p,
            exposure_kind=EXPOSURE_CO_PRESENCE,
            venue_kind=representative[category],
            overlap_minutes=totals[category],
        )
        for category in ("small", "large", "other")
        if category in representative
    ]


def classify_venue_copresence(p: Protocol, venue_minutes: Iterable[tuple[str, int]]) -> str:
    """One person's co-presence with a case over several stops: the minutes at small
    enclosed venues summed against `small_venue_close_minutes`, those at other venues
    summed against `venue_close_minutes`, large venues never close. Close when either
    reaches its threshold, else a co-presence risk person."""
    classes = _venue_classes(p, venue_minutes)
    return CLASS_CLOSE if CLASS_CLOSE in classes else CLASS_CO_PRESENCE


def classify_secondary_venue_copresence(
    p: Protocol, venue_minutes: Iterable[tuple[str, int]]
) -> str | None:
    """A close contact's co-presence with someone over several stops: a secondary
    contact when the minutes at all venues but large ones, summed, reach
    `secondary_copresence_minutes`; else nothing (large venues never count)."""
    pairs = list(venue_minutes)
    if not pairs:
        raise DomainError("exposure_needs_venue", "至少需要一个场所")
    totals = venue_category_minutes(p, pairs)
    summed = totals["small"] + totals["other"]
    return CLASS_SECONDARY if summed >= p.secondary_copresence_minutes else None


def close_minutes_floor(p: Protocol) -> int:
    """The fewest summed venue minutes that can make anyone close under `p` (a bound
    to drop a crowd before classifying it: below it, no venue makes a close contact)."""
    return min(p.small_venue_close_minutes, p.venue_close_minutes)


def secondary_minutes_floor(p: Protocol) -> int:
    """The fewest summed venue minutes with a close contact that can make anyone a
    secondary contact under `p` (the same kind of bound for a close contact's crowd)."""
    return p.secondary_copresence_minutes


def risk_person_schedule(p: Protocol, *, last_exposure_on: dt.date) -> RiskPersonSchedule:
    """Home health monitoring of a co-presence risk person ("3 days 2 tests"): day 1 is
    the day after the last exposure, monitoring ends on `last_exposure_on +
    risk_monitoring_days`, test day k is `last_exposure_on + k`."""
    return RiskPersonSchedule(
        last_exposure_on=last_exposure_on,
        monitoring_end=ProtocolDate(
            _day(last_exposure_on, p.risk_monitoring_days), p.version, RULE_RISK_MONITORING_END
        ),
        tests=tuple(
            ProtocolDate(_day(last_exposure_on, k), p.version, f"{RULE_RISK_TEST}.{k}")
            for k in sorted(p.risk_test_days)
        ),
    )


# --- zones ----------------------------------------------------------------------------

SEALED: Final = "sealed"
CONTROLLED: Final = "controlled"
PRECAUTION: Final = "precaution"
# Most severe first; the severity ranks them (0: outside every zone).
ZONE_SEVERITY: Final[dict[str, int]] = {SEALED: 3, CONTROLLED: 2, PRECAUTION: 1}

# Reason codes of the zone checks (stable: services put them in error details).
OK: Final = "ok"
REASON_LEVEL_LOWEST: Final = "level_lowest"
REASON_NOT_PRECAUTION: Final = "not_precaution"
REASON_NOT_ENOUGH_DAYS: Final = "not_enough_days"
REASON_SCREENING_MISSING: Final = "screening_missing"
REASON_SCREENING_NOT_ON_DATE: Final = "screening_not_on_date"
REASON_CHILDREN_ACTIVE: Final = "zone_children_active"


class ZoneLevelInvalid(DomainError, ValueError):
    """A zone level that is none of ZONE_LEVELS."""

    def __init__(self, level: object) -> None:
        super().__init__("invalid_zone_level", "未知的风险区等级", level=str(level))


class ZoneRuleValues(TypingProtocol):
    """The values the zone rules read: a `Protocol` or a RuleSet row."""

    @property
    def sealed_downgrade_days(self) -> int: ...
    @property
    def controlled_downgrade_days(self) -> int: ...
    @property
    def controlled_after_sealed_days(self) -> int: ...
    @property
    def precaution_lift_days(self) -> int: ...
    @property
    def downgrade_requires_screening(self) -> bool: ...


def check_zone_level(level: str) -> str:
    if level not in ZONE_SEVERITY:
        raise ZoneLevelInvalid(level)
    return level


def is_more_severe(a: str, b: str) -> bool:
    """True when zone level `a` is strictly more severe than level `b`."""
    return ZONE_SEVERITY[check_zone_level(a)] > ZONE_SEVERITY[check_zone_level(b)]


def most_severe(levels: Iterable[str]) -> str | None:
    """The most severe of `levels`, or None when there are none."""
    best: str | None = None
    for level in levels:
        if best is None or is_more_severe(level, best):
            best = level
    return best


def next_lower_level(level: str) -> str | None:
    """sealed → controlled → precaution → None (None means: the next step is a lift)."""
    index = ZONE_LEVELS.index(check_zone_level(level))
    return ZONE_LEVELS[index + 1] if index + 1 < len(ZONE_LEVELS) else None


def _short_step(p: ZoneRuleValues, level: str, downgraded_from_sealed: bool) -> bool:
    """A controlled zone that came down from sealed, under a rule set with a shorter count
    for it (v9: "此后连续3天无新增感染者降为低风险区", no screening named)."""
    return (
        level == CONTROLLED and downgraded_from_sealed and int(p.controlled_after_sealed_days) > 0
    )


def zone_downgrade_days(
    p: ZoneRuleValues, level: str, *, downgraded_from_sealed: bool = False
) -> int:
    """Consecutive days without a new infection before a zone of `level` steps down.

    sealed → controlled after `sealed_downgrade_days`; controlled → precaution after
    `controlled_downgrade_days`, or after `controlled_after_sealed_days` when the zone was
    itself downgraded from sealed and that value is set (v9: 3); precaution lifts after
    `precaution_lift_days` (0: it lifts together with the zones it surrounds).
    """
    level = check_zone_level(level)
    if level == SEALED:
        return int(p.sealed_downgrade_days)
    if level == CONTROLLED:
        if _short_step(p, level, downgraded_from_sealed):
            return int(p.controlled_after_sealed_days)
        return int(p.controlled_downgrade_days)
    return int(p.precaution_lift_days)


def zone_screening_required(
    p: ZoneRuleValues, level: str, *, downgraded_from_sealed: bool = False
) -> bool:
    """Does a downgrade from `level` need the all-negative screening on its last day?
    (v9 asks it, except for the short step of a controlled zone come down from sealed.)"""
    return bool(p.downgrade_requires_screening) and not _short_step(
        p, check_zone_level(level), downgraded_from_sealed
    )


def zone_downgrade_eligible(
    p: ZoneRuleValues,
    *,
    level: str,
    no_case_days: int,
    last_negative_screening_on: dt.date | None,
    on_date: dt.date,
    downgraded_from_sealed: bool = False,
) -> Eligibility:
    """May a zone step down one level on `on_date`?

    Only when its run of consecutive no-case days (`no_case_days`, `on_date` its last
    day) has reached `zone_downgrade_days` AND, when `zone_screening_required`, an
    all-negative full screening was recorded on `on_date` itself. A precaution zone is
    never downgraded: it is lifted (`zone_lift_eligible`).

    Reason codes: `ok`, `level_lowest`, `not_enough_days`, `screening_missing`,
    `screening_not_on_date`.
    """
    if no_case_days < 0:
        raise DomainError("invalid_value", "无新增天数不能为负", field="no_case_days")
    if check_zone_level(level) == PRECAUTION:
        return Eligibility(False, REASON_LEVEL_LOWEST)
    needed = zone_downgrade_days(p, level, downgraded_from_sealed=downgraded_from_sealed)
    if no_case_days < needed:
        return Eligibility(False, REASON_NOT_ENOUGH_DAYS)
    if not zone_screening_required(p, level, downgraded_from_sealed=downgraded_from_sealed):
        return Eligibility(True, OK)
    if last_negative_screening_on is None:
        return Eligibility(False, REASON_SCREENING_MISSING)
    if last_negative_screening_on != on_date:
        return Eligibility(False, REASON_SCREENING_NOT_ON_DATE)
    return Eligibility(True, OK)


def zone_lift_eligible(
    p: ZoneRuleValues, *, level: str, no_case_days: int, active_children: int
) -> Eligibility:
    """May a zone be lifted? Only a precaution zone, once its own run of no-case days has
    reached `precaution_lift_days` (which may be 0) and every child zone is lifted.

    Reason codes: `ok`, `not_precaution`, `not_enough_days`, `zone_children_active`.
    """
    if check_zone_level(level) != PRECAUTION:
        return Eligibility(False, REASON_NOT_PRECAUTION)
    if no_case_days < zone_downgrade_days(p, level):
        return Eligibility(False, REASON_NOT_ENOUGH_DAYS)
    if active_children > 0:
        return Eligibility(False, REASON_CHILDREN_ACTIVE)
    return Eligibility(True, OK)


# --- mass testing ---------------------------------------------------------------------


def pool_size_for(p: Protocol, zone_level: str | None) -> int:
    """Tubes pool this many people (1 = single tube). Outside any zone (None or "") the
    precaution pooling applies."""
    if zone_level is None or zone_level == "":
        return p.pool_size_precaution
    level = check_zone_level(zone_level)
    if level == SEALED:
        return p.pool_size_sealed
    if level == CONTROLLED:
        return p.pool_size_controlled
    return p.pool_size_precaution


def samplers_needed(p: Protocol, population: int) -> int:
    """Samplers needed to sample `population` people in one round."""
    if isinstance(population, bool) or not isinstance(population, int) or population < 0:
        raise DomainError("invalid_value", "人口数必须是非负整数", field="population")
    return math.ceil(population / p.samplers_per_population)


# --- deadlines ------------------------------------------------------------------------


def deadline_after(p: Protocol, start: dt.datetime, kind: str) -> ProtocolDeadline:
    """The deadline of `kind` counted in hours from `start` (an aware datetime)."""
    if start.tzinfo is None or start.utcoffset() is None:
        raise DomainError("naive_datetime", "时间必须带时区", field="start")
    field = DEADLINE_FIELDS.get(kind)
    if field is None:
        raise DomainError("invalid_deadline_kind", "未知的时限类型", kind=kind)
    hours: int = getattr(p, field)
    return ProtocolDeadline(start + dt.timedelta(hours=hours), p.version, f"deadline.{kind}")


def town_report_deadline(p: Protocol, day: dt.date, tz: dt.tzinfo) -> ProtocolDeadline:
    """When a town's daily report for `day` is due: `town_report_hour` o'clock of that
    day in the local time zone `tz` (Asia/Shanghai). A report missing then is overdue;
    one submitted after it is late."""
    moment = dt.datetime.combine(day, dt.time(p.town_report_hour), tzinfo=tz)
    return ProtocolDeadline(moment, p.version, RULE_TOWN_REPORT_DUE)


# --- release --------------------------------------------------------------------------

RELEASE_OK: Final = "ok"
RELEASE_NOT_DUE: Final = "not_due"
RELEASE_TEST_POSITIVE: Final = "test_positive"
RELEASE_TEST_MISSING: Final = "test_missing"
RELEASE_TEST_PENDING: Final = "test_pending"
RELEASE_CLOSE_PENDING: Final = "close_contact_tests_pending"

# The test results a stay's test may have (quarantine.choices.TestResult's values).
RESULT_PENDING: Final = "pending"
RESULT_NEGATIVE: Final = "negative"
RESULT_POSITIVE: Final = "positive"
RESULT_INVALID: Final = "invalid"


@dataclass(frozen=True)
class StayTest:
    """One test of a stay as the release rule sees it: due on a day (scheduled) or not
    (urgent), taken or not, and its result ("pending", "negative", "positive",
    "invalid")."""

    due_on: dt.date | None
    taken: bool
    result: str


def release_eligible(
    p: Protocol,
    *,
    today: dt.date,
    end_on: dt.date,
    tests: Iterable[StayTest],
    close_contact_results: Iterable[str] | None = None,
) -> Eligibility:
    """May a person be released from quarantine today?

    Only from the end date on, when every scheduled test due up to the end was taken
    and is negative (an urgent test too, once taken), and, for a secondary contact
    (`close_contact_results` given: its close contact's test results in the order they
    were due), when that contact's first `secondary_release_close_negatives` results are
    negative (v9: 2; v8: 0, no wait).

    Reason codes, first that applies: `not_due`, `test_positive`, `test_missing` (also
    an invalid result: the test is to be taken again), `test_pending`,
    `close_contact_tests_pending`.
    """
    if today < end_on:
        return Eligibility(False, RELEASE_NOT_DUE)
    relevant = [t for t in tests if t.taken or (t.due_on is not None and t.due_on <= end_on)]
    if any(t.taken and t.result == RESULT_POSITIVE for t in relevant):
        return Eligibility(False, RELEASE_TEST_POSITIVE)
    if any(not t.taken or t.result == RESULT_INVALID for t in relevant):
        return Eligibility(False, RELEASE_TEST_MISSING)
    if any(t.result != RESULT_NEGATIVE for t in relevant):
        return Eligibility(False, RELEASE_TEST_PENDING)
    if close_contact_results is not None:
        needed = p.secondary_release_close_negatives
        first = list(close_contact_results)[:needed]
        if len(first) < needed or any(r != RESULT_NEGATIVE for r in first):
            return Eligibility(False, RELEASE_CLOSE_PENDING)
    return Eligibility(True, RELEASE_OK)


# --- quarantine placements ------------------------------------------------------------

RULE_SECONDARY_CLOSE_END: Final = "secondary_contact.monitoring_end"
RULE_PLACEMENT_START: Final = "placement.start"
# The measures a placement may take (quarantine.choices.Measure values).
MEASURE_CENTRALISED: Final = "centralised"
MEASURE_HOME: Final = "home"
MEASURE_MONITORING: Final = "monitoring"


@dataclass(frozen=True)
class PlacementSchedule:
    """What a placement keeps: its measure, its dates and the tests of its stay.

    `quarantine_end_on` ends the measure at the site or at home (None for home health
    monitoring alone); `monitoring_end_on` ends the home health monitoring that follows
    (equal to the quarantine end when nothing follows). `tests` are the tests due during
    this measure on or after `start_on`; `monitoring_tests` those of the home monitoring
    that follows a centralised quarantine (the next placement's)."""

    classification: str
    measure: str
    start_on: dt.date
    last_exposure_on: dt.date
    quarantine_end_on: ProtocolDate | None
    monitoring_end_on: ProtocolDate
    tests: tuple[ProtocolDate, ...]
    monitoring_tests: tuple[ProtocolDate, ...] = ()


def _from_start(tests: Iterable[ProtocolDate], start_on: dt.date) -> tuple[ProtocolDate, ...]:
    return tuple(t for t in tests if t.value >= start_on)


def placement_schedule(
    p: Protocol,
    *,
    classification: str,
    last_exposure_on: dt.date | None,
    start_on: dt.date,
) -> PlacementSchedule:
    """The measure and dates of a placement, counted from the last exposure (day 1 is the
    day after it; without a known exposure, the day before `start_on` stands for it).

    - close contact: centralised quarantine for `close_centralised_days`, then home
      health monitoring for `close_home_monitoring_days`;
    - secondary contact: `secondary_measure` (centralised or at home) for
      `secondary_days`;
    - co-presence risk person (时空伴随者): home health monitoring for
      `risk_monitoring_days` with tests on `risk_test_days` ("3天2检");
    - anyone else (arrivals, zone residents): counted like a close contact.

    Tests whose day fell before `start_on` cannot be taken any more and are left out. A
    last exposure after the start (exposed again during the stay, e.g. by a household
    member in the same room) counts the periods from that exposure.
    """
    exposure = last_exposure_on if last_exposure_on is not None else start_on - dt.timedelta(1)
    if classification == "secondary":
        sec = secondary_contact_schedule(p, last_exposure_on=exposure)
        return PlacementSchedule(
            classification=classification,
            measure=sec.measure,
            start_on=start_on,
            last_exposure_on=exposure,
            quarantine_end_on=sec.end,
            monitoring_end_on=ProtocolDate(sec.end.value, p.version, RULE_SECONDARY_CLOSE_END),
            tests=_from_start(sec.tests, start_on),
        )
    if classification == "co_presence":
        end = ProtocolDate(
            _day(exposure, p.risk_monitoring_days), p.version, RULE_RISK_MONITORING_END
        )
        tests = tuple(
            ProtocolDate(_day(exposure, k), p.version, f"{RULE_RISK_TEST}.{k}")
            for k in sorted(p.risk_test_days)
        )
        return PlacementSchedule(
            classification=classification,
            measure=MEASURE_MONITORING,
            start_on=start_on,
            last_exposure_on=exposure,
            quarantine_end_on=None,
            monitoring_end_on=end,
            tests=_from_start(tests, start_on),
        )
    close = close_contact_schedule(p, last_exposure_on=exposure)
    return PlacementSchedule(
        classification=classification,
        measure=MEASURE_CENTRALISED,
        start_on=start_on,
        last_exposure_on=exposure,
        quarantine_end_on=close.centralised_end,
        monitoring_end_on=close.home_monitoring_end,
        tests=_from_start(close.centralised_tests, start_on),
        monitoring_tests=_from_start(close.home_tests, start_on),
    )
