"""A small city round for the coverage tests, with every case the figures must count.

    town_a 乌镇镇 330483102
      community_a  虹桥村 330483102001 (grid_a 330483102001001)
        a1  sampled in T1 (negative) and retested in T2 (no result yet)
        a2  sampled in T1 (negative)
        a3  sampled in T3 (a positive pool), with the walk-in w1: both held for their
            recheck (待复核), neither a positive person yet
        a4 a5 a6  untested; w1 a walk-in living here (not a target)
      community_a2 民合村 330483102002
        c1  sampled in T4 (no result); c2 c3 untested
    town_b 濮院镇 330483101
      community_b  永越村 330483101001
        b1 b2  sampled in T5 (negative) with the walk-in w2; b3 b4 untested

The expected figures are written out in EXPECTED (and checked against a direct count).
Built through the services (fangkong.testkit builders): the walk-ins are registered after
the round opened, so the round never counted them as targets.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from fangkong.accounts.roles import Role
from fangkong.people.models import Person
from fangkong.testing.models import (
    Recheck,
    RecheckStatus,
    ResultValue,
    Round,
    RoundTarget,
    Sample,
    Tube,
    TubeResult,
)
from fangkong.testkit import areas, people, testing

EXPECTED = {
    "330483102001": {
        "target": 6,
        "sampled": 3,
        "resulted": 3,
        "positive": 0,
        "held": 2,
        "walk_ins": 1,
        "untested": 3,
    },
    "330483102002": {
        "target": 3,
        "sampled": 1,
        "resulted": 0,
        "positive": 0,
        "held": 0,
        "walk_ins": 0,
        "untested": 2,
    },
    "330483101001": {
        "target": 4,
        "sampled": 2,
        "resulted": 2,
        "positive": 0,
        "held": 0,
        "walk_ins": 1,
        "untested": 2,
    },
}
EXPECTED_TOWNS = {
    "330483102": {
        "target": 9,
        "sampled": 4,
        "resulted": 3,
        "positive": 0,
        "held": 2,
        "walk_ins": 1,
        "untested": 5,
    },
    "330483101": EXPECTED["330483101001"],
}

NAMES = {
    "a1": "王小明",
    "a2": "李秀英",
    "a3": "张建国",
    "a4": "赵丽华",
    "a5": "钱伟",
    "a6": "孙志强",
    "c1": "周敏",
    "c2": "吴桂兰",
    "c3": "郑海",
    "b1": "冯军",
    "b2": "陈静",
    "b3": "褚明亮",
    "b4": "卫红梅",
    "w1": "蒋路人",
    "w2": "沈外来",
}


@dataclass
class World:
    round: Round
    community_a2: Any
    persons: dict[str, Person]
    users: dict[str, Any]
    tubes: dict[str, Tube] = field(default_factory=dict)


def add_result(tube: Tube, result: str, lab: Any, when: dt.datetime) -> TubeResult:
    """The tube's result as the lab submits it (carried there first)."""
    return testing.result(tube, result, lab=lab, tested_at=when)  # type: ignore[no-any-return]


