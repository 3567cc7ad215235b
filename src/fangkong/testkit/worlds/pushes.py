"""The pushes tests' world (tracing pushes, and the shell's end-to-end test): persons
registered through people.services, cases reported through case_create, contacts and
their exposures written by the contacts service (fangkong.testkit builders).

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
from fangkong.protocol.selectors import ruleset_for
from fangkong.testkit import people, tracing
from fangkong.testkit.clock import at
from fangkong.tracing.models import (
    Case,
    Contact,
    ContactClass,
    ContactStatus,
    ExposureKind,
)

EXPOSED_ON = dt.date(2022, 7, 2)
PHONES = iter(f"1380000{n:04d}" for n in range(1, 10_000))


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
    """Persons, cases and contacts of the world, built by the kit as `actor`."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor
        self.seq = 0

    def person(self, jurisdiction: Any, name: str, *, address: str = "") -> tuple[Any, str, str]:
        self.seq += 1
        household = None
        if address:
            community = jurisdiction if jurisdiction.level == "community" else jurisdiction.parent
            household = people.household(community, address, actor=self.actor)
        made = people.registered(
            jurisdiction,
            name,
            phone_number=next(PHONES),
            household=household,
            actor=self.actor,
        )
        return made.person, made.id_number, made.phone

    def case(self, person: Any, ruleset: Any) -> Case:
        """A case first positive on the exposure day, reported now (its rule set is the
        one in force then: `ruleset`)."""
        return tracing.case(
            person,
            sampled_on=EXPOSED_ON,
            reported_at=timezone.now(),
            version=ruleset.version,
            actor=self.actor,
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
        made = tracing.contact(
            person,
            case=case,
            source_contact=source_contact,
            classification=classification,
            kind=ExposureKind.HOUSEHOLD if case is not None else ExposureKind.CO_PRESENCE,
            exposed_on=EXPOSED_ON,
            start=at(2, 10),
            end=at(2, 11, 30),
            status=status,
            actor=self.actor,
        )
        if made.ruleset_id != ruleset.pk:
            raise AssertionError(f"contact under {made.ruleset}, not {ruleset}")
        return made


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
    world.case = f.case(index_person, rs)
    case2_person, _, _ = f.person(tree.community_b, "钱病例")
    world.case2 = f.case(case2_person, rs)

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
