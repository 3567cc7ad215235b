"""Rounds through their services: scope, target population, pooling by zone, audit,
permissions (wrong role, wrong jurisdiction)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.roles import Role
from fangkong.areas.models import Zone
from fangkong.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from fangkong.testing.models import RoundStatus, RoundTarget, SealedPooling
from fangkong.testing.services import rounds as services
from fangkong.testing.services.rounds import common_ancestor_path
from fangkong.testkit.clock import at
from fangkong.testkit.worlds.rounds import World, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree: Any, make_user: Any) -> World:
    return build_world(tree, make_user)


def _targets(rnd: Any) -> dict[int, tuple[str, int]]:
    return {t.person_id: (t.zone_level, t.pool_size) for t in RoundTarget.objects.filter(round=rnd)}


def _lift(zone: Zone) -> None:
    """A lifted zone (its counters are the areas app's business, not these tests')."""
    Zone.objects.filter(pk=zone.pk).update(state="lifted", lifted_on=dt.date(2022, 7, 10))


def _ids(persons: list[Any]) -> set[int]:
    return {p.pk for p in persons}


def test_common_ancestor_is_cut_at_a_level_boundary() -> None:
    assert common_ancestor_path(["330483102001", "330483102003"]) == "330483102"
    assert common_ancestor_path(["330483102", "330483101001"]) == "330483"
    assert common_ancestor_path(["330483102001001"]) == "330483102001001"
    assert common_ancestor_path(["330483102001", "330483102001001"]) == "330483102001"


def test_town_round_targets_everyone_living_in_the_town_with_pooling_by_zone(
    world: World,
) -> None:
    rnd = services.round_create(
        actor=world.town_a_user,
        name="乌镇镇第一轮",
        jurisdictions=[world.tree.town_a],
        starts_at=at(10, 6),
    )
    rnd = services.round_open(actor=world.town_a_user, round=rnd)

    targets = _targets(rnd)
    p = world.persons
    assert set(targets) == _ids(p["sealed"] + p["controlled"] + p["precaution"])
    assert not _ids(p["town_b"]) & set(targets)
    assert {targets[x.pk] for x in p["sealed"]} == {("sealed", 1)}
    assert {targets[x.pk] for x in p["controlled"]} == {("controlled", 10)}
    assert {targets[x.pk] for x in p["precaution"]} == {("precaution", 20)}
    assert rnd.target_count == 15 and rnd.status == RoundStatus.OPEN
    assert rnd.opened_at is not None


def test_owner_is_the_common_ancestor_and_deadline_comes_from_the_rule_set(
    world: World,
) -> None:
    rnd = services.round_create(
        actor=world.command,
        name="两村",
        jurisdictions=[world.tree.community_a, world.community_c],
        starts_at=at(10, 6),
    )

    assert rnd.jurisdiction_path == world.tree.town_a.path
    assert rnd.ruleset.version == "v9"
    assert rnd.deadline_at - rnd.starts_at == dt.timedelta(hours=rnd.ruleset.round_deadline_hours)
    city = services.round_create(
        actor=world.command,
        name="两镇",
        jurisdictions=[world.tree.town_a, world.tree.community_b],
        starts_at=at(10, 6),
    )
    assert city.jurisdiction_path == world.tree.city.path


def test_community_scope_targets_only_that_community(world: World) -> None:
    rnd = services.round_create(
        actor=world.town_a_user,
        name="东栅",
        jurisdictions=[world.community_c],
        starts_at=at(10, 6),
    )
    services.round_open(actor=world.town_a_user, round=rnd)

    assert set(_targets(rnd)) == _ids(world.persons["controlled"])


def test_zone_scope_targets_the_zone_members_residents(world: World) -> None:
    rnd = services.round_create(
        actor=world.town_a_user,
        name="封控区+管控区",
        zones=[world.sealed, world.controlled],
        starts_at=at(10, 6),
    )
    services.round_open(actor=world.town_a_user, round=rnd)

    targets = _targets(rnd)
    assert set(targets) == _ids(world.persons["sealed"] + world.persons["controlled"])
    # The grid resident is covered by the sealed community (a prefix of the path).
    assert targets[world.persons["sealed"][-1].pk] == ("sealed", 1)


def test_outside_every_zone_the_precaution_pool_applies(tree: Any, make_user: Any) -> None:
    world = build_world(tree, make_user, zones=False)
    rnd = services.round_create(
        actor=world.command, name="全市", jurisdictions=[tree.city], starts_at=at(10, 6)
    )
    services.round_open(actor=world.command, round=rnd)

    targets = _targets(rnd)
    assert len(targets) == 18
    assert set(targets.values()) == {("", 20)}


def test_a_lifted_zone_no_longer_sets_the_pooling(world: World) -> None:
    _lift(world.controlled)
    rnd = services.round_create(
        actor=world.town_a_user, name="乌镇", jurisdictions=[world.tree.town_a], starts_at=at(10, 6)
    )
    services.round_open(actor=world.town_a_user, round=rnd)

    targets = _targets(rnd)
    # Still in the town-wide precaution zone.
    assert {targets[x.pk] for x in world.persons["controlled"]} == {("precaution", 20)}


def test_sealed_one_tube_per_household(world: World) -> None:
    rnd = services.round_create(
        actor=world.town_a_user,
        name="一户一管",
        jurisdictions=[world.tree.town_a],
        starts_at=at(10, 6),
        sealed_pooling=SealedPooling.HOUSEHOLD,
    )
    services.round_open(actor=world.town_a_user, round=rnd)

    targets = _targets(rnd)
    sealed = world.persons["sealed"]
    assert [targets[x.pk][1] for x in sealed] == [3, 3, 3, 2, 2, 1]
    assert {targets[x.pk] for x in world.persons["controlled"]} == {("controlled", 10)}


def test_open_is_one_insert_select_not_a_query_per_person(world: World) -> None:
    rnd = services.round_create(
        actor=world.command, name="全市", jurisdictions=[world.tree.city], starts_at=at(10, 6)
    )
    with CaptureQueriesContext(connection) as ctx:
        services.round_open(actor=world.command, round=rnd)

    inserts = [
        q
        for q in ctx.captured_queries
        if "testing_roundtarget" in q["sql"].lower()
        and q["sql"].lstrip().upper().startswith(("WITH", "INSERT"))
    ]
    assert len(inserts) == 1
    assert len(ctx.captured_queries) < 15
    assert RoundTarget.objects.filter(round=rnd).count() == 18


@pytest.mark.postgres
def test_opening_refreshes_the_planner_statistics_of_the_targets(world: World) -> None:
    """Sampling starts the minute a round opens: the planner must know the new round's
    targets at once, or each sync walks the whole round to find its hundred persons."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE testing_roundtarget")  # the statistics before: no targets
    rnd = services.round_create(
        actor=world.command, name="全市", jurisdictions=[world.tree.city], starts_at=at(10, 6)
    )
    rnd = services.round_open(actor=world.command, round=rnd)

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'testing_roundtarget'")
        (reltuples,) = cursor.fetchone()
        cursor.execute(
            "SELECT most_common_vals::text FROM pg_stats "
            "WHERE tablename = 'testing_roundtarget' AND attname = 'round_id'"
        )
        (common,) = cursor.fetchone()
    assert reltuples >= rnd.target_count == 18
    assert str(rnd.pk) in common.strip("{}").split(",")


