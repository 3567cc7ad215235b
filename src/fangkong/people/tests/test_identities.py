"""people.services.person_identities: the one way out of people for names, ID numbers and
phones of a list of persons (masked, or in clear with one audit record)."""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.roles import Role
from fangkong.core.errors import NotFound, PermissionDenied
from fangkong.people import services
from fangkong.people.models import Person

from .conftest import make_ric


def _create(actor: Any, jurisdiction: Any, name: str, seq: int, phone: str = "") -> Person:
    return services.person_create(
        actor=actor,
        name=name,
        id_kind="ric",
        id_number=make_ric(seq),
        phone=phone,
        jurisdiction=jurisdiction,
    )


def test_masked_by_default_and_unaudited(tree: Any, town_a_user: Any) -> None:
    first = _create(town_a_user, tree.community_a, "张小三", 11, phone="13812345678")
    second = _create(town_a_user, tree.grid_a, "李四", 13)
    before = AuditEvent.objects.count()

    got = services.person_identities(town_a_user, [first, second])

    assert [(i.person_id, i.name, i.id_number, i.phone, i.revealed) for i in got] == [
        (first.pk, "张*三", "330483********" + make_ric(11)[-4:], "138****5678", False),
        (second.pk, "李*", "330483********" + make_ric(13)[-4:], "", False),
    ]
    assert AuditEvent.objects.count() == before


def test_clear_needs_reveal_and_writes_one_record_with_the_count(
    tree: Any, town_a_user: Any
) -> None:
    first = _create(town_a_user, tree.community_a, "张小三", 11, phone="13812345678")
    second = _create(town_a_user, tree.grid_a, "李四", 13)
    before = AuditEvent.objects.count()

    got = services.person_identities(town_a_user, [second, first], reveal=True, ip="10.0.0.5")

    assert [(i.name, i.id_number, i.phone, i.revealed) for i in got] == [
        ("李四", make_ric(13), "", True),
        ("张小三", make_ric(11), "13812345678", True),
    ]
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("pk")
    assert (event.action, event.actor, event.detail, event.ip) == (
        "person.reveal",
        town_a_user,
        {"count": 2},
        "10.0.0.5",
    )
    assert make_ric(11) not in str(event.detail) and "张小三" not in event.object_label


def test_clear_of_one_person_names_them_in_the_record(tree: Any, town_a_user: Any) -> None:
    person = _create(town_a_user, tree.community_a, "张小三", 11)

    services.person_identities(town_a_user, [person], reveal=True)

    event = AuditEvent.objects.get(action="person.reveal")
    assert (event.object_id, event.object_label, event.jurisdiction_path) == (
        str(person.pk),
        "张*三",
        tree.community_a.path,
    )


def test_a_callers_record_replaces_the_reveal_record(tree: Any, town_a_user: Any) -> None:
    person = _create(town_a_user, tree.community_a, "张小三", 11)
    record = services.RevealRecord(
        action="push.export", object_type="verification_push", detail={"rows": 1}
    )

    services.person_identities(town_a_user, [person], reveal=True, record=record)

    events = list(AuditEvent.objects.filter(action__in=["person.reveal", "push.export"]))
    assert [(e.action, e.detail) for e in events] == [("push.export", {"rows": 1})]


def test_clear_without_the_reveal_capability_is_refused_and_writes_nothing(
    tree: Any, town_a_user: Any, make_user: Any
) -> None:
    person = _create(town_a_user, tree.community_a, "张小三", 11)
    site_staff = make_user(Role.SITE_STAFF, tree.town_a)
    before = AuditEvent.objects.count()

    with pytest.raises(PermissionDenied):
        services.person_identities(site_staff, [person], reveal=True)

    assert AuditEvent.objects.count() == before
    # masked is what a list shows the role anyway
    assert services.person_identities(site_staff, [person])[0].id_number == person.id_masked


def test_a_person_outside_the_scope_refuses_the_whole_list(
    tree: Any, town_a_user: Any, town_b_user: Any
) -> None:
    ours = _create(town_a_user, tree.community_a, "张小三", 11)
    theirs = _create(town_b_user, tree.community_b, "李四", 13)
    before = AuditEvent.objects.count()

    for reveal in (False, True):
        with pytest.raises(NotFound):
            services.person_identities(town_a_user, [ours, theirs], reveal=reveal)

    assert AuditEvent.objects.count() == before


def test_an_empty_list_reveals_nothing_and_records_nothing(town_a_user: Any) -> None:
    assert services.person_identities(town_a_user, [], reveal=True) == []
    assert not AuditEvent.objects.filter(action="person.reveal").exists()
