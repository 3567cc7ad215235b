"""HTTP API of the protocol domain: rule sets, the rule set in force, computed dates.

Every computed date carries the rule set version and the rule that produced it. Dates are
ISO `YYYY-MM-DD`; a malformed date is refused with 422 `invalid_input`; a missing one
with 400 and a domain code (`lookback_needs_date`).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.utils import timezone
from ninja import Field, Query, Router, Schema

from fangkong.accounts.types import AuthedRequest
from fangkong.core.apitypes import Page, PageQuery
from fangkong.core.pagination import keyset_page
from fangkong.protocol import rules
from fangkong.protocol.models import RuleSet
from fangkong.protocol.selectors import (
    RULESET_ORDER,
    ruleset_get,
    ruleset_in_force,
    ruleset_list,
)

router = Router(tags=["protocol"])


class RuleSetOut(Schema):
    id: int
    version: str
    name: str
    effective_from: dt.date
    region: str
    based_on: str | None
    source: str
    contact_lookback_days: int
    close_centralised_days: int
    close_home_monitoring_days: int
    close_centralised_test_days: list[int]
    close_home_test_days: list[int]
    secondary_measure: str
    secondary_days: int
    secondary_test_days: list[int]
    sealed_downgrade_days: int
    controlled_downgrade_days: int
    controlled_after_sealed_days: int
    precaution_lift_days: int
    downgrade_requires_screening: bool
    pool_size_sealed: int
    pool_size_controlled: int
    pool_size_precaution: int
    case_core_facts_hours: int
    case_report_hours: int
    verification_push_hours: int
    round_deadline_hours: int
    recheck_hours: int
    samplers_per_population: int
    # Who is close: codes of tracing's exposure kinds and areas' venue kinds.
    always_close_exposure_kinds: list[str] = Field(
        ..., description="Exposure kinds that make a close contact whatever the minutes"
    )
    small_venue_kinds: list[str] = Field(
        ..., description="Venue kinds (small enclosed) where a short overlap makes a close contact"
    )
    small_venue_close_minutes: int
    large_venue_kinds: list[str] = Field(
        ..., description="Venue kinds where co-presence makes a risk person only"
    )
    venue_close_minutes: int = Field(
        ..., description="Summed minutes at other venues that make a close contact"
    )
    risk_monitoring_days: int
    risk_test_days: list[int]
    secondary_release_close_negatives: int
    secondary_copresence_minutes: int = Field(
        ...,
        description="Summed minutes of a close contact's co-presence (large venues aside) "
        "that make a secondary contact",
    )
    quarantine_rooms_per_10k: int
    health_checks_per_day: int
    rectification_hours: int
    town_report_hour: int = Field(
        ..., description="Hour of the day (0-23, local time) by which a town's daily report is due"
    )

    @staticmethod
    def resolve_based_on(obj: RuleSet) -> str | None:
        return obj.based_on.version if obj.based_on is not None else None


class ProtocolDateOut(Schema):
    value: dt.date
    ruleset_version: str
    rule: str


class ScheduleIn(Schema):
    kind: Literal["close", "secondary", "co_presence"]
    last_exposure_on: dt.date
    path: str = Field("", pattern=r"^\d{0,32}$")
    on: dt.date | None = Field(None, description="which day's rule set (default: today)")


class ScheduleOut(Schema):
    kind: str
    ruleset_id: int
    ruleset_version: str
    last_exposure_on: dt.date
    measure: str
    end: ProtocolDateOut
    tests: list[ProtocolDateOut]
    home_monitoring_end: ProtocolDateOut | None = None
    home_tests: list[ProtocolDateOut] = []


class LookbackIn(Schema):
    onset_on: dt.date | None = None
    first_positive_sampled_on: dt.date | None = None
    path: str = Field("", pattern=r"^\d{0,32}$")
    on: dt.date | None = None


class LookbackOut(Schema):
    ruleset_id: int
    ruleset_version: str
    start: ProtocolDateOut


def _date(d: rules.ProtocolDate) -> ProtocolDateOut:
    return ProtocolDateOut(value=d.value, ruleset_version=d.ruleset_version, rule=d.rule)


@router.get("/rulesets", summary="List rule sets", response=Page[RuleSetOut])
def rulesets(request: AuthedRequest, page: Query[PageQuery]) -> Page[RuleSetOut]:
    found = keyset_page(
        ruleset_list(actor=request.user), cursor=page.cursor, size=page.size, order=RULESET_ORDER
    )
    return Page[RuleSetOut].of(found, RuleSetOut.from_orm)


@router.get("/rulesets/{ruleset_id}", summary="Get a rule set", response=RuleSetOut)
def ruleset_detail(request: AuthedRequest, ruleset_id: int) -> RuleSet:
    return ruleset_get(actor=request.user, pk=ruleset_id)


@router.get(
    "/in-force", summary="Get the rule set in force on a date and place", response=RuleSetOut
)
def in_force(request: AuthedRequest, on: dt.date | None = None, path: str = "") -> RuleSet:
    return ruleset_in_force(actor=request.user, on_date=on or timezone.localdate(), path=path)


@router.post(
    "/schedule", summary="Compute a contact's quarantine and testing schedule", response=ScheduleOut
)
def schedule(request: AuthedRequest, payload: ScheduleIn) -> ScheduleOut:
    rs = ruleset_in_force(
        actor=request.user, on_date=payload.on or timezone.localdate(), path=payload.path
    )
    p = rules.Protocol.from_ruleset(rs)
    if payload.kind == "close":
        close = rules.close_contact_schedule(p, last_exposure_on=payload.last_exposure_on)
        return ScheduleOut(
            kind="close",
            ruleset_id=rs.pk,
            ruleset_version=rs.version,
            last_exposure_on=payload.last_exposure_on,
            measure="centralised",
            end=_date(close.centralised_end),
            tests=[_date(t) for t in close.centralised_tests],
            home_monitoring_end=_date(close.home_monitoring_end),
            home_tests=[_date(t) for t in close.home_tests],
        )
    if payload.kind == "co_presence":
        risk = rules.risk_person_schedule(p, last_exposure_on=payload.last_exposure_on)
        return ScheduleOut(
            kind="co_presence",
            ruleset_id=rs.pk,
            ruleset_version=rs.version,
            last_exposure_on=payload.last_exposure_on,
            measure="home_monitoring",
            end=_date(risk.monitoring_end),
            tests=[_date(t) for t in risk.tests],
        )
    secondary = rules.secondary_contact_schedule(p, last_exposure_on=payload.last_exposure_on)
    return ScheduleOut(
        kind="secondary",
        ruleset_id=rs.pk,
        ruleset_version=rs.version,
        last_exposure_on=payload.last_exposure_on,
        measure=secondary.measure,
        end=_date(secondary.end),
        tests=[_date(t) for t in secondary.tests],
    )


@router.post("/lookback", summary="Compute a case's look-back start date", response=LookbackOut)
def lookback(request: AuthedRequest, payload: LookbackIn) -> LookbackOut:
    rs = ruleset_in_force(
        actor=request.user, on_date=payload.on or timezone.localdate(), path=payload.path
    )
    start = rules.contact_lookback_start(
        rules.Protocol.from_ruleset(rs),
        onset_on=payload.onset_on,
        first_positive_sampled_on=payload.first_positive_sampled_on,
    )
    return LookbackOut(ruleset_id=rs.pk, ruleset_version=rs.version, start=_date(start))
