"""People services: storage without plaintext, deduplication, audited reveal, households."""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.roles import Role
from fangkong.core.crypto import lookup_hash
from fangkong.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from fangkong.people import services
from fangkong.people.models import Household, Person

from .conftest import make_ric


def _create(actor: Any, jurisdiction: Any, **kw: Any) -> Person:
    args: dict[str, Any] = {"name": "张三", "id_kind": "ric", "id_number": make_ric(7)}
    args.update(kw)
    return services.person_create(actor=actor, jurisdiction=jurisdiction, **args)


def test_create_stores_no_plaintext(tree: Any, town_a_user: Any) -> None:
    number, phone = make_ric(7, "19850315"), "13812345678"
    person = _create(town_a_user, tree.grid_a, id_number=number, phone=phone)

    row = Person.objects.values().get(pk=person.pk)
    for column, value in row.items():
        if isinstance(value, bytes | memoryview):
            raw = bytes(value)
            assert number.encode() not in raw and phone.encode() not in raw, column
        else:
            assert number not in str(value) and phone not in str(value), column
    assert Person.objects.get(id_hmac=lookup_hash(f"ric:{number}", purpose="id_number")) == person
    assert Person.objects.get(phone_hmac=lookup_hash(phone, purpose="phone")) == person
    assert (row["id_masked"], row["id_tail"], row["phone_masked"]) == (
        "330483********" + number[-4:],
        number[-4:],
        "138****5678",
    )
    assert "birth_date" not in row  # the full date would complete the ID mask
    assert (row["birth_year"], row["sex"], row["name_initials"]) == (
        1985,
        "M",
        "zs",
    )
    assert row["jurisdiction_path"] == tree.grid_a.path


def test_create_accepts_passport_other_and_none(tree: Any, town_a_user: Any) -> None:
    passport = _create(town_a_user, tree.community_a, id_kind="passport", id_number="e1234567")
    other = _create(town_a_user, tree.community_a, id_kind="other", id_number=" 港澳C123456 ")
    nobody = _create(town_a_user, tree.community_a, id_kind="none", id_number="")
    nobody2 = _create(town_a_user, tree.community_a, id_kind="none", id_number="")
    assert passport.id_hmac == lookup_hash("passport:E1234567", purpose="id_number")
    assert other.id_hmac == lookup_hash("other:港澳C123456", purpose="id_number")
    assert nobody.id_hmac is None and nobody2.id_hmac is None and nobody.pk != nobody2.pk
    assert (nobody.id_cipher, nobody.id_masked, nobody.sex) == (None, "", "U")


def test_duplicate_id_refused(tree: Any, town_a_user: Any) -> None:
    first = _create(town_a_user, tree.community_a, id_number=make_ric(9))
    with pytest.raises(Conflict) as err:
        _create(town_a_user, tree.grid_a, name="别名", id_number=make_ric(9).lower())
    assert err.value.code == "person_exists"
    assert err.value.detail == {"person": first.pk}
    assert Person.objects.count() == 1


def test_duplicate_outside_scope_does_not_say_who(
    tree: Any, town_a_user: Any, town_b_user: Any
) -> None:
    _create(town_b_user, tree.community_b, id_number=make_ric(9))
    with pytest.raises(Conflict) as err:
        _create(town_a_user, tree.community_a, id_number=make_ric(9))
    assert err.value.code == "person_exists"
    assert err.value.detail == {}


def test_get_or_create_returns_existing(tree: Any, town_a_user: Any) -> None:
    first, created = services.person_get_or_create(
        actor=town_a_user,
        name="张三",
        id_kind="ric",
        id_number=make_ric(5),
        jurisdiction=tree.grid_a,
    )
    again, created_again = services.person_get_or_create(
        actor=town_a_user,
        name="张三丰",
        id_kind="ric",
        id_number=make_ric(5),
        jurisdiction=tree.community_a,
    )
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk and again.name == "张三"
    assert Person.objects.count() == 1


