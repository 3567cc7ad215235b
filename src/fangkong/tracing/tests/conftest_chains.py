"""Small ORM factories for the chains tests: cases, stops, contacts and exposures.

The cases and contacts parts write the services that create these rows in production;
they are built in parallel, so the chains tests lay the rows directly (a plain module,
imported by the test modules, not a conftest).
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from zoneinfo import ZoneInfo

from fangkong.areas.models import Place
from fangkong.people import rules
from fangkong.people.models import Person
from fangkong.people.services import id_lookup_hash
from fangkong.protocol.models import RuleSet
from fangkong.tracing.models import (
    Case,
    Contact,
    Exposure,
    Investigation,
    ItineraryStop,
)

SH = ZoneInfo("Asia/Shanghai")
_seq = itertools.count(1)


def make_ric(seq: int, birth: str = "19900101", region: str = "330483") -> str:
    body = f"{region}{birth}{seq % 1000:03d}"
    return body + rules.ric_checksum(body)


def make_person(jurisdiction: Any, name: str = "张小三", ric: str | None = None) -> Person:
    number = ric or make_ric(next(_seq), birth=f"19{next(_seq) % 90 + 10:02d}0101")
    return Person.objects.create(
        name=name,
        name_initials=rules.name_initials(name)[:32],
        id_kind="ric",
        id_hmac=id_lookup_hash("ric", number),
        id_masked=rules.mask_id(number),
        jurisdiction=jurisdiction,
        jurisdiction_path=jurisdiction.path,
    )


def make_place(
    jurisdiction: Any, code: str, name: str = "场所", lat: float | None = 30.74, lon=120.49
) -> Place:
    return Place.objects.create(
        kind="venue",
        name=name,
        venue_code=code,
        jurisdiction=jurisdiction,
        jurisdiction_path=jurisdiction.path,
        lat=lat,
        lon=lon if lat is not None else None,
    )


def make_case(jurisdiction: Any, name: str = "王小五", person: Person | None = None) -> Case:
    person = person or make_person(jurisdiction, name)
    n = next(_seq)
    now = dt.datetime(2022, 7, 4, 9, 0, tzinfo=SH)
    return Case.objects.create(
        number=f"C{n:04d}",
        person=person,
        jurisdiction_path=person.jurisdiction_path,
        kind="asymptomatic",
        first_positive_sampled_on=dt.date(2022, 7, 4),
        reported_at=now + dt.timedelta(minutes=n),
        ruleset=RuleSet.objects.get(version="v9"),
        lookback_start=dt.date(2022, 7, 1),
        core_facts_due_at=now + dt.timedelta(hours=4),
        report_due_at=now + dt.timedelta(hours=24),
    )


def make_stop(case: Case, place: Place | None, start: dt.datetime, hours: int = 1) -> ItineraryStop:
    investigation, _ = Investigation.objects.get_or_create(
        case=case, defaults={"started_at": start}
    )
    return ItineraryStop.objects.create(
        investigation=investigation,
        place=place,
        address="" if place else "某路1号",
        start=start,
        end=start + dt.timedelta(hours=hours),
        source="manual",
    )


def make_contact(
    person: Person,
    *,
    source_case: Case | None = None,
    source_contact: Contact | None = None,
    classification: str = "close",
    kind: str = "co_presence",
) -> Contact:
    contact, _ = Contact.objects.get_or_create(
        person=person,
        defaults={
            "jurisdiction_path": person.jurisdiction_path,
            "classification": classification,
            "first_exposure_on": dt.date(2022, 7, 3),
            "last_exposure_on": dt.date(2022, 7, 3),
            "ruleset": RuleSet.objects.get(version="v9"),
        },
    )
    Exposure.objects.create(
        contact=contact,
        source_case=source_case,
        source_contact=source_contact,
        kind=kind,
        classification=classification,
        exposed_on=dt.date(2022, 7, 3),
    )
    return contact
