"""Verification pushes: grouping by town, deadlines from the rule set, idempotence,
marking (the contact follows), assist requests, escalation, scoping."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone

from fangkong.accounts.models import AuditEvent
from fangkong.core.errors import DomainError, NotFound, PermissionDenied
from fangkong.testkit.worlds.pushes import World, add_contact, build_world
from fangkong.tracing import tasks_pushes
from fangkong.tracing.models import (
    AssistRequest,
    ContactStatus,
    PushItem,
    PushItemStatus,
    PushStatus,
    VerificationPush,
)
from fangkong.tracing.selectors import pushes as selectors
from fangkong.tracing.services import pushes as services

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree: Any, make_user: Any) -> World:
    return build_world(tree, make_user)


def _push(world: World) -> list[VerificationPush]:
    return services.pushes_create_for_case(actor=world.investigator, case=world.case)


def _by_town(pushes: list[VerificationPush]) -> dict[str, VerificationPush]:
    return {p.jurisdiction_path: p for p in pushes}


def _item(world: World, key: str) -> PushItem:
    return PushItem.objects.get(contact=world.contacts[key])


def _refresh(world: World, key: str) -> Any:
    world.contacts[key].refresh_from_db()
    return world.contacts[key]


# --- create -----------------------------------------------------------------------------


def test_contacts_are_grouped_into_one_list_per_town_they_live_in(world: World) -> None:
    created = _push(world)

    by_town = _by_town(created)
    assert set(by_town) == {world.tree.town_a.path, world.tree.town_b.path}
    town_a, town_b = by_town[world.tree.town_a.path], by_town[world.tree.town_b.path]
    assert town_a.town == world.tree.town_a and town_b.town == world.tree.town_b
    members_a = set(town_a.items.values_list("contact_id", flat=True))
    members_b = set(town_b.items.values_list("contact_id", flat=True))
    c = world.contacts
    assert members_a == {c["a1"].pk, c["a2"].pk, c["a3"].pk}  # a3 lives in a grid of town A
    assert members_b == {c["b1"].pk, c["b2"].pk}  # b2: secondary contact through a1
    for push in created:
        assert re.fullmatch(r"TS\d{8}-\d{4}", push.number)
        assert push.case == world.case and push.status == PushStatus.OPEN
        assert push.ruleset == world.case.ruleset


def test_only_identified_contacts_of_this_case_are_pushed_and_they_move_to_pushed(
    world: World,
) -> None:
    _push(world)

    for key in ("a1", "a2", "a3", "b1", "b2"):
        assert _refresh(world, key).status == ContactStatus.PUSHED
    assert _refresh(world, "a_done").status == ContactStatus.CONTROLLED
    assert _refresh(world, "other").status == ContactStatus.IDENTIFIED
    pushed = set(PushItem.objects.values_list("contact_id", flat=True))
    assert world.contacts["a_done"].pk not in pushed
    assert world.contacts["other"].pk not in pushed


def test_numbers_count_up_within_the_local_day(world: World) -> None:
    created = sorted(_push(world), key=lambda p: p.number)
    day = timezone.localtime(created[0].created_at).strftime("%Y%m%d")

    assert [p.number for p in created] == [f"TS{day}-0001", f"TS{day}-0002"]


def test_deadline_is_counted_from_the_rule_set_of_the_case(world: World) -> None:
    rs = world.case.ruleset
    rs.verification_push_hours = 6
    rs.save(update_fields=["verification_push_hours"])
    before = timezone.now()

    created = _push(world)

    after = timezone.now()
    for push in created:
        assert before + dt.timedelta(hours=6) <= push.deadline <= after + dt.timedelta(hours=6)
    event = AuditEvent.objects.filter(action="push.create").first()
    assert event is not None
    assert event.detail["rule"] == "deadline.verification_push"
    assert event.detail["ruleset_version"] == rs.version


def test_create_is_idempotent_and_pushes_only_new_contacts_later(world: World) -> None:
    first = _push(world)
    assert len(first) == 2

    assert _push(world) == []
    assert PushItem.objects.count() == 5
    assert AuditEvent.objects.filter(action="push.create").count() == 2

    # A contact identified later goes out alone on a new list of its town.
    late = add_contact(world, "a4", world.tree.community_a, "冯十")
    again = _push(world)
    assert len(again) == 1
    assert list(again[0].items.values_list("contact_id", flat=True)) == [late.pk]


def test_a_contact_on_an_open_list_is_not_pushed_twice(world: World) -> None:
    _push(world)
    contact = _refresh(world, "a1")
    contact.status = ContactStatus.IDENTIFIED  # e.g. re-classified, still on the open list
    contact.save(update_fields=["status"])

    assert _push(world) == []
    assert PushItem.objects.filter(contact=contact).count() == 1


def test_create_is_audited_per_list(world: World) -> None:
    created = _push(world)

    events = AuditEvent.objects.filter(action="push.create").order_by("object_id")
    assert sorted(e.object_id for e in events) == sorted(str(p.pk) for p in created)
    assert {e.detail["items"] for e in events} == {3, 2}
    assert all(e.actor == world.investigator for e in events)


def test_only_contact_managers_push(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.pushes_create_for_case(actor=world.town_a, case=world.case)
    with pytest.raises(PermissionDenied):
        services.pushes_create_for_case(actor=world.lab, case=world.case)
    assert not VerificationPush.objects.exists()


# --- mark -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["centralised", "home", "hospital"])
def test_controlling_marks_move_the_contact_to_controlled(world: World, status: str) -> None:
    _push(world)
    item = _item(world, "a1")

    services.push_item_mark(actor=world.town_a, item=item, status=status)

    contact = _refresh(world, "a1")
    assert contact.status == ContactStatus.CONTROLLED
    assert contact.control_measure == status
    assert contact.controlled_at is not None
    item.refresh_from_db()
    assert item.status == status and item.marked_by == world.town_a and item.marked_at


@pytest.mark.parametrize(
    ("status", "contact_status"),
    [("located", ContactStatus.LOCATED), ("not_found", ContactStatus.NOT_FOUND)],
)
def test_located_and_not_found_move_the_contact(
    world: World, status: str, contact_status: str
) -> None:
    _push(world)

    services.push_item_mark(actor=world.town_a, item=_item(world, "a2"), status=status)

    assert _refresh(world, "a2").status == contact_status


def test_outside_creates_an_assist_request_to_the_region_in_the_note(world: World) -> None:
    _push(world)
    item = _item(world, "b1")

    services.push_item_mark(actor=world.town_b, item=item, status="outside", note="上海市闵行区")

    assert _refresh(world, "b1").status == ContactStatus.OUTSIDE
    request = AssistRequest.objects.get(contact=world.contacts["b1"])
    year = timezone.localdate().year
    assert request.number == f"XC{year}-0001"
    assert request.target_region == "上海市闵行区"
    assert world.case.number in request.reason
    assert request.jurisdiction_path == world.contacts["b1"].jurisdiction_path
    # The same mark again changes nothing and writes nothing.
    marks = AuditEvent.objects.filter(action="push.mark").count()
    services.push_item_mark(actor=world.town_b, item=item, status="outside", note="上海市闵行区")
    assert AssistRequest.objects.count() == 1
    assert AuditEvent.objects.filter(action="push.mark").count() == marks


def test_outside_needs_the_target_region(world: World) -> None:
    _push(world)
    item = _item(world, "b1")

    with pytest.raises(DomainError) as exc:
        services.push_item_mark(actor=world.town_b, item=item, status="outside", note=" ")

    assert exc.value.code == "target_region_required"
    item.refresh_from_db()
    assert item.status == PushItemStatus.PENDING
    assert not AssistRequest.objects.exists()


@pytest.mark.parametrize("status", ["pending", "controlled", ""])
def test_unknown_or_pending_status_is_refused(world: World, status: str) -> None:
    _push(world)

    with pytest.raises(DomainError) as exc:
        services.push_item_mark(actor=world.town_a, item=_item(world, "a1"), status=status)

    assert exc.value.code == "push_status_invalid"


def test_list_is_done_when_every_item_is_final_and_reopens_on_a_correction(
    world: World,
) -> None:
    push = _by_town(_push(world))[world.tree.town_b.path]
    b1, b2 = _item(world, "b1"), _item(world, "b2")

    services.push_item_mark(actor=world.town_b, item=b1, status="home")
    push.refresh_from_db()
    assert push.status == PushStatus.OPEN
    services.push_item_mark(actor=world.town_b, item=b2, status="not_found")
    push.refresh_from_db()
    assert push.status == PushStatus.DONE and push.completed_at is not None

    services.push_item_mark(actor=world.town_b, item=b2, status="located")
    push.refresh_from_db()
    assert push.status == PushStatus.OPEN and push.completed_at is None


def test_a_mark_after_the_deadline_is_kept_and_recorded_as_late(world: World) -> None:
    push = _by_town(_push(world))[world.tree.town_a.path]
    push.deadline = timezone.now() - dt.timedelta(hours=1)
    push.save(update_fields=["deadline"])
    item = _item(world, "a1")

    services.push_item_mark(actor=world.town_a, item=item, status="centralised")

    item.refresh_from_db()
    assert item.status == PushItemStatus.CENTRALISED
    assert item.marked_at is not None and item.marked_at > push.deadline
    assert services.push_item_is_late(item, push)
    event = AuditEvent.objects.get(action="push.mark")
    assert event.detail["late"] is True and event.detail["to"] == "centralised"
    on_time = _item(world, "a2")
    push.deadline = timezone.now() + dt.timedelta(hours=1)
    push.save(update_fields=["deadline"])
    services.push_item_mark(actor=world.town_a, item=on_time, status="home")
    on_time.refresh_from_db()
    assert not services.push_item_is_late(on_time, push)


def test_a_contact_that_became_a_case_is_not_pulled_back_by_a_mark(world: World) -> None:
    _push(world)
    contact = _refresh(world, "a1")
    contact.status = ContactStatus.BECAME_CASE
    contact.save(update_fields=["status"])

    services.push_item_mark(actor=world.town_a, item=_item(world, "a1"), status="home")

    assert _refresh(world, "a1").status == ContactStatus.BECAME_CASE


def test_town_b_cannot_mark_town_a_items_and_other_roles_are_refused(world: World) -> None:
    _push(world)
    item = _item(world, "a1")

    with pytest.raises(NotFound):
        services.push_item_mark(actor=world.town_b, item=item, status="home")
    with pytest.raises(PermissionDenied):
        services.push_item_mark(actor=world.lab, item=item, status="home")
    with pytest.raises(PermissionDenied):  # investigators read lists; towns give feedback
        services.push_item_mark(actor=world.investigator, item=item, status="home")
    item.refresh_from_db()
    assert item.status == PushItemStatus.PENDING
    assert _refresh(world, "a1").status == ContactStatus.PUSHED


# --- escalate ---------------------------------------------------------------------------


def test_overdue_open_lists_are_escalated_once(world: World) -> None:
    by_town = _by_town(_push(world))
    late, on_time = by_town[world.tree.town_a.path], by_town[world.tree.town_b.path]
    VerificationPush.objects.filter(pk=late.pk).update(
        deadline=timezone.now() - dt.timedelta(minutes=5)
    )
    now = timezone.now()

    assert services.pushes_escalate_overdue(now=now) == 1
    assert services.pushes_escalate_overdue(now=now + dt.timedelta(hours=1)) == 0

    late.refresh_from_db()
    on_time.refresh_from_db()
    assert late.escalated_at == now
    assert on_time.escalated_at is None
    events = AuditEvent.objects.filter(action="push.escalate")
    assert [e.object_id for e in events] == [str(late.pk)]


def test_done_lists_are_not_escalated(world: World) -> None:
    push = _by_town(_push(world))[world.tree.town_b.path]
    for key in ("b1", "b2"):
        services.push_item_mark(actor=world.town_b, item=_item(world, key), status="home")
    VerificationPush.objects.filter(pk=push.pk).update(
        deadline=timezone.now() - dt.timedelta(hours=1)
    )

    assert services.pushes_escalate_overdue() == 0


def test_the_escalation_task_calls_the_service(world: World) -> None:
    push = _push(world)[0]
    VerificationPush.objects.filter(pk=push.pk).update(
        deadline=timezone.now() - dt.timedelta(hours=1)
    )

    result = tasks_pushes.pushes_escalate_overdue.enqueue()

    assert result.return_value == 1
    push.refresh_from_db()
    assert push.escalated_at is not None


# --- selectors --------------------------------------------------------------------------


def test_a_town_sees_only_its_lists_and_persons(world: World) -> None:
    by_town = _by_town(_push(world))
    push_a, push_b = by_town[world.tree.town_a.path], by_town[world.tree.town_b.path]

    seen_a = selectors.pushes(user=world.town_a).items
    assert [p.pk for p in seen_a] == [push_a.pk]
    assert {p.pk for p in selectors.pushes(user=world.investigator).items} == {
        push_a.pk,
        push_b.pk,
    }
    with pytest.raises(NotFound):
        selectors.push_get(user=world.town_b, pk=push_a.pk)
    with pytest.raises(NotFound):
        selectors.push_items(user=world.town_b, push=push_a)
    with pytest.raises(NotFound):
        selectors.push_item_get(user=world.town_b, pk=_item(world, "a1").pk)
    with pytest.raises(PermissionDenied):
        selectors.pushes(user=world.lab)
    totals = selectors.push_totals(user=world.town_a)
    assert totals.lists == 1  # never town B's list
    assert totals.items.total == 3 and totals.items.pending == 3  # never town B's two
    counts = selectors.push_item_counts(user=world.town_a, push_ids=[push_a.pk, push_b.pk])
    assert set(counts) == {push_a.pk}


def test_list_filters_and_overdue(world: World) -> None:
    by_town = _by_town(_push(world))
    push_a = by_town[world.tree.town_a.path]
    VerificationPush.objects.filter(pk=push_a.pk).update(
        deadline=timezone.now() - dt.timedelta(hours=1)
    )

    user = world.command
    assert [p.pk for p in selectors.pushes(user=user, overdue=True).items] == [push_a.pk]
    assert push_a.pk not in [p.pk for p in selectors.pushes(user=user, overdue=False).items]
    assert [p.pk for p in selectors.pushes_overdue(user=user)] == [push_a.pk]
    assert selectors.pushes_overdue(user=world.town_b) == []
    town_b_path = world.tree.town_b.path
    assert [p.jurisdiction_path for p in selectors.pushes(user=user, town_path=town_b_path).items]
    assert selectors.push_status_counts(user=user) == {"open": 2}
    with pytest.raises(DomainError):
        selectors.pushes(user=user, status="nonsense")


def test_overdue_pushes_for_the_board_are_scoped_and_count_the_unanswered(
    world: World,
) -> None:
    push = _push(world)[0]
    now = timezone.now()
    VerificationPush.objects.filter(pk=push.pk).update(deadline=now - dt.timedelta(hours=1))

    items = selectors.pushes_overdue_items(world.command, now, 50)
    assert [(i.key, i.owner_kind, i.owner_key) for i in items] == [
        (str(push.pk), "town", push.jurisdiction_path)
    ]
    pending = push.items.count()
    assert items[0].detail == f"共 {pending} 人，未反馈 {pending} 人"
    assert selectors.pushes_overdue_count(world.investigator, now) == 1
    own = world.town_a if push.jurisdiction_path == world.tree.town_a.path else world.town_b
    other = world.town_b if own is world.town_a else world.town_a
    assert [i.key for i in selectors.pushes_overdue_items(own, now, 50)] == [str(push.pk)]
    assert selectors.pushes_overdue_items(other, now, 50) == []
    assert selectors.pushes_overdue_count(other, now) == 0
    with pytest.raises(PermissionDenied):
        selectors.pushes_overdue_items(world.lab, now, 50)


def test_list_selectors_make_a_bounded_number_of_queries(
    world: World, django_assert_max_num_queries: Any
) -> None:
    _push(world)
    for n in range(6):
        add_contact(world, f"x{n}", world.tree.community_b, f"陈{n}号")
        _push(world)

    with django_assert_max_num_queries(3):
        page = selectors.pushes(user=world.command)
        selectors.push_item_counts(user=world.command, push_ids=[p.pk for p in page.items])
    assert len(page.items) == 8
