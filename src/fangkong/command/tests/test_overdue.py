"""The overdue board's selectors: an item of each kind past its deadline appears exactly
once under its owner and disappears when it is done (through the services that do it);
an item not yet due is not shown; each actor sees only its own."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from fangkong.command.selectors import overdue
from fangkong.core import deadlines
from fangkong.core.deadlines import DeadlineKind, OverdueItem
from fangkong.core.errors import DomainError, PermissionDenied
from fangkong.quarantine.services.inspections import rectification_complete
from fangkong.testing.models import TransportBox
from fangkong.testing.services.boxes import box_receive
from fangkong.testing.services.rechecks import recheck_record_sample
from fangkong.testing.services.results import results_import_file
from fangkong.testkit import command_overdue as kit
from fangkong.testkit.clock import at
from fangkong.testkit.quarantine_care import sampled
from fangkong.testkit.worlds.labs import results_csv

pytestmark = pytest.mark.django_db

KINDS = {
    "tracing.push",
    "tracing.case",
    "testing.recheck",
    "quarantine.rectification",
    "quarantine.test",
}


@pytest.fixture
def world(tree: Any, make_user: Any) -> kit.OverdueWorld:
    return kit.overdue_world(tree, make_user)


def _owners(actor: Any, kind: str, key: Any, now: Any) -> list[tuple[str, str]]:
    """Under which owners the item shows on the actor's board (once: one entry)."""
    return [
        (g.owner_kind, g.owner_key)
        for g in overdue.overdue_groups(actor=actor, now=now)
        for item in g.items
        if item.kind == kind and item.key == str(key)
    ]


def test_each_kind_appears_once_under_its_owner_and_goes_when_done(
    world: kit.OverdueWorld,
) -> None:
    later = kit.later()
    command = world.command
    town_a = ("town", world.tree.town_a.path)
    site = ("site", str(world.site.pk))
    push, case, recheck = world.push_a, world.case, world.recheck
    rect, test = world.rectification, world.placement_test

    assert {k.code for k in overdue.overdue_kinds(actor=command)} >= KINDS
    assert _owners(command, "tracing.push", push.pk, later) == [town_a]
    assert _owners(command, "tracing.case", case.pk, later) == [("department", "investigation")]
    assert _owners(command, "testing.recheck", recheck.pk, later) == [town_a]
    assert _owners(command, "quarantine.rectification", rect.pk, later) == [site]
    assert _owners(command, "quarantine.test", test.pk, later) == [site]

    # The pushed list: every person answered by the town.
    kit.push_done(push, actor=world.town_a)
    assert _owners(command, "tracing.push", push.pk, later) == []
    assert _owners(command, "tracing.push", world.push_b.pk, later) == [
        ("town", world.tree.town_b.path)
    ]

    # The investigation: still once after its core facts (the report is missing), gone
    # when the report is complete.
    kit.investigation_done(case, actor=world.pushes.investigator)
    assert _owners(command, "tracing.case", case.pk, later) == []

    # The recheck: sampled, it waits for the lab (the owner changes, still once); resulted,
    # it is gone.
    recheck_record_sample(
        actor=world.labs.community_a, recheck=recheck, barcode="RC0001", sampled_at=at(10, 9)
    )
    assert _owners(command, "testing.recheck", recheck.pk, later) == [
        ("lab", str(world.labs.lab.pk))
    ]
    box = TransportBox.objects.get(barcode="RC-RC0001")
    box_receive(actor=world.labs.lab_user, box=box, at=at(10, 10))
    data = results_csv([("RC0001", "阴性", "", "", "2022-07-10 14:00")])
    report = results_import_file(actor=world.labs.lab_user, data=data, filename="rc.csv")
    assert report.rechecks_resolved == 1
    assert _owners(command, "testing.recheck", recheck.pk, later) == []

    rectification_complete(actor=world.site_staff, rectification=rect, note="已按标准整改")
    assert _owners(command, "quarantine.rectification", rect.pk, later) == []

    sampled(test)
    assert _owners(command, "quarantine.test", test.pk, later) == []


