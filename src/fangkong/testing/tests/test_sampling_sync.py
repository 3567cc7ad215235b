"""The sync of samplers' batches: idempotent, per item, set-based."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.accounts.roles import Role
from fangkong.accounts.services import user_create
from fangkong.core.errors import NotFound, PermissionDenied
from fangkong.people.models import Person
from fangkong.testing.models import Sample, Tube, TubeState
from fangkong.testing.services.sampling import sampling_sync, tube_close
from fangkong.testkit import testing
from fangkong.testkit.worlds.sampling import PASSWORD, World, build_world, new_ric

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree: Any) -> World:
    return build_world(tree)


def _statuses(result: Any) -> list[str]:
    return [s.status for s in result.samples]


def test_a_batch_stores_its_tubes_and_samples_and_closes_full_tubes(world: World) -> None:
    tubes = world.tubes_of(world.persons[:25])  # 10 + 10 + 5

    result = sampling_sync(actor=world.sampler, tubes=tubes)

    assert _statuses(result) == ["ok"] * 25
    assert [t.status for t in result.tubes] == ["ok", "ok", "ok"]
    assert [t.state for t in result.tubes] == ["closed", "closed", "open"]
    assert Sample.objects.filter(round=world.round).count() == 25
    assert not Sample.objects.filter(walk_in=True).exists()
    stored = {t.barcode: t for t in Tube.objects.all()}
    assert stored[tubes[0].barcode].state == TubeState.CLOSED
    assert stored[tubes[0].barcode].closed_at is not None
    assert stored[tubes[2].barcode].state == TubeState.OPEN
    assert stored[tubes[2].barcode].sampler == world.sampler
    sample = Sample.objects.get(client_uuid=tubes[0].samples[0].client_uuid)
    assert sample.person == world.persons[0]
    assert sample.jurisdiction_path == world.persons[0].jurisdiction_path
    assert sample.sampler == world.sampler


def test_the_same_batch_three_times_stores_it_once(world: World) -> None:
    tubes = world.tubes_of(world.persons[:25])

    first = sampling_sync(actor=world.sampler, tubes=tubes)
    second = sampling_sync(actor=world.sampler, tubes=tubes)
    third = sampling_sync(actor=world.sampler, tubes=tubes)

    assert first.count("ok") == 25
    assert _statuses(second) == _statuses(third) == ["duplicate"] * 25
    assert [t.status for t in third.tubes] == ["duplicate"] * 3
    assert Sample.objects.count() == 25
    assert Tube.objects.count() == 3
    assert Tube.objects.filter(state=TubeState.CLOSED).count() == 2


def test_a_batch_cut_off_midway_and_retried_whole_stores_each_sample_once(world: World) -> None:
    tubes = world.tubes_of(world.persons[:30], per_tube=5)  # 6 tubes of 5
    # The connection dropped after the server stored the first half (one transaction).
    sampling_sync(actor=world.sampler, tubes=tubes[:3])

    retry = sampling_sync(actor=world.sampler, tubes=tubes)

    assert _statuses(retry) == ["duplicate"] * 15 + ["ok"] * 15
    assert Sample.objects.count() == 30
    assert Sample.objects.values("client_uuid").distinct().count() == 30
    assert Tube.objects.count() == 6


def test_a_tube_barcode_used_in_another_round_or_point_is_refused(world: World, tree: Any) -> None:
    first = world.tube([world.sample(world.persons[0])])
    sampling_sync(actor=world.sampler, tubes=[first])
    other_round = testing.open_round(tree.town_a, name="第二轮")
    reused = world.tube([world.sample(world.persons[1])], barcode=first.barcode, rnd=other_round)
    fine = world.tube([world.sample(world.persons[2])], rnd=other_round)

    result = sampling_sync(actor=world.sampler, tubes=[reused, fine])

    assert result.tubes[0].status == "error"
    assert result.tubes[0].code == "tube_barcode_taken"
    assert [(s.status, s.code) for s in result.samples] == [
        ("error", "tube_barcode_taken"),
        ("ok", ""),
    ]
    assert Sample.objects.filter(round=other_round).count() == 1

    # The same barcode from another point of the same round: refused too.
    other_point = testing.point(tree.community_a)
    other_sampler = user_create(
        username="sampler-other",
        password=PASSWORD,
        role=Role.SAMPLER,
        jurisdiction=tree.community_a,
        place=other_point.place,
    )
    again = world.tube([world.sample(world.persons[3])], barcode=first.barcode)
    result = sampling_sync(actor=other_sampler, tubes=[again])
    assert result.tubes[0].code == "tube_barcode_taken"
    assert Tube.objects.get(barcode=first.barcode).point == world.point
    assert Sample.objects.filter(tube__barcode=first.barcode).count() == 1


def test_a_person_sampled_twice_in_a_round_is_a_retest(world: World) -> None:
    person = world.persons[0]
    sampling_sync(actor=world.sampler, tubes=[world.tube([world.sample(person)])])

    result = sampling_sync(
        actor=world.sampler, tubes=[world.tube([world.sample(person, minute=40)])]
    )

    assert _statuses(result) == ["ok"]
    # Stored, and flagged to the sampler (a retest, or the same card scanned by mistake).
    assert (result.samples[0].code, str(result.samples[0].message)) == (
        "retest",
        "此人本轮已在其他试管采样（复检）",
    )
    samples = Sample.objects.filter(round=world.round, person=person)
    assert samples.count() == 2
    # Coverage counts persons, so the retest counts once.
    assert samples.values("person").distinct().count() == 1


def test_the_same_person_twice_in_one_tube_is_refused(world: World) -> None:
    person = world.persons[0]
    tube = world.tube([world.sample(person), world.sample(person, minute=1)])

    result = sampling_sync(actor=world.sampler, tubes=[tube])

    assert [(s.status, s.code) for s in result.samples] == [
        ("ok", ""),
        ("error", "already_in_tube"),
    ]
    assert Sample.objects.count() == 1


def test_an_unknown_walk_in_in_two_tubes_is_registered_once(world: World) -> None:
    ric = new_ric()
    walk_in = {"name": "赵临时", "phone": "13900001111"}
    tubes = [
        world.tube([world.sample(ric=ric, **walk_in), world.sample(world.persons[0])]),
        world.tube([world.sample(ric=ric, minute=5, **walk_in)]),
    ]
    before = Person.objects.count()

    result = sampling_sync(actor=world.sampler, tubes=tubes)
    again = sampling_sync(actor=world.sampler, tubes=tubes)

    assert _statuses(result) == ["ok", "ok", "ok"]
    assert _statuses(again) == ["duplicate"] * 3
    assert Person.objects.count() == before + 1
    created = Person.objects.order_by("-pk").first()
    assert created is not None and created.name == "赵临时"
    assert created.phone_masked == "139****1111"
    assert created.jurisdiction == world.tree.community_a  # the point's community
    walk_ins = Sample.objects.filter(person=created)
    assert walk_ins.count() == 2 and all(s.walk_in for s in walk_ins)
    assert Sample.objects.get(person=world.persons[0]).walk_in is False


def test_a_registered_person_outside_the_target_is_a_walk_in(world: World, tree: Any) -> None:
    outsider_ric = new_ric()
    from fangkong.people.services import person_create

    outsider = person_create(
        actor=world.admin,
        name="钱外来",
        id_kind="ric",
        id_number=outsider_ric,
        jurisdiction=tree.community_b,
    )

    result = sampling_sync(
        actor=world.sampler, tubes=[world.tube([world.sample(ric=outsider_ric)])]
    )

    assert _statuses(result) == ["ok"]
    sample = Sample.objects.get(person=outsider)
    assert sample.walk_in is True
    assert sample.jurisdiction_path == tree.community_b.path


def test_a_bad_id_number_is_refused_per_item_and_the_rest_stored(world: World) -> None:
    good = world.sample(world.persons[0])
    valid = new_ric()
    bad = world.sample(ric=valid[:-1] + ("0" if valid[-1] != "0" else "1"))
    short = world.sample(ric="3304831990")
    unknown = world.sample(ric=new_ric())  # valid, not registered, no walk-in details

    result = sampling_sync(actor=world.sampler, tubes=[world.tube([good, bad, short, unknown])])

    assert [(s.status, s.code) for s in result.samples] == [
        ("ok", ""),
        ("error", "id_bad_checksum"),
        ("error", "id_wrong_length"),
        ("error", "person_not_found"),
    ]
    assert list(Sample.objects.values_list("client_uuid", flat=True)) == [good.client_uuid]


def test_a_sample_beyond_the_pool_size_is_refused(world: World) -> None:
    tube = world.tube([world.sample(p) for p in world.persons[:11]], pool_size=10)

    result = sampling_sync(actor=world.sampler, tubes=[tube])

    assert _statuses(result) == ["ok"] * 10 + ["error"]
    assert result.samples[-1].code == "tube_full"
    assert result.tubes[0].state == "closed" and result.tubes[0].samples == 10
    assert Sample.objects.count() == 10
    # A later sample for the full tube: the tube is closed now.
    late = sampling_sync(
        actor=world.sampler,
        tubes=[world.tube([world.sample(world.persons[12])], barcode=tube.barcode)],
    )
    assert late.samples[0].code == "tube_closed"
    assert (late.tubes[0].state, late.tubes[0].samples) == ("closed", 10)


def test_a_tube_closed_by_hand_takes_no_more_samples(world: World) -> None:
    tube = world.tube([world.sample(p) for p in world.persons[:3]], closed=True)

    result = sampling_sync(actor=world.sampler, tubes=[tube])
    later = sampling_sync(
        actor=world.sampler,
        tubes=[world.tube([world.sample(world.persons[4])], barcode=tube.barcode)],
    )

    assert result.tubes[0].state == "closed"
    stored = Tube.objects.get(barcode=tube.barcode)
    assert stored.state == TubeState.CLOSED and stored.closed_at == tube.closed_at
    assert (later.samples[0].status, later.samples[0].code) == ("error", "tube_closed")
    assert Sample.objects.count() == 3


def test_tube_close_service_closes_an_open_tube_once(world: World) -> None:
    tube = world.tube([world.sample(world.persons[0])])
    sampling_sync(actor=world.sampler, tubes=[tube])

    closed = tube_close(actor=world.sampler, barcode=tube.barcode)

    assert closed.state == TubeState.CLOSED and closed.closed_at is not None
    with pytest.raises(Exception) as excinfo:
        tube_close(actor=world.sampler, barcode=tube.barcode)
    assert getattr(excinfo.value, "code", "") == "tube_closed"


def test_pool_size_must_be_one_the_round_allows(world: World) -> None:
    ok_single = world.tube([world.sample(world.persons[0])], pool_size=1)
    ok_twenty = world.tube([world.sample(world.persons[1])], pool_size=20)
    bad = world.tube([world.sample(world.persons[2])], pool_size=7)

    result = sampling_sync(actor=world.sampler, tubes=[ok_single, ok_twenty, bad])

    assert [(t.status, t.code) for t in result.tubes] == [
        ("ok", ""),
        ("ok", ""),
        ("error", "pool_size_invalid"),
    ]
    assert result.tubes[0].state == "closed"  # a single tube is full with one sample
    assert Tube.objects.count() == 2


def test_rounds_not_open_or_not_covering_the_point_are_refused(world: World, tree: Any) -> None:
    planned = testing.planned_round(tree.town_a, name="计划")
    elsewhere = testing.open_round(tree.town_b, name="濮院")
    tubes = [
        world.tube([world.sample(world.persons[0])], rnd=planned),
        world.tube([world.sample(world.persons[1])], rnd=elsewhere),
    ]

    result = sampling_sync(actor=world.sampler, tubes=tubes)

    assert [t.code for t in result.tubes] == ["round_not_open", "round_not_found"]
    assert [s.code for s in result.samples] == ["round_not_open", "round_not_found"]
    assert not Tube.objects.exists() and not Sample.objects.exists()


def test_implausible_sample_times_are_refused(world: World) -> None:
    import dataclasses
    import datetime as dt

    early = dataclasses.replace(
        world.sample(world.persons[0]), sampled_at=world.round.starts_at - dt.timedelta(days=2)
    )
    future = dataclasses.replace(
        world.sample(world.persons[1]),
        sampled_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
    )

    result = sampling_sync(actor=world.sampler, tubes=[world.tube([early, future])])

    assert [s.code for s in result.samples] == ["sampled_at_invalid", "sampled_at_invalid"]
    assert not Sample.objects.exists()


def test_a_sync_costs_the_same_queries_for_2_or_20_tubes(world: World) -> None:
    small = world.tubes_of(world.persons[:4], per_tube=2)[:2]
    large = world.tubes_of(world.persons[4:24], per_tube=1)

    with CaptureQueriesContext(connection) as few:
        sampling_sync(actor=world.sampler, tubes=small)
    with CaptureQueriesContext(connection) as many:
        sampling_sync(actor=world.sampler, tubes=large)

    assert Sample.objects.count() == 24
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(many.captured_queries) <= 16


def test_a_role_without_sample_register_is_refused(world: World, make_user: Any) -> None:
    town_staff = make_user(Role.TOWN_STAFF, world.tree.town_a)

    with pytest.raises(PermissionDenied):
        sampling_sync(actor=town_staff, tubes=[world.tube([world.sample(world.persons[0])])])
    assert not Sample.objects.exists()


def test_a_sampler_cannot_sync_to_another_point(world: World, tree: Any) -> None:
    other = testing.point(tree.community_b)

    with pytest.raises(NotFound):
        sampling_sync(
            actor=world.sampler,
            point_id=other.pk,
            tubes=[world.tube([world.sample(world.persons[0])])],
        )
    assert not Tube.objects.exists()


def test_a_town_role_with_the_capability_only_syncs_points_in_its_town(
    world: World, tree: Any, make_user: Any
) -> None:
    # command has every capability; bound to 濮院镇 for this test, it may not reach 乌镇镇.
    outsider = make_user(Role.COMMAND, tree.town_b)

    with pytest.raises(NotFound):
        sampling_sync(
            actor=outsider,
            point_id=world.point.pk,
            tubes=[world.tube([world.sample(world.persons[0])])],
        )
    desk = make_user(Role.COMMAND, tree.city)
    result = sampling_sync(
        actor=desk, point_id=world.point.pk, tubes=[world.tube([world.sample(world.persons[0])])]
    )
    assert _statuses(result) == ["ok"]


def test_the_same_uuid_twice_in_a_batch_is_stored_once(world: World) -> None:
    sample = world.sample(world.persons[0])

    result = sampling_sync(actor=world.sampler, tubes=[world.tube([sample]), world.tube([sample])])

    assert _statuses(result) == ["ok", "duplicate"]
    assert Sample.objects.count() == 1
    assert Sample.objects.get().client_uuid == sample.client_uuid
    assert isinstance(sample.client_uuid, uuid.UUID)


def test_a_stored_sample_sent_again_in_a_new_tube_is_stored_once(world: World) -> None:
    """A batch of new tubes skips the stored-samples lookup; a phone that sends a stored
    sample again in another tube still gets `duplicate`, and it is stored once."""
    first = world.tube([world.sample(world.persons[0]), world.sample(world.persons[1])])
    sampling_sync(actor=world.sampler, tubes=[first])
    moved = world.tube([first.samples[0], world.sample(world.persons[2])])

    result = sampling_sync(actor=world.sampler, tubes=[moved])

    assert _statuses(result) == ["duplicate", "ok"]
    assert Sample.objects.count() == 3
    assert (result.tubes[0].state, result.tubes[0].samples) == ("open", 1)
    assert Tube.objects.get(barcode=moved.barcode).samples.count() == 1


def test_a_stored_sample_sent_again_does_not_count_towards_a_new_tube_fill(
    world: World,
) -> None:
    """The phone lost the answer, rescanned a new tube and sent the stored sample with
    nine new ones: the tube holds nine and stays open, and the tenth person has room."""
    first = world.tube([world.sample(world.persons[0])])
    sampling_sync(actor=world.sampler, tubes=[first])
    new = [world.sample(p) for p in world.persons[1:11]]
    tube = world.tube([first.samples[0], *new[:9]])

    result = sampling_sync(actor=world.sampler, tubes=[tube])
    tenth = sampling_sync(actor=world.sampler, tubes=[world.tube([new[9]], barcode=tube.barcode)])

    assert _statuses(result) == ["duplicate"] + ["ok"] * 9
    assert (result.tubes[0].state, result.tubes[0].samples) == ("open", 9)
    assert _statuses(tenth) == ["ok"]
    assert (tenth.tubes[0].state, tenth.tubes[0].samples) == ("closed", 10)
    assert Tube.objects.get(barcode=tube.barcode).samples.count() == 10
    assert Sample.objects.get(client_uuid=first.samples[0].client_uuid).tube.barcode == (
        first.barcode
    )


def test_a_tube_filled_over_two_syncs_knows_who_is_in_it(world: World) -> None:
    """The second sync of a tube stored before reads its members: the same person again
    is `already_in_tube`, and the tube closes at its pool size, not before."""
    persons = world.persons[:10]
    barcode = "FILL-TWICE-1"
    first = world.tube([world.sample(p) for p in persons[:6]], barcode=barcode)
    sampling_sync(actor=world.sampler, tubes=[first])
    again = world.tube(
        [world.sample(persons[0])] + [world.sample(p) for p in persons[6:]], barcode=barcode
    )

    result = sampling_sync(actor=world.sampler, tubes=[again])

    assert [(s.status, s.code) for s in result.samples] == [("error", "already_in_tube")] + [
        ("ok", "")
    ] * 4
    assert (result.tubes[0].status, result.tubes[0].state) == ("duplicate", "closed")
    assert Tube.objects.get(barcode=barcode).samples.count() == 10


@pytest.mark.postgres
def test_on_postgresql_the_sync_statements_are_prepared_once_per_connection(
    world: World,
) -> None:
    """The sync's fixed statements bind server-side and PostgreSQL prepares them (the
    settings' prepare_threshold): later batches skip their parsing and planning."""
    for n in range(3):
        batch = world.tubes_of(world.persons[n * 10 : n * 10 + 10])
        assert sampling_sync(actor=world.sampler, tubes=batch).count("ok") == 10

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any(s.startswith("INSERT INTO testing_tube") for s in prepared), prepared
    assert any(s.startswith("WITH closed AS (UPDATE testing_tube") for s in prepared), prepared
    assert any("FROM people_person WHERE id_hmac" in s for s in prepared), prepared


