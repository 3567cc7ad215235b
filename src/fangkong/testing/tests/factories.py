"""Small factories for the mass-testing tests. The parts of this app (rounds, sampling,
labs, coverage) are built in parallel, so tests that need a round, a point, tubes or
samples make them here with the ORM instead of waiting for another part's service.
Prefer the part's own service in tests of that part."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from fangkong.areas.models import Place
from fangkong.people import rules as people_rules
from fangkong.people.models import Household, Person
from fangkong.protocol.models import RuleSet
from fangkong.testing.models import (
    Round,
    RoundScope,
    RoundStatus,
    RoundTarget,
    Sample,
    SamplingPoint,
    Tube,
    TubeState,
)

TZ = ZoneInfo("Asia/Shanghai")
_seq = itertools.count(1)


def at(day: int, hour: int, minute: int = 0, month: int = 7) -> dt.datetime:
    """An aware moment in July 2022 (v9 in force), Asia/Shanghai."""
    return dt.datetime(2022, month, day, hour, minute, tzinfo=TZ)


def make_ric(seq: int | None = None, birth: str = "19900101", region: str = "330483") -> str:
    """A valid-format resident ID number (身份证号) with a correct checksum."""
    n = next(_seq) if seq is None else seq
    body = f"{region}{birth}{n % 1000:03d}"
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


def make_place(jurisdiction: Any, kind: str, name: str = "点位") -> Place:
    n = next(_seq)
    return Place.objects.create(
        kind=kind,
        name=f"{name}{n}",
        jurisdiction=jurisdiction,
        jurisdiction_path=jurisdiction.path,
    )


def make_point(jurisdiction: Any, name: str = "采样点", **extra: Any) -> SamplingPoint:
    place = make_place(jurisdiction, "sampling_point", name)
    return SamplingPoint.objects.create(place=place, jurisdiction_path=jurisdiction.path, **extra)


def make_lab(jurisdiction: Any, name: str = "检测机构") -> Place:
    return make_place(jurisdiction, "lab", name)


def make_round(
    jurisdiction: Any,
    *,
    persons: list[Person] | None = None,
    pool_size: int = 10,
    status: str = RoundStatus.OPEN,
    starts_at: dt.datetime | None = None,
    name: str = "测试轮次",
) -> Round:
    """A round over `jurisdiction` whose targets are `persons` (all with `pool_size`)."""
    start = starts_at or at(10, 6)
    rnd = Round.objects.create(
        name=name,
        jurisdiction=jurisdiction,
        jurisdiction_path=jurisdiction.path,
        ruleset=RuleSet.objects.get(version="v9"),
        status=status,
        starts_at=start,
        deadline_at=start + dt.timedelta(hours=24),
        opened_at=start if status != RoundStatus.PLANNED else None,
        target_count=len(persons or []),
    )
    RoundScope.objects.create(round=rnd, jurisdiction=jurisdiction)
    RoundTarget.objects.bulk_create(
        RoundTarget(round=rnd, person=p, jurisdiction_path=p.jurisdiction_path, pool_size=pool_size)
        for p in persons or []
    )
    return rnd


def make_tube(
    rnd: Round,
    point: SamplingPoint,
    persons: list[Person],
    *,
    barcode: str | None = None,
    pool_size: int | None = None,
    state: str = TubeState.CLOSED,
    sampled_at: dt.datetime | None = None,
) -> Tube:
    """A tube with one sample per person (walk_in when not a target of the round)."""
    when = sampled_at or rnd.starts_at + dt.timedelta(hours=1)
    tube = Tube.objects.create(
        barcode=barcode or f"T{next(_seq):010d}",
        round=rnd,
        point=point,
        jurisdiction_path=point.jurisdiction_path,
        pool_size=pool_size or max(1, len(persons)),
        state=state,
        opened_at=when,
        closed_at=when if state != TubeState.OPEN else None,
    )
    targets = set(
        RoundTarget.objects.filter(round=rnd, person__in=persons).values_list(
            "person_id", flat=True
        )
    )
    Sample.objects.bulk_create(
        Sample(
            client_uuid=uuid.uuid4(),
            round=rnd,
            tube=tube,
            person=p,
            jurisdiction_path=p.jurisdiction_path,
            walk_in=p.pk not in targets,
            sampled_at=when,
            synced_at=when,
        )
        for p in persons
    )
    return tube
