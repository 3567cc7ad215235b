"""Test data for the pushes part: persons through the people services; cases, contacts
and exposures as plain rows (the cases and contacts parts write their services in
parallel, so their rows are laid here with a small ORM factory).

The world:
  case C1 (person in town A) with contacts
    a1, a2 (community_a, town A), a3 (grid_a, town A)     close contacts, IDENTIFIED
    b1 (community_b, town B)                               close contact, IDENTIFIED
    b2 (community_b, town B)   secondary contact of a1     (exposed to a1, not to C1)
    a_done (community_a)       close contact already CONTROLLED (never pushed)
  case C2 (person in town B) with contact other (town A), not a contact of C1.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from fangkong.accounts.roles import Role
from fangkong.people import rules as people_rules
from fangkong.people import services as people_services
from fangkong.protocol.selectors import ruleset_for
from fangkong.tracing.models import (
    Case,
    Contact,
    ContactClass,
    ContactStatus,
    Exposure,
    ExposureKind,
)

EXPOSED_ON = dt.date(2022, 7, 2)
PHONES = iter(f"1380000{n:04d}" for n in range(1, 10_000))


def make_ric(seq: int, birth: str = "19900101", region: str = "330483") -> str:
    body = f"{region}{birth}{seq % 1000:03d}"
    return body + people_rules.ric_checksum(body)


@dataclass
class World:
    tree: Any
    command: Any
    investigator: Any
    town_a: Any
    town_b: Any
    lab: Any
    ruleset: Any
    case: Any
    case2: Any
    contacts: dict[str, Any] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)  # contact key → clear ID number
    phones: dict[str, str] = field(default_factory=dict)


class Factory:
    def __init__(self, actor: Any) -> None:
        self.actor = actor
        self.seq = 0

    def person(self, jurisdiction: Any, name: str, *, address: str = "") -> tuple[Any, str, str]:
        self.seq += 1
        id_number = make_ric(self.seq)
        phone = next(PHONES)
        household = None
        if address:
            community = jurisdiction if jurisdiction.level == "community" else jurisdiction.parent
            household = people_services.household_create(
                actor=self.actor, address=address, community=community
            )
        person = people_services.person_create(
            actor=self.actor,
            name=name,
            id_kind="ric",
            id_number=id_number,
            phone=phone,
            jurisdiction=jurisdiction,
            household=household,
        )
        return person, id_number, phone

    def case(self, person: Any, number: str, ruleset: Any) -> Case:
        now = timezone.now()
        return Case.objects.create(
            number=number,
            person=person,
            jurisdiction_path=person.jurisdiction_path,
            kind="asymptomatic",
            first_positive_sampled_on=EXPOSED_ON,
            reported_at=now,
            ruleset=ruleset,
            lookback_start=EXPOSED_ON - dt.timedelta(days=ruleset.contact_lookback_days),
            core_facts_due_at=now + dt.timedelta(hours=4),
            report_due_at=now + dt.timedelta(hours=24),
        )

    def contact(
        self,
        person: Any,
        ruleset: Any,
        *,
        case: Case | None = None,
        source_contact: Contact | None = None,
        classification: str = ContactClass.CLOSE,
        status: str = ContactStatus.IDENTIFIED,
    ) -> Contact:
        contact = Contact.objects.create(
            person=person,
            jurisdiction_path=person.jurisdiction_path,
            classification=classification,
            status=status,
            first_exposure_on=EXPOSED_ON,
            last_exposure_on=EXPOSED_ON,
            ruleset=ruleset,
            quarantine_end_on=EXPOSED_ON + dt.timedelta(days=ruleset.close_centralised_days),
        )
        Exposure.objects.create(
            contact=contact,
            source_case=case,
            source_contact=source_contact,
            kind=ExposureKind.HOUSEHOLD if case is not None else ExposureKind.CO_PRESENCE,
            classification=classification,
            exposed_on=EXPOSED_ON,
            start=timezone.make_aware(dt.datetime(2022, 7, 2, 10, 0)),
            end=timezone.make_aware(dt.datetime(2022, 7, 2, 11, 30)),
        )
        return contact


def build_world(tree: Any, make_user: Any) -> World:
    command = make_user(Role.COMMAND, tree.city, "command")
    world = World(
        tree=tree,
        command=command,
        investigator=make_user(Role.INVESTIGATOR, tree.city, "investigator"),
        town_a=make_user(Role.TOWN_STAFF, tree.town_a, "town-a"),
        town_b=make_user(Role.TOWN_STAFF, tree.town_b, "town-b"),
        lab=make_user(Role.LAB, tree.city, "lab"),
        ruleset=ruleset_for(on_date=EXPOSED_ON, path=tree.community_a.path),
        case=None,
        case2=None,
    )
    f = Factory(command)
    rs = world.ruleset
    index_person, _, _ = f.person(tree.community_a, "赵病例")
    world.case = f.case(index_person, "BL2022-0001", rs)
    case2_person, _, _ = f.person(tree.community_b, "钱病例")
    world.case2 = f.case(case2_person, "BL2022-0002", rs)

    def add(key: str, jurisdiction: Any, name: str, **kwargs: Any) -> Contact:
        person, id_number, phone = f.person(jurisdiction, name, address=f"幸福路 {key} 号")
        contact = f.contact(person, rs, **kwargs)
        world.contacts[key] = contact
        world.ids[key] = id_number
        world.phones[key] = phone
        return contact

    add("a1", tree.community_a, "张小三", case=world.case)
    add("a2", tree.community_a, "李四", case=world.case)
    add("a3", tree.grid_a, "王五", case=world.case)
    add("b1", tree.community_b, "孙六", case=world.case)
    add(
        "b2",
        tree.community_b,
        "周七",
        source_contact=world.contacts["a1"],
        classification=ContactClass.SECONDARY,
    )
    add("a_done", tree.community_a, "吴八", case=world.case, status=ContactStatus.CONTROLLED)
    add("other", tree.community_a, "郑九", case=world.case2)
    return world


def add_contact(world: World, key: str, jurisdiction: Any, name: str) -> Contact:
    """One more IDENTIFIED close contact of the world's case."""
    f = Factory(world.command)
    f.seq = 500 + len(world.contacts)
    person, id_number, phone = f.person(jurisdiction, name)
    contact = f.contact(person, world.ruleset, case=world.case)
    world.contacts[key] = contact
    world.ids[key] = id_number
    world.phones[key] = phone
    return contact


def workbook_bytes(wb: Any) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
