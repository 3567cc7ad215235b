"""Small factories for the contacts tests (cases are written by another part in parallel,
so Case rows are made here with the ORM; persons, places and scans likewise)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from zoneinfo import ZoneInfo

from fangkong.areas.models import Place
from fangkong.people import rules as people_rules
from fangkong.people.models import Household, Person
from fangkong.protocol.models import RuleSet
from fangkong.scans.services import scans_bulk_insert
from fangkong.tracing.models import Case, Investigation, ItineraryStop

TZ = ZoneInfo("Asia/Shanghai")
_seq = itertools.count(1)


def at(day: int, hour: int, minute: int = 0, month: int = 7) -> dt.datetime:
    """An aware moment in July 2022 (v9 in force), Asia/Shanghai."""
    return dt.datetime(2022, month, day, hour, minute, tzinfo=TZ)


def make_ric(seq: int, birth: str = "19900101", region: str = "330483") -> str:
    body = f"{region}{birth}{seq % 1000:03d}"
    return body + people_rules.ric_checksum(body)


def make_person(jurisdiction: Any, name: str = "张三", **extra: Any) -> Person:
    n = next(_seq)
    return Person.objects.create(
        name=name,
        name_initials=people_rules.name_initials(name),
        id_kind="none",
        jurisdiction=jurisdiction,
        jurisdiction_path=jurisdiction.path,
        id_masked="",
        phone_masked=f"138****{n:04d}"[-11:],
        **extra,
    )


def make_household(community: Any) -> Household:
    return Household.objects.create(
        address=f"测试地址{next(_seq)}号", community=community, jurisdiction_path=community.path
    )


def make_place(jurisdiction: Any, kind: str = "venue", name: str = "超市") -> Place:
    n = next(_seq)
    return Place.objects.create(
        kind=kind,
        name=f"{name}{n}",
        venue_code=f"TT{n:08d}",
        jurisdiction=jurisdiction,
        jurisdiction_path=jurisdiction.path,
    )


def scan(person: Person, place: Place, moment: dt.datetime) -> None:
    scans_bulk_insert(
        [(person.pk, place.pk, moment, moment.astimezone(TZ).date(), place.jurisdiction_path)]
    )


def ruleset(version: str) -> RuleSet:
    return RuleSet.objects.get(version=version)


def make_case(
    person: Person,
    *,
    version: str = "v9",
    sampled_on: dt.date = dt.date(2022, 7, 5),
    reported_at: dt.datetime | None = None,
) -> Case:
    rs = ruleset(version)
    reported = reported_at or dt.datetime.combine(sampled_on, dt.time(20, 0), tzinfo=TZ)
    return Case.objects.create(
        number=f"TEST-{next(_seq):05d}",
        person=person,
        jurisdiction_path=person.jurisdiction_path,
        kind="asymptomatic",
        first_positive_sampled_on=sampled_on,
        reported_at=reported,
        ruleset=rs,
        lookback_start=sampled_on - dt.timedelta(days=rs.contact_lookback_days),
        core_facts_due_at=reported + dt.timedelta(hours=4),
        report_due_at=reported + dt.timedelta(hours=24),
    )


def add_stop(
    case: Case,
    place: Place,
    start: dt.datetime,
    end: dt.datetime,
    *,
    confirmed: bool = True,
) -> ItineraryStop:
    investigation, _ = Investigation.objects.get_or_create(
        case=case, defaults={"started_at": case.reported_at}
    )
    return ItineraryStop.objects.create(
        investigation=investigation,
        place=place,
        start=start,
        end=end,
        source="scan",
        confirmed=confirmed,
    )
