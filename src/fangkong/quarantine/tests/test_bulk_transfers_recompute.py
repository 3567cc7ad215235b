"""Bulk placement of a case's contacts, transfers to the site, and dates recomputed on a
new exposure or a rule-set change (open placements only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from fangkong.accounts.roles import Role
from fangkong.core.errors import Conflict, NotFound, PermissionDenied
from fangkong.protocol.models import RuleSet
from fangkong.protocol.signals import ruleset_changed
from fangkong.quarantine.choices import PlacementStatus, TransferStatus
from fangkong.quarantine.models import Occupancy, Placement, PlacementTest
from fangkong.quarantine.services import placements as services
from fangkong.testkit import people as kit_people
from fangkong.testkit import quarantine as kit
from fangkong.testkit import tracing as kit_tracing
from fangkong.testkit.actors import kit_admin
from fangkong.tracing.models import Contact
from fangkong.tracing.signals import contact_dates_changed

pytestmark = pytest.mark.django_db


def _case_with_contacts(tree: Any, n: int, *, household: Any = None) -> tuple[Any, list[Any]]:
    case = kit_tracing.reported_case(kit_people.person(tree.community_a, "病例"))
    contacts = [
        kit.close_contact(tree.community_a, case=case, household=household) for _ in range(n)
    ]
    return case, contacts


def test_a_cases_contacts_are_placed_in_one_action(tree: Any, command_user: Any) -> None:
    site = kit.site_with_rooms(tree, rooms=6)
    case, _ = _case_with_contacts(tree, 5)
    result = services.placements_create_for_case(actor=command_user, case=case)
    assert len(result.placements) == 5
    assert result.rooms_taken == 5
    rooms = {p.room_id for p in Placement.objects.filter(site=site)}
    assert len(rooms) == 5
    assert Occupancy.objects.filter(ended_at=None).count() == 5
    assert PlacementTest.objects.count() == 5 * 5
    again = services.placements_create_for_case(actor=command_user, case=case)
    assert again.placements == []


def test_a_household_shares_a_multi_room_in_bulk(tree: Any, command_user: Any) -> None:
    site = kit.site_with_rooms(tree, rooms=3)
    kit.more_rooms(site, building="2", rooms=1, kind="multi", beds=3)
    home = kit_people.household(tree.community_a)
    case, family = _case_with_contacts(tree, 3, household=home)
    kit.close_contact(tree.community_a, case=case)
    result = services.placements_create_for_case(actor=command_user, case=case)
    placed = {p.person_id: p for p in result.placements}
    family_rooms = {placed[c.person_id].room_id for c in family}
    assert len(family_rooms) == 1
    assert result.rooms_taken == 2


def test_bulk_refuses_when_rooms_do_not_suffice(tree: Any, command_user: Any) -> None:
    kit.site_with_rooms(tree, rooms=2)
    case, _ = _case_with_contacts(tree, 3)
    with pytest.raises(Conflict) as err:
        services.placements_create_for_case(actor=command_user, case=case)
    assert err.value.code == "no_free_room"
    assert Placement.objects.count() == 0
    assert Occupancy.objects.count() == 0


def test_bulk_keeps_accessible_rooms_for_last(tree: Any, command_user: Any) -> None:
    site = kit.site_with_rooms(tree, rooms=4, accessible_per_floor=2)
    case, _ = _case_with_contacts(tree, 2)
    result = services.placements_create_for_case(actor=command_user, case=case)
    assert all(not p.room.accessible for p in result.placements)
    assert site.rooms.filter(accessible=True, state="ready").count() == 2


def test_a_town_places_only_its_residents(tree: Any, town_b_user: Any) -> None:
    kit.site_with_rooms(tree, rooms=4)
    case, contacts = _case_with_contacts(tree, 2)
    result = services.placements_create_for_case(actor=town_b_user, case=case)
    assert result.placements == []
    with pytest.raises(NotFound):
        services.placements_create_for_contacts(actor=town_b_user, contacts=contacts)


def test_bulk_needs_placement_manage(tree: Any, make_user: Any) -> None:
    case, _ = _case_with_contacts(tree, 1)
    worker = make_user(Role.COMMUNITY_WORKER, tree.community_a)
    with pytest.raises(PermissionDenied):
        services.placements_create_for_case(actor=worker, case=case)


def test_transfer_from_home_to_site(tree: Any, town_a_user: Any, town_b_user: Any) -> None:
    placement = kit.placed_contact(tree.community_a)
    with pytest.raises(NotFound):
        services.transfer_create(actor=town_b_user, placement=placement, vehicle="浙F12345")
    transfer = services.transfer_create(actor=town_a_user, placement=placement, vehicle="浙F12345")
    assert transfer.status == TransferStatus.WAITING
    with pytest.raises(Conflict):
        services.transfer_create(actor=town_a_user, placement=placement)
    services.transfer_depart(actor=town_a_user, transfer=transfer)
    placement.refresh_from_db()
    assert placement.status == PlacementStatus.IN_TRANSIT
    arrived = services.transfer_arrive(actor=town_a_user, transfer=transfer)
    assert arrived.status == TransferStatus.ARRIVED and arrived.arrived_at is not None
    with pytest.raises(Conflict):
        services.transfer_arrive(actor=town_a_user, transfer=transfer)


def test_new_exposure_recomputes_open_placements_only(tree: Any) -> None:
    site = kit.site_with_rooms(tree, rooms=4)
    open_one = kit.placed_contact(tree.community_a, site=site)
    closed = kit.placed_contact(tree.community_a, site=site)
    Placement.objects.filter(pk=closed.pk).update(status=PlacementStatus.RELEASED)
    later = timezone.localdate()
    Contact.objects.filter(pk__in=[open_one.contact_id, closed.contact_id]).update(
        last_exposure_on=later
    )
    contact_dates_changed.send(None, contact_ids=[open_one.contact_id, closed.contact_id])
    open_one.refresh_from_db()
    closed_before = closed.quarantine_end_on
    closed.refresh_from_db()
    assert open_one.quarantine_end_on == later + dt.timedelta(days=7)
    assert closed.quarantine_end_on == closed_before
    due = list(open_one.tests.values_list("due_on", flat=True))
    assert due == [later + dt.timedelta(days=k) for k in (1, 2, 3, 5, 7)]


def test_rule_set_change_recomputes_open_placements(tree: Any, ruleset: Any) -> None:
    placement = kit.placed_contact(tree.community_a)
    from fangkong.protocol.services import ruleset_create_override

    override = ruleset_create_override(
        actor=kit_admin(),
        based_on=ruleset,
        version="v9-桐乡",
        name="桐乡本地方案",
        region=tree.city.path,
        effective_from=timezone.localdate() - dt.timedelta(days=2),
        changes={"close_centralised_days": 10, "close_centralised_test_days": [1, 4, 7, 10]},
    )
    ruleset_changed.send(RuleSet, ruleset_id=override.pk)
    placement.refresh_from_db()
    exposure = placement.last_exposure_on
    assert placement.ruleset_id == override.pk
    assert placement.quarantine_end_on == exposure + dt.timedelta(days=10)
    assert sorted(placement.tests.values_list("rule", flat=True)) == sorted(
        f"close_contact.centralised_test.{k}" for k in (1, 10, 4, 7)
    )


def test_an_upgraded_secondary_contact_gets_close_dates(tree: Any) -> None:
    placement = kit.placed_contact(tree.community_a, classification="secondary", with_room=False)
    assert placement.classification == "secondary"
    Contact.objects.filter(pk=placement.contact_id).update(classification="close")
    contact_dates_changed.send(None, contact_ids=[placement.contact_id])
    placement.refresh_from_db()
    assert placement.classification == "close"
    exposure = placement.last_exposure_on
    assert placement.monitoring_end_on == exposure + dt.timedelta(days=10)
    assert placement.tests.count() == 5


def test_an_exposure_during_the_stay_moves_the_dates_on(tree: Any) -> None:
    placement = kit.placed_contact(tree.community_a)
    later = timezone.localdate() + dt.timedelta(days=2)
    Contact.objects.filter(pk=placement.contact_id).update(last_exposure_on=later)
    contact_dates_changed.send(None, contact_ids=[placement.contact_id])
    placement.refresh_from_db()
    assert placement.quarantine_end_on == later + dt.timedelta(days=7)
    assert placement.tests.order_by("due_on").first().due_on == later + dt.timedelta(days=1)


def test_secondary_at_home_upgraded_to_close_is_moved_to_a_site(
    tree: Any, command_user: Any, town_b_user: Any
) -> None:
    """v9: a secondary contact is placed at home; upgraded to close, the recompute marks
    the home placement for a move (never kept silently); it is listed again for its
    case and placing it closes the home placement and opens the centralised one."""
    from django.test import Client
    from django.urls import reverse

    from fangkong.accounts.models import AuditEvent
    from fangkong.quarantine.choices import Measure

    site = kit.site_with_rooms(tree, rooms=3)
    case = kit_tracing.reported_case(kit_people.person(tree.community_a, "病例"))
    contact = kit.close_contact(
        tree.community_a, case=case, classification="secondary", name="周八"
    )
    services.placements_create_for_case(actor=command_user, case=case)
    home = Placement.objects.get(contact=contact)
    assert home.measure == Measure.HOME_QUARANTINE and not home.needs_move
    assert services.contacts_to_place(actor=command_user, case=case) == []

    Contact.objects.filter(pk=contact.pk).update(classification="close")
    contact_dates_changed.send(None, contact_ids=[contact.pk])
    home.refresh_from_db()
    assert home.measure == Measure.HOME_QUARANTINE and home.needs_move
    assert home.status == PlacementStatus.ACTIVE and home.classification == "close"
    assert [c.pk for c in services.contacts_to_place(actor=command_user, case=case)] == [contact.pk]
    assert dict(services.cases_with_unplaced_contacts(actor=command_user)) == {case.number: 1}
    # Another town does not see it.
    assert services.persons_to_move(actor=town_b_user, person_ids=[home.person_id]) == set()

    c = Client()
    c.force_login(command_user)
    html = c.get(reverse("quarantine:placement_bulk"), {"case": case.number}).content.decode()
    assert 'data-testid="needs-move"' in html and "周" in html
    html = c.get(reverse("quarantine:placement_detail", args=[home.pk])).content.decode()
    assert "需转集中隔离" in html

    r = c.post(reverse("quarantine:placement_bulk"), {"case": case.number})
    assert r.status_code == 200, r.content.decode()[:500]
    home.refresh_from_db()
    assert home.status == PlacementStatus.CANCELLED and not home.needs_move
    assert home.closed_at is not None
    moved = Placement.objects.get(person_id=home.person_id, status=PlacementStatus.PLANNED)
    assert moved.measure == Measure.CENTRALISED and moved.site_id == site.pk
    assert moved.room_id is not None and moved.contact_id == contact.pk
    event = AuditEvent.objects.get(action="placement.move_centralised")
    assert event.object_id == str(home.pk) or event.object_id == home.pk
    assert event.detail["to"] == moved.pk
    assert services.contacts_to_place(actor=command_user, case=case) == []


def test_move_is_all_or_nothing_when_no_room(tree: Any, command_user: Any) -> None:
    case = kit_tracing.reported_case(kit_people.person(tree.community_a, "病例"))
    contact = kit.close_contact(tree.community_a, case=case, classification="secondary")
    services.placements_create_for_case(actor=command_user, case=case)
    Contact.objects.filter(pk=contact.pk).update(classification="close")
    contact_dates_changed.send(None, contact_ids=[contact.pk])
    with pytest.raises(Conflict):
        services.placements_create_for_case(actor=command_user, case=case)
    home = Placement.objects.get(contact=contact)
    assert home.status == PlacementStatus.ACTIVE and home.needs_move


def test_downgrade_clears_the_move_mark(tree: Any, command_user: Any) -> None:
    case = kit_tracing.reported_case(kit_people.person(tree.community_a, "病例"))
    contact = kit.close_contact(tree.community_a, case=case, classification="secondary")
    services.placements_create_for_case(actor=command_user, case=case)
    Contact.objects.filter(pk=contact.pk).update(classification="close")
    contact_dates_changed.send(None, contact_ids=[contact.pk])
    Contact.objects.filter(pk=contact.pk).update(classification="secondary")
    contact_dates_changed.send(None, contact_ids=[contact.pk])
    home = Placement.objects.get(contact=contact)
    assert not home.needs_move
    assert services.contacts_to_place(actor=command_user, case=case) == []