def test_get_or_create_outside_scope_is_conflict(
    tree: Any, town_a_user: Any, town_b_user: Any
) -> None:
    _create(town_b_user, tree.community_b, id_number=make_ric(5))
    with pytest.raises(Conflict) as err:
        services.person_get_or_create(
            actor=town_a_user,
            name="张三",
            id_kind="ric",
            id_number=make_ric(5),
            jurisdiction=tree.community_a,
        )
    assert (err.value.code, err.value.detail) == ("person_exists", {})


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"id_number": "110105194912310021"}, "id_bad_checksum"),
        ({"id_number": "330483199002300011"}, "id_bad_birth_date"),
        ({"id_number": "123"}, "id_wrong_length"),
        ({"name": ""}, "name_required"),
        ({"name": "张" * 65}, "name_too_long"),
        ({"phone": "12345"}, "phone_invalid"),
        ({"id_kind": "passport", "id_number": "E1"}, "passport_invalid"),
        ({"id_kind": "other", "id_number": ""}, "id_required"),
        ({"id_kind": "none", "id_number": "123"}, "id_number_unexpected"),
        ({"id_kind": "visa"}, "id_kind_invalid"),
    ],
)
def test_bad_input_writes_nothing(
    tree: Any, town_a_user: Any, kw: dict[str, Any], code: str
) -> None:
    before = (Person.objects.count(), AuditEvent.objects.count())
    with pytest.raises(DomainError) as err:
        _create(town_a_user, tree.community_a, **kw)
    assert err.value.code == code and err.value.status == 400
    assert (Person.objects.count(), AuditEvent.objects.count()) == before


def test_jurisdiction_must_be_community_or_grid(tree: Any, town_a_user: Any) -> None:
    with pytest.raises(DomainError) as err:
        _create(town_a_user, tree.town_a)
    assert err.value.code == "jurisdiction_level_invalid"
    assert Person.objects.count() == 0


def test_create_needs_capability_and_scope(tree: Any, make_user: Any, town_a_user: Any) -> None:
    with pytest.raises(PermissionDenied):
        _create(make_user(Role.LAB, tree.town_a), tree.community_a)
    with pytest.raises(NotFound):
        _create(town_a_user, tree.community_b)
    assert Person.objects.count() == 0


def test_reveal_writes_exactly_one_audit_record(tree: Any, town_a_user: Any) -> None:
    number, phone = make_ric(7), "13812345678"
    person = _create(town_a_user, tree.community_a, id_number=number, phone=phone)
    before = AuditEvent.objects.count()

    value = services.person_reveal(
        actor=town_a_user, person=person, field="id_number", ip="10.0.0.9"
    )

    assert value == number
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("pk")
    assert (event.action, event.actor, event.field, event.object_id) == (
        "person.reveal",
        town_a_user,
        "id_number",
        str(person.pk),
    )
    assert (event.jurisdiction_path, event.ip) == (tree.community_a.path, "10.0.0.9")
    assert number not in str(event.detail) and number not in event.object_label
    assert services.person_reveal(actor=town_a_user, person=person, field="phone") == phone
    assert AuditEvent.objects.filter(action="person.reveal").count() == 2


def test_reveal_refusals_write_nothing(
    tree: Any, town_a_user: Any, town_b_user: Any, make_user: Any
) -> None:
    person = _create(town_a_user, tree.community_a)
    before = AuditEvent.objects.count()
    with pytest.raises(NotFound):
        services.person_reveal(actor=town_b_user, person=person, field="id_number")
    with pytest.raises(PermissionDenied):
        services.person_reveal(
            actor=make_user(Role.SITE_STAFF, tree.town_a), person=person, field="id_number"
        )
    for field, code in (("name", "reveal_field_invalid"), ("phone", "reveal_empty")):
        with pytest.raises(DomainError) as err:
            services.person_reveal(actor=town_a_user, person=person, field=field)
        assert err.value.code == code
    assert AuditEvent.objects.count() == before


