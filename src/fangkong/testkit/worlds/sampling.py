"""The sampling tests' world: a round over 乌镇镇 with registered persons (RIC numbers)
living in a controlled zone over 虹桥村 (so the round pools them 10-in-1), a sampling
point in 虹桥村 with its sampler, and batches as a phone builds them. Built through the
services (fangkong.testkit builders)."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from fangkong.accounts.roles import Role
from fangkong.accounts.services import user_create
from fangkong.people.models import Person
from fangkong.testing.models import Round, SamplingPoint
from fangkong.testing.services.sampling import SampleIn, TubeIn
from fangkong.testkit import areas, people, testing
from fangkong.testkit.actors import PASSWORD
from fangkong.testkit.clock import at

_barcodes = itertools.count(1)


def new_ric() -> str:
    """A fresh valid RIC nobody is registered with (the kit's next number)."""
    return people.ric()


def new_barcode() -> str:
    return f"SYNC{next(_barcodes):08d}"


@dataclass
class World:
    tree: Any
    admin: Any
    sampler: Any
    point: SamplingPoint
    round: Round
    persons: list[Person]
    rics: dict[int, str] = field(default_factory=dict)  # person id -> ID number

    def sample(
        self, person: Person | None = None, *, ric: str = "", minute: int = 0, **kw: Any
    ) -> SampleIn:
        number = ric or self.rics[person.pk]  # type: ignore[union-attr]
        return SampleIn(
            client_uuid=uuid.uuid4(),
            id_number=number,
            sampled_at=at(10, 8, minute),
            **kw,
        )

    def tube(
        self,
        samples: list[SampleIn],
        *,
        barcode: str | None = None,
        pool_size: int = 10,
        closed: bool = False,
        rnd: Round | None = None,
    ) -> TubeIn:
        return TubeIn(
            barcode=barcode or new_barcode(),
            round_id=(rnd or self.round).pk,
            pool_size=pool_size,
            opened_at=at(10, 8),
            closed_at=at(10, 8, 30) if closed else None,
            samples=tuple(samples),
        )

    def tubes_of(self, persons: list[Person], per_tube: int = 10) -> list[TubeIn]:
        """Persons in pooled tubes of `per_tube`, as a phone fills them."""
        return [
            self.tube([self.sample(p) for p in persons[i : i + per_tube]])
            for i in range(0, len(persons), per_tube)
        ]


def build_world(tree: Any, *, persons: int = 30) -> World:
    admin = user_create(
        username=f"sync-admin-{uuid.uuid4().hex[:6]}",
        password=PASSWORD,
        role=Role.ADMIN,
        jurisdiction=tree.city,
    )
    point = testing.point(tree.community_a, actor=admin)
    sampler = user_create(
        username=f"sync-sampler-{uuid.uuid4().hex[:6]}",
        password=PASSWORD,
        role=Role.SAMPLER,
        jurisdiction=tree.community_a,
        place=point.place,
    )
    rics: dict[int, str] = {}
    registered: list[Person] = []
    for n in range(persons):
        community = tree.community_a if n % 2 == 0 else tree.grid_a
        made = people.registered(
            community, "王" + "一二三四五六七八九十"[n % 10], phone_number="", actor=admin
        )
        rics[made.person.pk] = made.id_number
        registered.append(made.person)
    areas.zone(tree.town_a, "controlled", members=[tree.community_a], actor=admin)
    rnd = testing.open_round(tree.town_a, actor=admin)
    return World(tree, admin, sampler, point, rnd, registered, rics)