def test_the_investigation_stays_once_while_its_report_is_missing(
    world: kit.OverdueWorld,
) -> None:
    from fangkong.tracing.services.cases import case_record_core_facts

    later = kit.later()
    before = overdue.overdue_items(actor=world.command, now=later, kind="tracing.case")
    item = next(i for i in before if i.key == str(world.case.pk))
    assert item.detail == "核心信息未完成"

    case_record_core_facts(actor=world.pushes.investigator, case=world.case, symptoms="无")
    after = overdue.overdue_items(actor=world.command, now=later, kind="tracing.case")
    again = [i for i in after if i.key == str(world.case.pk)]
    assert len(again) == 1 and again[0].detail == "流调报告未完成"
    assert again[0].deadline == world.case.report_due_at


def test_not_yet_due_is_not_shown(world: kit.OverdueWorld) -> None:
    now = timezone.now()
    keys = {(i.kind, i.key) for i in overdue.overdue_items(actor=world.command, now=now)}

    assert ("tracing.push", str(world.push_a.pk)) not in keys
    assert ("tracing.case", str(world.case.pk)) not in keys
    assert ("testing.recheck", str(world.recheck.pk)) not in keys
    # made overdue in the past: due already
    assert ("quarantine.rectification", str(world.rectification.pk)) in keys
    assert ("quarantine.test", str(world.placement_test.pk)) in keys


def test_the_oldest_first_and_the_count_agrees(world: kit.OverdueWorld) -> None:
    later = kit.later()
    items = overdue.overdue_items(actor=world.command, now=later)
    deadlines = [i.deadline for i in items]

    assert deadlines == sorted(deadlines)
    assert len({(i.kind, i.key) for i in items}) == len(items)
    assert overdue.overdue_count(actor=world.command, now=later) == len(items)
    groups = overdue.overdue_groups(actor=world.command, now=later)
    assert [g.oldest for g in groups] == sorted(g.oldest for g in groups)
    assert sum(len(g.items) for g in groups) == len(items)


def test_the_limit_per_kind_bounds_the_items_not_the_count(world: kit.OverdueWorld) -> None:
    later = kit.later()
    rechecks = overdue.overdue_items(
        actor=world.command, now=later, kind="testing.recheck", limit_per_kind=3
    )
    counts = {c.code: c for c in overdue.overdue_counts(actor=world.command, now=later)}

    assert len(rechecks) == 3
    assert counts["testing.recheck"].count == 10  # the positive pool's ten persons
    assert counts["testing.recheck"].shown == min(10, overdue.LIMIT_PER_KIND)


def test_an_owners_true_count_when_the_board_lists_only_the_oldest(
    world: kit.OverdueWorld,
) -> None:
    """A kind cut to its oldest items: an owner's total comes from the kind's count per
    owner when it has one, else it is unknown (None); an uncut board's totals are its
    items."""
    later = kit.later()
    town = ("town", world.tree.town_a.path)

    def listed(actor: Any, now: Any, limit: int) -> list[OverdueItem]:
        return [
            OverdueItem(
                kind="test.many",
                key=str(n),
                title=f"事项 {n}",
                deadline=now - dt.timedelta(hours=n),
                owner_kind=town[0],
                owner_key=town[1],
                owner_label="甲镇",
            )
            for n in range(limit)
        ]

    def kind(per_owner: bool) -> DeadlineKind:
        return DeadlineKind(
            code="test.many",
            label="测试",
            capability="push.view",
            overdue=listed,
            count=lambda actor, now: 7,
            count_by_owner=(lambda actor, now: {town: 7}) if per_owner else None,
        )

    try:
        for per_owner, expected in ((True, 7), (False, None)):
            deadlines.register(kind(per_owner))
            counts = overdue.overdue_counts(actor=world.command, now=later, limit_per_kind=2)
            groups = overdue.overdue_groups(
                actor=world.command, now=later, kind="test.many", limit_per_kind=2
            )
            totals = overdue.overdue_owner_totals(
                actor=world.command, now=later, groups=groups, counts=counts, kind="test.many"
            )
            (group,) = groups
            assert len(group.items) == 2 and totals[group.owner] == expected
    finally:
        deadlines._KINDS.pop("test.many", None)
    counts = overdue.overdue_counts(actor=world.command, now=later)
    groups = overdue.overdue_groups(actor=world.command, now=later)
    totals = overdue.overdue_owner_totals(
        actor=world.command, now=later, groups=groups, counts=counts
    )
    assert groups and all(totals[g.owner] == len(g.items) for g in groups)