def test_update_is_audited_without_values(tree: Any, town_a_user: Any) -> None:
    person = _create(town_a_user, tree.community_a, phone="13812345678")
    services.person_update(actor=town_a_user, person=person, name="张小三", phone="13900001111")
    person.refresh_from_db()
    assert (person.name, person.name_initials, person.phone_masked) == (
        "张小三",
        "zxs",
        "139****1111",
    )
    event = AuditEvent.objects.get(action="person.update")
    assert event.detail == {"fields": ["name", "phone"]}
    assert "13900001111" not in str(event.detail)
    services.person_update(actor=town_a_user, person=person, phone="")
    person.refresh_from_db()
    assert (person.phone_hmac, person.phone_cipher, person.phone_masked) == ("", None, "")


def test_update_refused_outside_scope(tree: Any, town_a_user: Any, town_b_user: Any) -> None:
    person = _create(town_a_user, tree.community_a)
    with pytest.raises(NotFound):
        services.person_update(actor=town_b_user, person=person, name="改名")
    person.refresh_from_db()
    assert person.name == "张三"
    assert not AuditEvent.objects.filter(action="person.update").exists()


def test_household_membership(tree: Any, town_a_user: Any) -> None:
    household = services.household_create(
        actor=town_a_user, address=" 虹桥村1号 ", community=tree.community_a
    )
    assert (household.address, household.jurisdiction_path) == ("虹桥村1号", tree.community_a.path)
    member = _create(town_a_user, tree.grid_a)  # a grid of the same community
    services.household_add_member(actor=town_a_user, household=household, person=member)
    member.refresh_from_db()
    assert member.household_id == household.pk


def test_household_mismatch(tree: Any, command_user: Any) -> None:
    household = services.household_create(
        actor=command_user, address="虹桥村1号", community=tree.community_a
    )
    stranger = _create(command_user, tree.community_b)
    with pytest.raises(DomainError) as err:
        services.household_add_member(actor=command_user, household=household, person=stranger)
    assert err.value.code == "household_mismatch"
    stranger.refresh_from_db()
    assert stranger.household_id is None
    with pytest.raises(DomainError) as err:
        _create(command_user, tree.community_b, id_number=make_ric(8), household=household)
    assert err.value.code == "household_mismatch"


def test_household_needs_a_community_in_scope(tree: Any, town_a_user: Any) -> None:
    with pytest.raises(DomainError) as err:
        services.household_create(actor=town_a_user, address="x", community=tree.grid_a)
    assert err.value.code == "jurisdiction_level_invalid"
    with pytest.raises(NotFound):
        services.household_create(actor=town_a_user, address="x", community=tree.community_b)
    with pytest.raises(DomainError) as err:
        services.household_create(actor=town_a_user, address="  ", community=tree.community_a)
    assert err.value.code == "address_required"
    assert Household.objects.count() == 0


def test_lost_race_returns_the_winner(tree: Any, town_a_user: Any, monkeypatch: Any) -> None:
    """The other request commits between our read and our insert: the UNIQUE id_hmac
    refuses the insert inside a savepoint and the winner's row is returned."""
    winner = _create(town_a_user, tree.community_a, id_number=make_ric(77))
    monkeypatch.setattr(services, "_existing", lambda actor, person, ip: None)
    person, created = services.person_get_or_create(
        actor=town_a_user,
        name="张三",
        id_kind="ric",
        id_number=make_ric(77),
        jurisdiction=tree.grid_a,
    )
    assert (person.pk, created) == (winner.pk, False)
    with pytest.raises(Conflict) as err:
        _create(town_a_user, tree.grid_a, id_number=make_ric(77))
    assert err.value.detail == {"person": winner.pk}
    assert Person.objects.count() == 1