def build_world(tree: Any, make_user: Any) -> World:
    community_a2 = areas.community(tree.town_a, "330483102002", "民合村")
    registrar = make_user(Role.COMMAND, tree.city, "registrar")
    homes = {
        "a": (tree.grid_a, people.household(tree.community_a, actor=registrar)),
        "c": (community_a2, people.household(community_a2, actor=registrar)),
        "b": (tree.community_b, people.household(tree.community_b, actor=registrar)),
        "w1": (tree.community_a, None),
        "w2": (tree.community_b, None),
    }
    persons: dict[str, Person] = {}
    rnd = None
    for n, (key, name) in enumerate(NAMES.items(), start=1):
        if key.startswith("w") and rnd is None:
            # The targets are registered; the round opens; the walk-ins come later.
            rnd = testing.open_round(tree.city, name="全市第一轮")
        jurisdiction, household = homes[key] if key in homes else homes[key[0]]
        persons[key] = people.person(
            jurisdiction,
            name,
            id_number=people.ric(n),
            phone_number=f"139{n:08d}",
            household=household,
            actor=registrar,
        )
    assert rnd is not None
    point = testing.point(tree.town_a)
    lab = testing.lab(tree.city)
    start = rnd.starts_at
    hour = dt.timedelta(hours=1)
    specs = {
        "T1": ([persons["a1"], persons["a2"]], start),
        "T2": ([persons["a1"]], start + 3 * hour),
        "T3": ([persons["a3"], persons["w1"]], start + hour),
        "T4": ([persons["c1"]], start + hour),
        "T5": ([persons["b1"], persons["b2"], persons["w2"]], start + 2.5 * hour),
    }
    made = testing.tubes(
        rnd, point, [(members, {"sampled_at": when}) for members, when in specs.values()]
    )
    t = dict(zip(specs, made, strict=True))
    later = start + dt.timedelta(hours=6)
    testing.results(
        {
            t["T1"]: ResultValue.NEGATIVE,
            t["T3"]: ResultValue.POSITIVE,
            t["T5"]: ResultValue.NEGATIVE,
        },
        lab=lab,
        tested_at=later,
    )
    users = {
        "command": make_user(Role.COMMAND, tree.city, "cov-command"),
        "investigator": make_user(Role.INVESTIGATOR, tree.city, "cov-investigator"),
        "town_a": make_user(Role.TOWN_STAFF, tree.town_a, "cov-town-a"),
        "town_b": make_user(Role.TOWN_STAFF, tree.town_b, "cov-town-b"),
        "worker_a": make_user(Role.COMMUNITY_WORKER, tree.community_a, "cov-worker-a"),
        "worker_a2": make_user(Role.COMMUNITY_WORKER, community_a2, "cov-worker-a2"),
        "worker_b": make_user(Role.COMMUNITY_WORKER, tree.community_b, "cov-worker-b"),
        "sampler": make_user(Role.SAMPLER, tree.town_a, "cov-sampler"),
        "lab": make_user(Role.LAB, tree.city, "cov-lab"),
        "site": make_user(Role.SITE_STAFF, tree.town_a, "cov-site"),
    }
    return World(round=rnd, community_a2=community_a2, persons=persons, users=users, tubes=t)


def direct_counts(rnd: Round, prefix: str) -> dict[str, int]:
    """The figures of `prefix` counted directly, person by person (the reference)."""
    targets = {
        t.person_id
        for t in RoundTarget.objects.filter(round=rnd)
        if t.jurisdiction_path.startswith(prefix)
    }
    samples = [
        s
        for s in Sample.objects.filter(round=rnd).select_related("tube")
        if s.jurisdiction_path.startswith(prefix)
    ]
    results = {r.tube_id: r.result for r in TubeResult.objects.filter(round=rnd)}
    open_rechecks = {
        (r.person_id, r.jurisdiction_path)
        for r in Recheck.objects.filter(round=rnd).select_related("source_tube")
        if r.status in (RecheckStatus.PENDING, RecheckStatus.SAMPLED)
        and r.source_tube.pool_size > 1
    }
    sampled = {s.person_id for s in samples if s.person_id in targets}
    resulted = {s.person_id for s in samples if s.person_id in targets and s.tube_id in results}
    positive = {
        s.person_id
        for s in samples
        if results.get(s.tube_id) == ResultValue.POSITIVE and s.tube.pool_size == 1
    }
    held = {person for person, path in open_rechecks if path.startswith(prefix)}
    walk_ins = {s.person_id for s in samples if s.person_id not in targets}
    return {
        "target": len(targets),
        "sampled": len(sampled),
        "resulted": len(resulted),
        "positive": len(positive),
        "held": len(held),
        "walk_ins": len(walk_ins),
        "untested": len(targets - sampled),
    }


def figures(counts: Any) -> dict[str, int]:
    d = counts.as_dict()
    return {
        k: d[k]
        for k in ("target", "sampled", "resulted", "positive", "held", "walk_ins", "untested")
    }