def test_a_stored_tube_sent_again_closed_with_no_new_sample_closes(world: World) -> None:
    """A phone closes a half-full tube by hand after its samples were synced: the sync
    carries the tube with `closed_at` and no sample, and stores nothing but the close."""
    first = world.tube([world.sample(p) for p in world.persons[:4]])
    sampling_sync(actor=world.sampler, tubes=[first])

    result = sampling_sync(
        actor=world.sampler, tubes=[world.tube([], barcode=first.barcode, closed=True)]
    )

    assert (result.tubes[0].status, result.tubes[0].state, result.tubes[0].samples) == (
        "duplicate",
        "closed",
        4,
    )
    stored = Tube.objects.get(barcode=first.barcode)
    assert stored.state == TubeState.CLOSED and stored.closed_at is not None
    assert Sample.objects.count() == 4


@pytest.mark.postgres
def test_on_postgresql_the_sync_never_plans_a_sequential_scan(world: World) -> None:
    """A first round's samples start from an empty table: a plan made then (and kept by
    the prepared statement) would scan the table while it grows. The sync turns
    sequential scans off for its transaction before its first lookup, and the setting
    ends with it."""
    with CaptureQueriesContext(connection) as ctx:
        sampling_sync(actor=world.sampler, tubes=world.tubes_of(world.persons[:10]))

    sqls = [q["sql"] for q in ctx.captured_queries]
    first_lookup = next(i for i, q in enumerate(sqls) if "testing_tube" in q)
    assert "SET LOCAL enable_seqscan = off" in sqls[:first_lookup]
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_seqscan")
        assert cursor.fetchone()[0] == "on"


def test_the_same_person_in_two_tubes_of_one_batch_is_flagged_once(world: World) -> None:
    first, other = world.persons[0], world.persons[1]
    tubes = [
        world.tube([world.sample(first), world.sample(other)]),
        world.tube([world.sample(first, minute=40)]),
    ]

    result = sampling_sync(actor=world.sampler, tubes=tubes)

    assert [(s.status, s.code) for s in result.samples] == [
        ("ok", ""),
        ("ok", ""),
        ("ok", "retest"),
    ]
