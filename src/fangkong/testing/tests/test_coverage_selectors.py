"""Coverage figures equal a direct count; lists and counts are scoped to the user."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

from fangkong.core.errors import DomainError, NotFound, PermissionDenied
from fangkong.testing.models import ResultValue, Sample
from fangkong.testing.selectors import coverage as selectors
from fangkong.testkit import people, testing
from fangkong.testkit.worlds.coverage import (
    EXPECTED,
    EXPECTED_TOWNS,
    build_world,
    direct_counts,
    figures,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree: Any, make_user: Any) -> Any:
    return build_world(tree, make_user)


def test_counts_per_community_equal_the_expected_and_a_direct_count(world: Any) -> None:
    cov = selectors.round_coverage(user=world.users["command"], rnd=world.round, by="community")

    rows = {r.path: figures(r.counts) for r in cov.rows}
    assert rows == EXPECTED
    for path in EXPECTED:
        assert rows[path] == direct_counts(world.round, path)
    assert {r.path: r.name for r in cov.rows}["330483102002"] == "民合村"


def test_counts_per_town_roll_up_the_communities(world: Any) -> None:
    cov = selectors.round_coverage(user=world.users["command"], rnd=world.round, by="town")

    assert {r.path: figures(r.counts) for r in cov.rows} == EXPECTED_TOWNS
    assert figures(cov.totals) == direct_counts(world.round, "330483")
    assert cov.totals.target == 13 and cov.totals.walk_ins == 2
    assert cov.totals.percent == round(100 * 6 / 13, 1)


def test_a_retest_counts_once_and_a_walk_in_only_as_a_walk_in(world: Any) -> None:
    a1 = world.persons["a1"]
    assert Sample.objects.filter(round=world.round, person=a1).count() == 2
    cov = selectors.round_coverage(
        user=world.users["command"], rnd=world.round, by="community", within="330483102001"
    )

    assert cov.totals.sampled == 3  # a1 (twice), a2, a3
    assert cov.totals.walk_ins == 1  # w1, not in the target
    assert cov.totals.target == 6


def test_a_positive_pool_holds_its_members_without_counting_them_positive(world: Any) -> None:
    cov = selectors.round_coverage(user=world.users["command"], rnd=world.round, by="community")

    positive = {r.path: r.counts.positive for r in cov.rows}
    held = {r.path: r.counts.held for r in cov.rows}
    assert positive == {"330483102001": 0, "330483102002": 0, "330483101001": 0}
    assert held == {"330483102001": 2, "330483102002": 0, "330483101001": 0}


def test_a_20_in_1_pool_with_one_confirmed_case_counts_one_positive_person(
    tree: Any, make_user: Any
) -> None:
    from fangkong.accounts.roles import Role
    from fangkong.testing.models import Recheck, TransportBox
    from fangkong.testing.services import boxes as box_services
    from fangkong.testing.services import rechecks as recheck_services
    from fangkong.testkit.clock import at
    from fangkong.testkit.worlds.labs import build_world as labs_world

    world = labs_world(tree, make_user)
    members = world.persons_a + world.persons_b  # 20 persons, one 20-in-1 tube
    pool = testing.tube(world.round, world.point, members, pool_size=20, barcode="P20")
    testing.result(pool, ResultValue.POSITIVE, lab=world.lab, tested_at=at(10, 12))
    command = make_user(Role.COMMAND, tree.city, "cov-20-command")
    cov = selectors.round_coverage(user=command, rnd=world.round, by="town")
    assert (cov.totals.positive, cov.totals.held) == (0, 20)

    def recheck(person: Any, barcode: str, value: str, worker: Any) -> None:
        task = Recheck.objects.get(round=world.round, person=person)
        recheck_services.recheck_record_sample(
            actor=worker, recheck=task, barcode=barcode, sampled_at=at(10, 13)
        )
        box = TransportBox.objects.get(barcode=f"RC-{barcode}")
        box_services.box_receive(actor=world.lab_user, box=box, at=at(10, 13, 30))
        testing.result(box.tubes.get(), value, lab=world.lab, tested_at=at(10, 15))

    recheck(world.persons_a[0], "RC1", ResultValue.POSITIVE, world.community_a)
    recheck(world.persons_b[0], "RC2", ResultValue.NEGATIVE, world.community_b)

    cov = selectors.round_coverage(user=command, rnd=world.round, by="community")
    assert (cov.totals.positive, cov.totals.held) == (1, 18)
    rows = {r.path: (r.counts.positive, r.counts.held) for r in cov.rows}
    assert rows == {tree.community_a.path: (1, 9), tree.community_b.path: (0, 9)}
    assert selectors.round_totals(user=command, rnd=world.round).positive == 1
    listed = selectors.rounds_totals(user=command, rounds=[world.round])[world.round.pk]
    assert (listed.target, listed.positive, listed.held) == (20, 1, 18)
    # the other community's worker sees neither the case nor community_a's holds
    worker_b = make_user(Role.COMMUNITY_WORKER, tree.community_b, "cov-20-worker-b")
    mine = selectors.round_totals(user=worker_b, rnd=world.round)
    assert (mine.positive, mine.held, mine.target) == (0, 9, 10)
    listed = selectors.rounds_totals(user=worker_b, rounds=[world.round])[world.round.pk]
    assert (listed.positive, listed.held, listed.target, listed.sampled) == (0, 9, 10, 10)


def test_community_worker_counts_only_her_community(world: Any) -> None:
    cov = selectors.round_coverage(user=world.users["worker_a"], rnd=world.round, by="community")

    assert [r.path for r in cov.rows] == ["330483102001"]
    assert figures(cov.totals) == EXPECTED["330483102001"]
    by_town = selectors.round_coverage(user=world.users["worker_a"], rnd=world.round, by="town")
    assert [(r.path, r.counts.target) for r in by_town.rows] == [("330483102", 6)]


def test_town_staff_count_only_their_town(world: Any) -> None:
    cov = selectors.round_coverage(user=world.users["town_b"], rnd=world.round, by="community")

    assert [r.path for r in cov.rows] == ["330483101001"]
    assert cov.totals.target == 4


def test_a_town_round_is_not_found_for_another_town(tree: Any, make_user: Any) -> None:
    people.person(tree.grid_a)
    rnd = testing.open_round(tree.town_a)
    town_b = make_user("town_staff", tree.town_b)
    worker_b = make_user("community_worker", tree.community_b)

    for user in (town_b, worker_b):
        with pytest.raises(NotFound):
            selectors.coverage_round_get(user=user, pk=rnd.pk)
    assert [r.pk for r in selectors.coverage_rounds(user=town_b).items] == []
    worker_a = make_user("community_worker", tree.community_a)
    assert [r.pk for r in selectors.coverage_rounds(user=worker_a).items] == [rnd.pk]


def test_within_another_town_is_not_found(world: Any) -> None:
    with pytest.raises(NotFound):
        selectors.round_coverage(user=world.users["town_a"], rnd=world.round, within="330483101")
    with pytest.raises(DomainError) as bad:
        selectors.round_coverage(user=world.users["command"], rnd=world.round, within="33048")
    assert bad.value.code == "jurisdiction_path_invalid"


@pytest.mark.parametrize("role_key", ["sampler", "lab", "site"])
def test_roles_without_coverage_view_are_refused(world: Any, role_key: str) -> None:
    user = world.users[role_key]
    with pytest.raises(PermissionDenied):
        selectors.coverage_round_get(user=user, pk=world.round.pk)
    with pytest.raises(PermissionDenied):
        selectors.round_coverage(user=user, rnd=world.round)
    with pytest.raises(PermissionDenied):
        selectors.untested_page(user=user, rnd=world.round, community_path="330483102001")


def test_untested_list_is_the_communitys_unsampled_targets(world: Any) -> None:
    page = selectors.untested_page(
        user=world.users["worker_a"], rnd=world.round, community_path="330483102001"
    )

    expected = {world.persons[k].pk for k in ("a4", "a5", "a6")}
    assert {t.person_id for t in page.items} == expected
    assert page.next_cursor is None


def test_untested_list_pages_by_keyset(world: Any) -> None:
    user = world.users["town_a"]
    first = selectors.untested_page(
        user=user, rnd=world.round, community_path="330483102001", size=2
    )
    second = selectors.untested_page(
        user=user, rnd=world.round, community_path="330483102001", cursor=first.next_cursor, size=2
    )

    assert len(first.items) == 2 and first.next_cursor is not None
    assert len(second.items) == 1 and second.next_cursor is None
    ids = [t.pk for t in first.items + second.items]
    assert ids == sorted(ids) and len(set(ids)) == 3


@pytest.mark.parametrize("user_key", ["worker_b", "worker_a2", "town_b"])
def test_untested_list_of_another_community_is_not_found(world: Any, user_key: str) -> None:
    with pytest.raises(NotFound):
        selectors.untested_page(
            user=world.users[user_key], rnd=world.round, community_path="330483102001"
        )


def test_untested_list_needs_a_community_path(world: Any) -> None:
    with pytest.raises(DomainError) as bad:
        selectors.untested_page(
            user=world.users["command"], rnd=world.round, community_path="330483102"
        )
    assert bad.value.code == "community_path_invalid"


def test_untested_counts_per_community(world: Any) -> None:
    counts = selectors.untested_counts(user=world.users["command"], rnd=world.round)

    assert counts == {"330483102001": 3, "330483102002": 2, "330483101001": 2}
    assert selectors.untested_counts(user=world.users["worker_b"], rnd=world.round) == {
        "330483101001": 2
    }


def test_samples_by_hour_are_cumulative(world: Any) -> None:
    points = selectors.samples_by_hour(user=world.users["command"], rnd=world.round)

    assert [p.samples for p in points] == [2, 3, 3, 1]  # 06:00, 07:00, 08:30, 09:00
    assert [p.cumulative for p in points] == [2, 5, 8, 9]
    assert points[0].hour == world.round.starts_at
    scoped = selectors.samples_by_hour(user=world.users["worker_b"], rnd=world.round)
    assert [p.samples for p in scoped] == [3]


def test_coverage_reads_a_bounded_number_of_queries(
    world: Any, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(7):
        selectors.round_coverage(user=world.users["command"], rnd=world.round, by="community")


def test_random_round_counts_equal_a_direct_count(tree: Any, make_user: Any) -> None:
    """Many persons over three communities, random samples, retests, walk-ins, results."""
    rng = random.Random(7)
    homes = [tree.grid_a, tree.community_a, tree.community_b]
    # The first 75 are registered before the round opens (its targets), the last 15 after
    # (walk-ins, never targets).
    persons = people.population([rng.choice(homes) for _ in range(75)], "测试人")
    rnd = testing.open_round(tree.city)
    persons += people.population([rng.choice(homes) for _ in range(15)], "测试人")
    targets = persons[:75]
    assert rnd.target_count == len(targets)
    point = testing.point(tree.town_a)
    lab = testing.lab(tree.city)
    pool = [p for p in persons if rng.random() < 0.7]
    rng.shuffle(pool)
    specs = [
        (pool[n : n + 5], {"sampled_at": rnd.starts_at + dt.timedelta(minutes=7 * n)})
        for n in range(0, len(pool), 5)
    ]
    tubes = testing.tubes(rnd, point, specs)
    retested = rng.sample(pool, 6)
    tubes.append(testing.tube(rnd, point, retested))
    outcomes = {}
    for tube in tubes:
        roll = rng.random()
        if roll < 0.15:
            outcomes[tube] = ResultValue.POSITIVE
        elif roll < 0.7:
            outcomes[tube] = ResultValue.NEGATIVE
    testing.results(outcomes, lab=lab, tested_at=rnd.starts_at + dt.timedelta(hours=8))
    command = make_user("command", tree.city)

    cov = selectors.round_coverage(user=command, rnd=rnd, by="community")
    assert figures(cov.totals) == direct_counts(rnd, "330483")
    for row in cov.rows:
        assert figures(row.counts) == direct_counts(rnd, row.path)
    untested = selectors.untested_counts(user=command, rnd=rnd)
    for path, n in untested.items():
        page = selectors.untested_page(user=command, rnd=rnd, community_path=path, size=200)
        assert len(page.items) == n == direct_counts(rnd, path)["untested"]


def test_target_tally_follows_a_recomputed_target(tree: Any, make_user: Any) -> None:
    """An open round's target counts are cached; recomputing the targets saves the
    round (target_count), which is a new cache entry. A planned round is never cached."""
    from fangkong.testing.models import RoundTarget

    command = make_user("command", tree.city)
    first = people.person(tree.grid_a)
    rnd = testing.open_round(tree.city)
    assert selectors.untested_counts(user=command, rnd=rnd) == {"330483102001": 1}

    second = people.person(tree.community_b)
    RoundTarget.objects.create(round=rnd, person=second, jurisdiction_path=second.jurisdiction_path)
    rnd.target_count = 2
    rnd.save()
    assert selectors.untested_counts(user=command, rnd=rnd) == {
        "330483102001": 1,
        "330483101001": 1,
    }

    planned = testing.planned_round(tree.city)
    RoundTarget.objects.create(
        round=planned, person=first, jurisdiction_path=first.jurisdiction_path
    )
    assert selectors.untested_counts(user=command, rnd=planned) == {"330483102001": 1}
    RoundTarget.objects.create(
        round=planned, person=second, jurisdiction_path=second.jurisdiction_path
    )
    assert sum(selectors.untested_counts(user=command, rnd=planned).values()) == 2


@pytest.mark.postgres
def test_on_postgresql_the_counts_and_the_list_use_their_indexes(world: Any) -> None:
    """The coverage indexes are the lean partial ones the counts read index-only (the
    plan at a million samples is in the README), and the untested list sorts the keys of
    the community's targets — never walks the round's primary key.
    (Which index a planner picks for a test's handful of rows is not asserted.)"""
    from django.db import connection
    from django.db.models import F

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'testing_sample'"
        )
        indexes = dict(cursor.fetchall())
    assert "(round_id, jurisdiction_path, person_id)" in indexes["sample_coverage"]
    assert "INCLUDE (tube_id, sampled_at)" in indexes["sample_coverage"]
    assert "WHERE (NOT walk_in)" in indexes["sample_coverage"]
    assert "WHERE walk_in" in indexes["sample_walk_ins"]

    untested = selectors.untested_queryset(
        user=world.users["command"], rnd=world.round, community_path="330483102001"
    )
    keys = untested.annotate(key=F("id") + 0).order_by("key").values_list("pk", flat=True)[:51]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE testing_roundtarget")
        cursor.execute("SET enable_seqscan = off")
        list_plan = keys.explain()
        cursor.execute("RESET enable_seqscan")
    assert "testing_roundtarget_pkey" not in list_plan, list_plan
    assert "Sort Key: ((testing_roundtarget.id + 0))" in list_plan


def test_a_city_owned_round_of_one_town_is_not_seen_by_another_town(
    tree: Any, make_user: Any
) -> None:
    """Visibility follows the round's scope, not only its owner: a round owned by the
    city but covering one town is that town's (and the city's), never another town's."""
    from fangkong.testing.models import RoundScope

    people.person(tree.grid_a)
    rnd = testing.open_round(tree.city)
    RoundScope.objects.filter(round=rnd).update(jurisdiction=tree.town_a)
    town_b = make_user("town_staff", tree.town_b)
    worker_a = make_user("community_worker", tree.community_a)

    with pytest.raises(NotFound):
        selectors.coverage_round_get(user=town_b, pk=rnd.pk)
    assert selectors.coverage_rounds(user=town_b).items == []
    assert selectors.coverage_round_get(user=worker_a, pk=rnd.pk) == rnd
    assert [r.pk for r in selectors.coverage_rounds(user=worker_a).items] == [rnd.pk]
