"""A small world for the rounds, points and supplies tests.

乌镇镇 (town_a) has three communities: 虹桥村 (community_a, with grid_a) sealed,
东栅社区 (community_c) controlled, 西栅社区 (community_d) outside every zone but under a
precaution zone over the whole town; 濮院镇 (town_b) has 永越村 (community_b), no zone.
Built through the services (fangkong.testkit builders and areas.services.zone_create).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from fangkong.accounts.roles import Role
from fangkong.areas.models import Jurisdiction, Zone
from fangkong.areas.services import zones as zone_services
from fangkong.people.models import Person
from fangkong.testkit import areas, people


def add_community(town: Any, code: str, name: str) -> Jurisdiction:
    return areas.community(town, code, name)  # type: ignore[no-any-return]


@dataclass
class World:
    tree: Any
    command: Any
    town_a_user: Any
    town_b_user: Any
    community_c: Jurisdiction
    community_d: Jurisdiction
    sealed: Zone
    controlled: Zone
    precaution: Zone
    persons: dict[str, list[Person]] = field(default_factory=dict)


def build_world(tree: Any, make_user: Any, *, zones: bool = True) -> World:
    command = make_user(Role.COMMAND, tree.city, "cmd")
    town_a_user = make_user(Role.TOWN_STAFF, tree.town_a, "staff-a")
    town_b_user = make_user(Role.TOWN_STAFF, tree.town_b, "staff-b")
    community_c = add_community(tree.town_a, "330483102002", "东栅社区")
    community_d = add_community(tree.town_a, "330483102003", "西栅社区")
    persons: dict[str, list[Person]] = {}
    # Sealed community: two households of 3 and 2, one person without a household (grid).
    h1, h2 = people.household(tree.community_a), people.household(tree.community_a)
    persons["sealed"] = [
        *(people.person(tree.community_a, f"封甲{i}", household=h1) for i in range(3)),
        *(people.person(tree.community_a, f"封乙{i}", household=h2) for i in range(2)),
        people.person(tree.grid_a, "封丙"),
    ]
    persons["controlled"] = [people.person(community_c, f"管{i}") for i in range(4)]
    persons["precaution"] = [people.person(community_d, f"防{i}") for i in range(5)]
    persons["town_b"] = [people.person(tree.community_b, f"濮{i}") for i in range(3)]
    sealed = controlled = precaution = None
    if zones:
        day = dt.date(2022, 7, 9)
        precaution = zone_services.zone_create(
            actor=command,
            name="乌镇镇防范区",
            level="precaution",
            jurisdiction=tree.town_a,
            started_on=day,
            reason="测试",
            member_jurisdictions=[tree.town_a],
        )
        sealed = zone_services.zone_create(
            actor=command,
            name="虹桥村封控区",
            level="sealed",
            jurisdiction=tree.town_a,
            started_on=day,
            reason="测试",
            member_jurisdictions=[tree.community_a],
        )
        controlled = zone_services.zone_create(
            actor=command,
            name="东栅管控区",
            level="controlled",
            jurisdiction=tree.town_a,
            started_on=day,
            reason="测试",
            member_jurisdictions=[community_c],
        )
    return World(
        tree=tree,
        command=command,
        town_a_user=town_a_user,
        town_b_user=town_b_user,
        community_c=community_c,
        community_d=community_d,
        sealed=sealed,  # type: ignore[arg-type]
        controlled=controlled,  # type: ignore[arg-type]
        precaution=precaution,  # type: ignore[arg-type]
        persons=persons,
    )