def test_pushes_count_per_town(world: kit.OverdueWorld) -> None:
    from fangkong.tracing.selectors.pushes import pushes_overdue_count_by_owner

    later = kit.later()
    by_owner = pushes_overdue_count_by_owner(world.command, later)
    assert by_owner[("town", world.tree.town_a.path)] >= 1
    assert sum(by_owner.values()) == sum(
        c.count
        for c in overdue.overdue_counts(actor=world.command, now=later)
        if c.code == "tracing.push"
    )
    assert set(pushes_overdue_count_by_owner(world.town_a, later)) == {
        ("town", world.tree.town_a.path)
    }


def test_a_town_sees_its_own_and_never_another_towns(world: kit.OverdueWorld) -> None:
    later = kit.later()
    a = {(i.kind, i.key) for i in overdue.overdue_items(actor=world.town_a, now=later)}
    b = {(i.kind, i.key) for i in overdue.overdue_items(actor=world.town_b, now=later)}

    assert ("tracing.push", str(world.push_a.pk)) in a
    assert ("tracing.push", str(world.push_b.pk)) not in a
    assert ("testing.recheck", str(world.recheck.pk)) in a
    assert ("quarantine.rectification", str(world.rectification.pk)) in a
    # investigations and the site's own tests are not a town's to act on
    assert not any(kind in {"tracing.case", "quarantine.test"} for kind, _ in a)
    assert b == {("tracing.push", str(world.push_b.pk))}
    assert overdue.overdue_count(actor=world.town_b, now=later) == 1
    every = overdue.overdue_items(actor=world.town_a, now=later)
    assert all(i.path.startswith(world.tree.town_a.path) for i in every)


def test_a_site_sees_its_own_site_only(world: kit.OverdueWorld) -> None:
    later = kit.later()
    own = overdue.overdue_items(actor=world.site_staff, now=later)
    other = overdue.overdue_items(actor=world.site_b_staff, now=later)

    assert {i.kind for i in own} == {"quarantine.rectification", "quarantine.test"}
    assert {i.owner_key for i in own} == {str(world.site.pk)}
    # the site takes its tests on its day's page; command opens the placement
    test = next(i for i in own if i.kind == "quarantine.test")
    assert test.url == "/quarantine/site/day/tests/"
    seen = overdue.overdue_items(actor=world.command, now=later, kind="quarantine.test")
    assert next(i for i in seen if i.key == test.key).url.startswith("/quarantine/placements/")
    assert other == []
    assert overdue.overdue_count(actor=world.site_b_staff, now=later) == 0


def test_roles_without_the_board_are_refused(world: kit.OverdueWorld) -> None:
    later = kit.later()
    for user in (world.labs.lab_user, world.labs.community_a, world.labs.sampler):
        with pytest.raises(PermissionDenied):
            overdue.overdue_items(actor=user, now=later)
        with pytest.raises(PermissionDenied):
            overdue.overdue_count(actor=user, now=later)


def test_an_unknown_kind_is_refused(world: kit.OverdueWorld) -> None:
    with pytest.raises(DomainError) as exc:
        overdue.overdue_items(actor=world.command, now=timezone.now(), kind="nonsense")
    assert exc.value.code == "overdue_kind_invalid"


def test_the_investigator_sees_pushes_and_investigations(world: kit.OverdueWorld) -> None:
    later = kit.later()
    kinds = {i.kind for i in overdue.overdue_items(actor=world.pushes.investigator, now=later)}
    assert {"tracing.push", "tracing.case"} <= kinds
    assert "quarantine.test" not in kinds
