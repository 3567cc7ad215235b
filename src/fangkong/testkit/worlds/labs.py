"""The labs tests' world: a round in 乌镇镇 and 濮院镇, a point with its sampler, two labs
with their users, community workers of both towns, and helpers to write results files
(CSV and Excel). Built through the services (fangkong.testkit builders): persons
registered with ID numbers, the round opened over them, tubes synced, boxes received."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from fangkong.accounts.roles import Role
from fangkong.accounts.services import user_create
from fangkong.people.models import Person
from fangkong.testing.models import Round, SamplingPoint, Tube
from fangkong.testkit import people, testing
from fangkong.testkit.actors import PASSWORD

HEADER = ["试管条码", "检测结果", "ORF1ab", "N", "检测时间"]


@dataclass
class World:
    tree: Any
    round: Round
    point: SamplingPoint
    point_b: SamplingPoint
    lab: Any
    lab_b: Any
    sampler: Any
    sampler_b: Any
    lab_user: Any
    lab_user_b: Any
    community_a: Any
    community_b: Any
    persons_a: list[Person] = field(default_factory=list)
    persons_b: list[Person] = field(default_factory=list)


def _bound(role: str, jurisdiction: Any, username: str, place: Any) -> Any:
    """An account bound to a place (a point's sampler, a lab's staff)."""
    return user_create(
        username=username, password=PASSWORD, role=role, jurisdiction=jurisdiction, place=place
    )


def build_world(tree: Any, make_user: Any) -> World:
    persons_a = people.population([tree.community_a] * 10, [f"甲{i}号" for i in range(10)])
    persons_b = people.population([tree.community_b] * 10, [f"乙{i}号" for i in range(10)])
    rnd = testing.open_round(tree.city)
    point = testing.point(tree.community_a)
    point_b = testing.point(tree.community_b)
    lab = testing.lab(tree.city)
    lab_b = testing.lab(tree.city)
    return World(
        tree=tree,
        round=rnd,
        point=point,
        point_b=point_b,
        lab=lab,
        lab_b=lab_b,
        sampler=_bound(Role.SAMPLER, tree.community_a, "sampler-a", point.place),
        sampler_b=_bound(Role.SAMPLER, tree.community_b, "sampler-b", point_b.place),
        lab_user=_bound(Role.LAB, tree.city, "lab-1", lab),
        lab_user_b=_bound(Role.LAB, tree.city, "lab-2", lab_b),
        community_a=make_user(Role.COMMUNITY_WORKER, tree.community_a, "community-a"),
        community_b=make_user(Role.COMMUNITY_WORKER, tree.community_b, "community-b"),
        persons_a=persons_a,
        persons_b=persons_b,
    )


def received_tube(
    world: World, persons: list[Person], *, barcode: str, lab: Any = None, point: Any = None
) -> Tube:
    """A closed tube, packed in its own box at `point` and received by `lab`."""
    return testing.received_tube(
        world.round, point or world.point, persons, lab=lab or world.lab, barcode=barcode
    )


def results_csv(rows: list[tuple[Any, ...]], header: list[str] | None = None) -> bytes:
    lines = [",".join(header or HEADER)]
    lines += [",".join("" if v is None else str(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def results_xlsx(rows: list[tuple[Any, ...]], header: list[str] | None = None) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(header or HEADER)
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
