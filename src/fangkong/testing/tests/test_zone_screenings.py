"""A round's results as the zones' screenings (issue 13, zones in operation): when the
results of a zone's people are all in and all negative, testing records the screening
on the zone (which makes the downgrade proposal when the days are there too); a positive
among them voids it; the record is made once; a zone the round does not cover whole, or
whose people are not all resulted, gets nothing yet; closing the round completes it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from fangkong.accounts.roles import Role
from fangkong.areas.models import ZoneTransition
from fangkong.areas.services import zones as zone_services
from fangkong.testing.services import results as result_services
from fangkong.testing.services.rounds import round_close
from fangkong.testing.services.zone_screenings import zone_screenings_record
from fangkong.testkit import areas
from fangkong.testkit.actors import actor_or_admin
from fangkong.testkit.worlds.labs import World, build_world, received_tube, results_csv

pytestmark = pytest.mark.django_db

T = "2022-07-10 14:00"
ROUND_DAY = dt.date(2022, 7, 10)  # the labs world's round starts on 10 July, 06:00


@pytest.fixture
def world(tree: Any, make_user: Any) -> World:
    return build_world(tree, make_user)


@pytest.fixture
def command(tree: Any, make_user: Any) -> Any:
    return make_user(Role.COMMAND, tree.city, "command-city")


def _zone(world: World, command: Any, *, community: Any = None, days: int = 10) -> Any:
    """A controlled zone over a community, drawn on 1 July, its days closed through the
    round's day (10 days without a case: enough for v9's 7)."""
    target = community or world.tree.community_a
    zone = areas.zone(
        target.parent, "controlled", members=[target], started_on=dt.date(2022, 7, 1), actor=command
    )
    for k in range(days):
        zone = zone_services.zone_close_day(zone=zone, day=dt.date(2022, 7, 1) + dt.timedelta(k))
    return zone


def _screenings(zone: Any) -> list[dict[str, Any]]:
    return list(
        ZoneTransition.objects.filter(zone=zone, action="screening")
        .order_by("pk")
        .values_list("detail", flat=True)
    )


def _import(world: World, rows: list[tuple[Any, ...]], name: str = "r.csv") -> Any:
    return result_services.results_import_file(
        actor=world.lab_user, data=results_csv(rows), filename=name
    )


def test_all_negative_results_of_the_zone_record_its_screening_and_propose(
    world: World, command: Any
) -> None:
    zone = _zone(world, command)
    received_tube(world, world.persons_a[:5], barcode="TA1")
    received_tube(world, world.persons_a[5:], barcode="TA2")
    _import(world, [("TA1", "阴性", "", "", T)])
    zone.refresh_from_db()
    assert _screenings(zone) == []  # half of the zone's people have a result
    _import(world, [("TA2", "阴性", "", "", T)], name="r2.csv")
    zone.refresh_from_db()
    assert _screenings(zone) == [{"all_negative": True, "round": world.round.pk}]
    assert zone.last_negative_screening_on == ROUND_DAY
    assert zone.downgrade_proposed_on == ROUND_DAY  # 10 days and the screening: proposed
    row = ZoneTransition.objects.get(zone=zone, action="screening")
    assert row.actor == world.lab_user and world.round.name in row.reason
    # Once: the same round told again records nothing more.
    assert zone_screenings_record(actor=world.lab_user, round_ids=[world.round.pk]) == 0
    assert len(_screenings(zone)) == 1
    assert ZoneTransition.objects.filter(zone=zone, action="propose").count() == 1


def test_a_positive_in_the_zone_voids_the_screening_and_withdraws_the_proposal(
    world: World, command: Any
) -> None:
    zone = _zone(world, command)
    received_tube(world, world.persons_a[:5], barcode="TA1")
    received_tube(world, world.persons_a[5:], barcode="TA2")
    _import(world, [("TA1", "阴性", "", "", T), ("TA2", "阴性", "", "", T)])
    zone.refresh_from_db()
    assert zone.downgrade_proposed_on == ROUND_DAY
    # The lab corrects a tube to positive: the zone's screening of the round is void.
    _import(world, [("TA2", "阳性", 25, 26, "2022-07-10 16:00")], name="fix.csv")
    zone.refresh_from_db()
    assert _screenings(zone)[-1] == {"all_negative": False, "round": world.round.pk}
    assert (zone.last_negative_screening_on, zone.downgrade_proposed_on) == (None, None)
    assert ZoneTransition.objects.filter(zone=zone, action="withdraw").count() == 1


def test_a_positive_before_all_results_are_in_is_recorded_at_once(
    world: World, command: Any
) -> None:
    zone = _zone(world, command)
    received_tube(world, world.persons_a[:5], barcode="TA1")
    _import(world, [("TA1", "阳性", 25, 26, T)])
    assert _screenings(zone) == [{"all_negative": False, "round": world.round.pk}]


def test_a_zone_with_people_not_sampled_is_screened_when_the_round_closes(
    world: World, command: Any
) -> None:
    zone = _zone(world, command)
    received_tube(world, world.persons_a[:5], barcode="TA1")
    _import(world, [("TA1", "阴性", "", "", T)])
    assert _screenings(zone) == []
    admin = actor_or_admin(None)
    round_close(actor=admin, round=world.round)
    zone.refresh_from_db()
    assert _screenings(zone) == [{"all_negative": True, "round": world.round.pk}]
    assert zone.downgrade_proposed_on == ROUND_DAY


def test_other_zones_are_left_alone(world: World, command: Any) -> None:
    zone_a = _zone(world, command)
    zone_b = _zone(world, command, community=world.tree.community_b)
    received_tube(world, world.persons_a, barcode="TA1")
    _import(world, [("TA1", "阴性", "", "", T)])
    assert len(_screenings(zone_a)) == 1
    assert _screenings(zone_b) == []  # its people have no result yet
