"""The set-based import paths the drill uses write the rows people.services would write."""

from __future__ import annotations

import pytest

from fangkong.areas.bulk import jurisdiction_bulk_create, next_free_id
from fangkong.areas.models import Jurisdiction
from fangkong.core.crypto import decrypt
from fangkong.core.errors import DomainError
from fangkong.people.bulk import (
    HouseholdImportRow,
    PersonImportRow,
    household_bulk_create,
    person_bulk_import,
)
from fangkong.people.models import Household, Person
from fangkong.people.rules import ric_checksum
from fangkong.people.services import id_lookup_hash, phone_lookup_hash


def ric(body: str) -> str:
    return body + ric_checksum(body)


def row(n: int, grid, **kw) -> PersonImportRow:
    values = {
        "name": "张小明",
        "id_kind": "ric",
        "id_number": ric(f"33048319900101{n:03d}"),
        "phone": f"1381234{n:04d}",
        "birth_year": 1990,
        "sex": "M" if n % 2 else "F",
        "jurisdiction_id": grid.id,
        "jurisdiction_path": grid.path,
    }
    values.update(kw)
    return PersonImportRow(**values)


@pytest.mark.django_db
def test_person_rows_match_the_services_format(tree, django_assert_max_num_queries) -> None:
    [hid] = household_bulk_create(
        rows=[
            HouseholdImportRow(
                address="乌镇镇虹桥村1组1号",
                community_id=tree.community_a.id,
                jurisdiction_path=tree.grid_a.path,
            )
        ]
    )
    rows = [row(n, tree.grid_a, household_id=hid) for n in range(1, 11)]
    # per batch: id allocation, savepoint, one executemany, release; then a sequence reset
    with django_assert_max_num_queries(9):
        ids = person_bulk_import(rows=rows, batch_size=5)
    assert len(ids) == 10 and ids == sorted(ids)
    person = Person.objects.get(pk=ids[0])
    number = rows[0].id_number
    assert person.id_hmac == id_lookup_hash("ric", number)
    assert decrypt(person.id_cipher, purpose="id_number") == number
    assert person.id_masked == number[:6] + "********" + number[-4:]
    assert person.id_tail == number[-4:]
    assert person.phone_hmac == phone_lookup_hash("13812340001")
    assert person.phone_masked == "138****0001"
    assert person.name_initials == "zxm"
    assert person.household_id == hid and Household.objects.get().members.count() == 10


@pytest.mark.django_db
def test_a_bad_row_fails_its_batch_without_writing_it(tree) -> None:
    bad = row(3, tree.grid_a, id_number="330483199001010030")  # wrong checksum
    with pytest.raises(DomainError) as err:
        person_bulk_import(rows=[row(1, tree.grid_a), bad])
    assert err.value.code == "id_bad_checksum"
    assert not Person.objects.exists()


@pytest.mark.django_db
def test_sex_must_match_the_id_number(tree) -> None:
    with pytest.raises(DomainError) as err:
        person_bulk_import(rows=[row(1, tree.grid_a, sex="F")])
    assert err.value.code == "id_facts_mismatch"


@pytest.mark.django_db
def test_explicit_ids_are_written_as_given(db) -> None:
    first = next_free_id(Jurisdiction)
    jurisdiction_bulk_create(
        rows=[
            {
                "id": first + 5,
                "level": "city",
                "code": "999999",
                "name": "X",
                "parent_id": None,
                "path": "999999",
                "depth": 0,
                "population": 0,
            }
        ]
    )
    assert Jurisdiction.objects.get(code="999999").pk == first + 5
    assert next_free_id(Jurisdiction) == first + 6
