"""The quarantine core: sites and rooms, one placement with its dates and tests, a room
taken once (household sharing, strangers never), the kit's builders."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from fangkong.core.errors import Conflict, InvalidInput, PermissionDenied
from fangkong.quarantine.choices import Measure, PlacementStatus, RoomState
from fangkong.quarantine.models import Occupancy, PlacementTest, Room
from fangkong.quarantine.services import quarantine_delete_under
from fangkong.quarantine.services.placements import placement_create, placement_room_assign
from fangkong.quarantine.services.sites import room_state_set, rooms_create
from fangkong.testkit import people as kit_people
from fangkong.testkit import quarantine as kit

pytestmark = pytest.mark.django_db


def test_site_with_rooms_makes_rooms_by_floor(tree: Any) -> None:
    site = kit.site_with_rooms(tree, rooms=5, floors=3, accessible_per_floor=1)
    rooms = Room.objects.filter(site=site)
    assert rooms.count() == 15
    assert rooms.filter(accessible=True).count() == 3
    assert set(rooms.values_list("floor", flat=True)) == {1, 2, 3}
    assert rooms.filter(number="305").exists()


def test_rooms_create_refuses_a_number_that_exists(tree: Any) -> None:
    site = kit.site_with_rooms(tree, rooms=2)
    with pytest.raises(Conflict) as err:
        kit.more_rooms(site, building="1", rooms=2)
    assert err.value.code == "room_exists"


def test_site_manage_needs_the_capability(tree: Any, town_a_user: Any) -> None:
    site = kit.site_with_rooms(tree, rooms=1)
    with pytest.raises(PermissionDenied):
        rooms_create(actor=town_a_user, site=site, building="2", floors=1, rooms_per_floor=1)


def test_placed_contact_has_v9_dates_and_scheduled_tests(tree: Any) -> None:
    placement = kit.placed_contact(tree.town_a)
    today = timezone.localdate()
    exposure = today - dt.timedelta(days=1)
    assert placement.measure == Measure.CENTRALISED
    assert placement.status == PlacementStatus.PLANNED
    assert placement.ruleset.version == "v9"
    assert placement.quarantine_end_on == exposure + dt.timedelta(days=7)
    assert placement.monitoring_end_on == exposure + dt.timedelta(days=10)
    due = list(PlacementTest.objects.filter(placement=placement).values_list("due_on", "rule"))
    assert due == [
        (exposure + dt.timedelta(days=k), f"close_contact.centralised_test.{k}")
        for k in (1, 2, 3, 5, 7)
    ]
    assert placement.room.state == RoomState.OCCUPIED


def test_a_household_shares_a_multi_room_strangers_never(tree: Any) -> None:
    site = kit.site_with_rooms(tree, rooms=2, kind="multi", beds=3)
    room = kit.free_room(site)
    home = kit_people.household(tree.community_a)
    first = kit.placed_contact(tree.community_a, site=site, room=room, household=home)
    second = kit.placed_contact(tree.community_a, site=site, room=room, household=home)
    assert first.occupancy_id == second.occupancy_id
    with pytest.raises(Conflict) as err:
        kit.placed_contact(tree.community_a, site=site, room=room)
    assert err.value.code == "room_shared_with_other_party"
    assert Occupancy.objects.filter(room=room, ended_at=None).count() == 1


def test_a_single_room_takes_one_person(tree: Any) -> None:
    site = kit.site_with_rooms(tree, rooms=1)
    room = kit.free_room(site)
    home = kit_people.household(tree.community_a)
    kit.placed_contact(tree.community_a, site=site, room=room, household=home)
    with pytest.raises(Conflict) as err:
        kit.placed_contact(tree.community_a, site=site, room=room, household=home)
    assert err.value.code == "room_full"


def test_a_companion_shares_the_room(tree: Any) -> None:
    site = kit.site_with_rooms(tree, rooms=1, kind="multi", beds=2)
    child = kit.placed_contact(tree.community_a, site=site)
    parent = kit_people.person(tree.community_a, "陪护人")
    from fangkong.testkit.actors import kit_admin

    companion = placement_create(actor=kit_admin(), person=parent, companion_of=child)
    assert companion.room_id == child.room_id
    assert companion.occupancy_id == child.occupancy_id


def test_manual_override_moves_and_frees_the_old_room(tree: Any) -> None:
    site = kit.site_with_rooms(tree, rooms=2)
    placement = kit.placed_contact(tree.community_a, site=site)
    old = placement.room
    target = kit.free_room(site)
    from fangkong.testkit.actors import kit_admin

    moved = placement_room_assign(actor=kit_admin(), placement=placement, room=target)
    assert moved.room_id == target.pk
    old.refresh_from_db()
    assert old.state == RoomState.DISINFECT
    assert not Occupancy.objects.filter(room=old, ended_at=None).exists()


def test_room_state_refuses_occupied_and_unknown(tree: Any) -> None:
    placement = kit.placed_contact(tree.community_a)
    from fangkong.testkit.actors import kit_admin

    with pytest.raises(Conflict):
        room_state_set(actor=kit_admin(), room=placement.room, state="out_of_service")
    with pytest.raises(InvalidInput):
        room_state_set(actor=kit_admin(), room=kit.free_room(placement.site), state="occupied")


def test_second_open_placement_of_a_person_is_refused(tree: Any) -> None:
    placement = kit.placed_contact(tree.community_a, with_room=False)
    from fangkong.testkit.actors import kit_admin

    with pytest.raises(Conflict) as err:
        placement_create(actor=kit_admin(), person=placement.person, site=placement.site)
    assert err.value.code == "already_placed"


def test_delete_under_a_town_leaves_the_other(tree: Any) -> None:
    a = kit.placed_contact(tree.town_a)
    b = kit.placed_contact(tree.town_b)
    deleted = quarantine_delete_under(tree.town_a.path)
    assert deleted["quarantine.Placement"] == 1
    assert not Room.objects.filter(site=a.site).exists()
    assert Room.objects.filter(site=b.site).exists()


def test_a_placement_under_v8_counts_fourteen_days(tree: Any) -> None:
    from fangkong.testkit.actors import kit_admin

    exposed = dt.date(2022, 6, 9)
    contact = kit.close_contact(tree.community_a, exposed_on=exposed)
    site = kit.site_with_rooms(tree, rooms=1)
    placement = placement_create(
        actor=kit_admin(),
        person=contact.person,
        contact=contact,
        site=site,
        start_on=dt.date(2022, 6, 10),
    )
    assert placement.ruleset.version == "v8"
    assert placement.quarantine_end_on == exposed + dt.timedelta(days=14)
    assert placement.monitoring_end_on == exposed + dt.timedelta(days=21)
    due = sorted(placement.tests.values_list("due_on", flat=True))
    assert due == [exposed + dt.timedelta(days=k) for k in (1, 4, 7, 14)]


def test_a_risk_person_gets_home_monitoring_three_days_two_tests(tree: Any) -> None:
    from fangkong.testkit.actors import kit_admin

    contact = kit.close_contact(tree.community_a, classification="co_presence")
    placement = placement_create(actor=kit_admin(), person=contact.person, contact=contact)
    assert placement.measure == Measure.HOME_MONITORING
    assert placement.source == "risk_person"
    assert placement.status == PlacementStatus.ACTIVE and placement.site_id is None
    exposure = contact.last_exposure_on
    assert placement.monitoring_end_on == exposure + dt.timedelta(days=3)
    due = sorted(placement.tests.values_list("due_on", flat=True))
    assert due == [exposure + dt.timedelta(days=k) for k in (1, 3)]