def test_open_twice_and_close_rules(world: World) -> None:
    rnd = services.round_create(
        actor=world.town_a_user, name="乌镇", jurisdictions=[world.tree.town_a], starts_at=at(10, 6)
    )
    with pytest.raises(Conflict) as not_open:
        services.round_close(actor=world.town_a_user, round=rnd)
    services.round_open(actor=world.town_a_user, round=rnd)
    with pytest.raises(Conflict) as twice:
        services.round_open(actor=world.town_a_user, round=rnd)
    closed = services.round_close(actor=world.town_a_user, round=rnd)

    assert not_open.value.code == "round_not_open"
    assert twice.value.code == "round_not_planned"
    assert closed.status == RoundStatus.CLOSED and closed.closed_at is not None
    actions = list(
        AuditEvent.objects.filter(object_type="round", object_id=str(rnd.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["round.create", "round.open", "round.close"]
    assert RoundTarget.objects.filter(round=rnd).count() == 15


def test_town_b_cannot_create_in_town_a_nor_open_its_round(world: World) -> None:
    with pytest.raises(PermissionDenied) as outside:
        services.round_create(
            actor=world.town_b_user,
            name="越权",
            jurisdictions=[world.tree.town_a],
            starts_at=at(10, 6),
        )
    with pytest.raises(PermissionDenied):
        services.round_create(
            actor=world.town_b_user, name="越权", zones=[world.sealed], starts_at=at(10, 6)
        )
    rnd = services.round_create(
        actor=world.town_a_user, name="乌镇", jurisdictions=[world.tree.town_a], starts_at=at(10, 6)
    )
    with pytest.raises(NotFound):
        services.round_open(actor=world.town_b_user, round=rnd)

    assert outside.value.code == "round_scope_outside"
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.PLANNED


def test_wrong_role_cannot_create_or_open(world: World, make_user: Any) -> None:
    worker = make_user(Role.COMMUNITY_WORKER, world.tree.community_a)
    lab = make_user(Role.LAB, world.tree.town_a)
    with pytest.raises(PermissionDenied):
        services.round_create(
            actor=worker, name="x", jurisdictions=[world.tree.community_a], starts_at=at(10, 6)
        )
    rnd = services.round_create(
        actor=world.town_a_user, name="乌镇", jurisdictions=[world.tree.town_a], starts_at=at(10, 6)
    )
    with pytest.raises(PermissionDenied):
        services.round_open(actor=lab, round=rnd)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"name": ""}, "round_name_required"),
        ({"jurisdictions": []}, "round_scope_empty"),
        ({"sealed_pooling": "bogus"}, "sealed_pooling_invalid"),
        ({"starts_at": dt.datetime(2022, 7, 10, 6)}, "naive_datetime"),
    ],
)
def test_bad_input_is_refused_with_a_code(world: World, kwargs: dict[str, Any], code: str) -> None:
    args: dict[str, Any] = {
        "actor": world.town_a_user,
        "name": "乌镇",
        "jurisdictions": [world.tree.town_a],
        "starts_at": at(10, 6),
        **kwargs,
    }
    with pytest.raises(DomainError) as err:
        services.round_create(**args)
    assert err.value.code == code


def test_a_lifted_zone_cannot_be_a_scope(world: World) -> None:
    _lift(world.controlled)
    world.controlled.refresh_from_db()
    with pytest.raises(DomainError) as err:
        services.round_create(
            actor=world.command, name="x", zones=[world.controlled], starts_at=at(10, 6)
        )
    assert err.value.code == "zone_not_active"
