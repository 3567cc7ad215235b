"""A small world for the labs tests: a round in 乌镇镇 and 濮院镇, a point with its
sampler, two labs with their users, community workers of both towns, and helpers to
write results files (CSV and Excel)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from fangkong.accounts.roles import Role
from fangkong.people.models import Person
from fangkong.testing.models import BoxState, Round, SamplingPoint, TransportBox, Tube, TubeState

from .factories import make_lab, make_person, make_point, make_round, make_tube

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


def _bound(user: Any, place: Any) -> Any:
    user.place = place
    user.save(update_fields=["place"])
    return user


def build_world(tree: Any, make_user: Any) -> World:
    persons_a = [make_person(tree.community_a, name=f"甲{i}号") for i in range(10)]
    persons_b = [make_person(tree.community_b, name=f"乙{i}号") for i in range(10)]
    rnd = make_round(tree.city, persons=persons_a + persons_b, pool_size=10)
    point = make_point(tree.community_a)
    point_b = make_point(tree.community_b)
    lab = make_lab(tree.city)
    lab_b = make_lab(tree.city)
    return World(
        tree=tree,
        round=rnd,
        point=point,
        point_b=point_b,
        lab=lab,
        lab_b=lab_b,
        sampler=_bound(make_user(Role.SAMPLER, tree.community_a, "sampler-a"), point.place),
        sampler_b=_bound(make_user(Role.SAMPLER, tree.community_b, "sampler-b"), point_b.place),
        lab_user=_bound(make_user(Role.LAB, tree.city, "lab-1"), lab),
        lab_user_b=_bound(make_user(Role.LAB, tree.city, "lab-2"), lab_b),
        community_a=make_user(Role.COMMUNITY_WORKER, tree.community_a, "community-a"),
        community_b=make_user(Role.COMMUNITY_WORKER, tree.community_b, "community-b"),
        persons_a=persons_a,
        persons_b=persons_b,
    )


def received_tube(
    world: World, persons: list[Person], *, barcode: str, lab: Any = None, point: Any = None
) -> Tube:
    """A closed tube, packed in its own box and received by `lab` (ORM: fast set-up)."""
    point = point or world.point
    tube = make_tube(world.round, point, persons, barcode=barcode)
    box = TransportBox.objects.create(
        barcode=f"B-{barcode}",
        point=point,
        jurisdiction_path=point.jurisdiction_path,
        lab=lab or world.lab,
        state=BoxState.RECEIVED,
        created_at=tube.opened_at,
        handed_over_at=tube.opened_at,
        received_at=tube.opened_at,
    )
    Tube.objects.filter(pk=tube.pk).update(box=box, state=TubeState.RECEIVED)
    tube.refresh_from_db()
    return tube


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
