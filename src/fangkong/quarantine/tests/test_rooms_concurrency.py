"""No room is ever double-booked (PostgreSQL): two placers for the last free room, one
wins and the other gets a clear code; concurrent bulk placers take different rooms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fangkong.core.errors import Conflict
from fangkong.quarantine.models import Occupancy, Placement
from fangkong.quarantine.services import placements as services
from fangkong.testkit import people as kit_people
from fangkong.testkit import quarantine as kit
from fangkong.testkit import tracing as kit_tracing
from fangkong.testkit.actors import kit_admin
from fangkong.testkit.concurrency import race


def _place(contact: Any, room: Any) -> Callable[[], Any]:
    actor = kit_admin()
    return lambda: services.placement_create(
        actor=actor, person=contact.person, contact=contact, site=room.site, room=room
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_strangers_for_the_last_room_one_wins(tree: Any) -> None:
    site = kit.site_with_rooms(tree, rooms=1)
    room = kit.free_room(site)
    a = kit.close_contact(tree.community_a)
    b = kit.close_contact(tree.community_a)

    results, errors = race(_place(a, room), _place(b, room))

    assert len(results) == 1
    assert len(errors) == 1
    assert isinstance(errors[0], Conflict)
    assert errors[0].code in {"room_taken", "room_shared_with_other_party"}
    assert Occupancy.objects.filter(room=room, ended_at=None).count() == 1
    assert Placement.objects.filter(room=room).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_household_may_share_strangers_never_under_concurrency(tree: Any) -> None:
    site = kit.site_with_rooms(tree, rooms=1, kind="multi", beds=3)
    room = kit.free_room(site)
    home = kit_people.household(tree.community_a)
    first = kit.close_contact(tree.community_a, household=home)
    services.placement_create(
        actor=kit_admin(), person=first.person, contact=first, site=site, room=room
    )
    member = kit.close_contact(tree.community_a, household=home)
    stranger = kit.close_contact(tree.community_a)

    results, errors = race(_place(member, room), _place(stranger, room))

    assert len(results) == 1 and results[0].person_id == member.person_id
    assert [e.code for e in errors] == ["room_shared_with_other_party"]  # type: ignore[attr-defined]
    assert Occupancy.objects.filter(room=room, ended_at=None).count() == 1
    parties = set(Placement.objects.filter(room=room).values_list("occupancy__party", flat=True))
    assert parties == {f"h{home.pk}"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_bulk_placers_never_share_a_room(tree: Any) -> None:
    kit.site_with_rooms(tree, rooms=5)
    cases = []
    for _ in range(2):
        case = kit_tracing.reported_case(kit_people.person(tree.community_a, "病例"))
        for _ in range(3):
            kit.close_contact(tree.community_a, case=case)
        cases.append(case)
    actor = kit_admin()

    def bulk(case: Any) -> Callable[[], Any]:
        return lambda: services.placements_create_for_case(actor=actor, case=case)

    results, errors = race(bulk(cases[0]), bulk(cases[1]))

    # 5 rooms for 6 people: one bulk places its 3, the other finds too few rooms.
    assert len(results) == 1 and len(results[0].placements) == 3
    assert [e.code for e in errors] == ["no_free_room"]  # type: ignore[attr-defined]
    assert Occupancy.objects.filter(ended_at=None).count() == 3
    assert Placement.objects.values("room").distinct().count() == 3
