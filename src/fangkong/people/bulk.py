"""Set-based import path of the people domain: households and persons in batches.

The documented exception to "writes go through services" (STYLE.md, bulk paths):
`person_bulk_import` writes Person rows directly, computing exactly the columns that
people.services writes (same rules, same crypto):

    id_hmac   = lookup_hash(f"{id_kind}:{number}", purpose="id_number")
    id_cipher = encrypt(number, purpose="id_number"); id_masked = mask_id(number);
    id_tail   = number[-4:]
    phone_hmac = lookup_hash(phone, purpose="phone"); phone_cipher = encrypt(phone,
    purpose="phone"); phone_masked = mask_phone(phone)
    name_initials = name_initials(name)

Ids are written, never read back: a row may carry an explicit `id` (the drill does, from
areas.bulk.next_free_id, so a build is deterministic and households/scans reference
persons without a read back); rows without one get the next free ids. The functions
return the ids in row order and move PostgreSQL's sequence past them. Rows are written
with one `executemany` of a plain INSERT per batch (no model instances, no per-row
query).
Duplicate ID numbers fail the whole batch on the UNIQUE id_hmac (nothing half-written
within a batch).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from fangkong.areas.bulk import batched, next_free_id, sequences_reset
from fangkong.core.crypto import encrypt, lookup_hash
from fangkong.core.errors import DomainError
from fangkong.core.paths import rows_under_delete
from fangkong.people.models import Household, IdKind, Person
from fangkong.people.rules import (
    mask_id,
    mask_phone,
    name_initials,
    normalize_passport,
    normalize_phone,
    validate_name,
    validate_ric,
)


@dataclass(frozen=True, slots=True)
class PersonImportRow:
    name: str
    id_kind: str  # IdKind value
    id_number: str  # clear text; "" when id_kind is "none"
    phone: str  # clear text or ""
    birth_year: int | None  # only the year is stored (the date is what the mask hides)
    sex: str  # "M" / "F" / "U"
    jurisdiction_id: int
    jurisdiction_path: str
    household_id: int | None = None
    workplace_id: int | None = None
    id: int | None = None


def _insert_sql(model: type[Model], columns: Sequence[str]) -> str:
    q = connection.ops.quote_name
    names = ", ".join(q(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO {q(model._meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608


def _allocate(model: type[Model], rows: list[Any]) -> list[Any]:
    """Explicit ids for rows that carry none (from the first free id)."""
    if all(getattr(r, "id", None) is not None for r in rows):
        return rows
    first = next_free_id(model)
    out = []
    for n, row in enumerate(rows):
        out.append(row if row.id is not None else dataclasses.replace(row, id=first + n))
    return out


@dataclass(frozen=True, slots=True)
class HouseholdImportRow:
    address: str
    community_id: int
    jurisdiction_path: str
    id: int | None = None


HOUSEHOLD_COLUMNS = ("id", "address", "community_id", "jurisdiction_path", "created_at")


def household_bulk_create(
    *, rows: Iterable[HouseholdImportRow], batch_size: int = 20_000
) -> list[int]:
    """Insert households (one executemany per batch); returns their ids in row order."""
    sql = _insert_sql(Household, HOUSEHOLD_COLUMNS)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    ids: list[int] = []
    for chunk in batched(rows, batch_size):
        chunk = _allocate(Household, chunk)
        values = [(r.id, r.address, r.community_id, r.jurisdiction_path, now) for r in chunk]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, values)
        ids.extend(int(r.id or 0) for r in chunk)
    sequences_reset(Household)
    return ids


PERSON_COLUMNS = (
    "id",
    "name",
    "name_initials",
    "id_kind",
    "id_hmac",
    "id_cipher",
    "id_masked",
    "id_tail",
    "phone_hmac",
    "phone_cipher",
    "phone_masked",
    "birth_year",
    "sex",
    "household_id",
    "jurisdiction_id",
    "jurisdiction_path",
    "workplace_id",
    "created_at",
    "updated_at",
)


def _person_values(
    row: PersonImportRow, validate: bool, initials_cache: dict[str, str], now: Any
) -> tuple:
    name = validate_name(row.name) if validate else row.name
    number = row.id_number
    if row.id_kind == IdKind.RIC and validate:
        facts = validate_ric(number)
        number = facts.number
        if row.sex != facts.sex or (row.birth_year and row.birth_year != facts.birth_date.year):
            raise DomainError("id_facts_mismatch", "性别或出生年份与身份证号码不符", name=name)
    elif row.id_kind == IdKind.PASSPORT and validate:
        number = normalize_passport(number)
    phone = normalize_phone(row.phone) if (row.phone and validate) else row.phone
    initials = initials_cache.get(name)
    if initials is None:
        initials = initials_cache[name] = name_initials(name)
    has_id = row.id_kind != IdKind.NONE
    return (
        row.id,
        name,
        initials,
        row.id_kind,
        lookup_hash(f"{row.id_kind}:{number}", purpose="id_number") if has_id else None,
        encrypt(number, purpose="id_number") if has_id else None,
        mask_id(number) if has_id else "",
        number[-4:] if has_id else "",
        lookup_hash(phone, purpose="phone") if phone else "",
        encrypt(phone, purpose="phone") if phone else None,
        mask_phone(phone) if phone else "",
        row.birth_year,
        row.sex,
        row.household_id,
        row.jurisdiction_id,
        row.jurisdiction_path,
        row.workplace_id,
        now,
        now,
    )


def person_bulk_import(
    *, rows: Iterable[PersonImportRow], batch_size: int = 5000, validate: bool = True
) -> list[int]:
    """Insert persons, one executemany of a plain INSERT per batch; returns their ids.

    `validate` runs the people.rules checks per row (ID checksum and facts, phone, name);
    a caller that generated the values with those same rules may skip it. Rows without
    an `id` get one from the first free id: run one bulk import at a time.
    """
    sql = _insert_sql(Person, PERSON_COLUMNS)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    ids: list[int] = []
    initials_cache: dict[str, str] = {}
    for chunk in batched(rows, batch_size):
        chunk = _allocate(Person, chunk)
        values = [_person_values(row, validate, initials_cache, now) for row in chunk]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, values)
        ids.extend(int(row.id or 0) for row in chunk)
        if len(initials_cache) > 200_000:
            initials_cache.clear()
    sequences_reset(Person)
    return ids


def people_delete_under(prefix: str) -> dict[str, int]:
    """Delete the persons and households living under the path `prefix` (persons first:
    they point at their household) in set-based DELETEs. Rows of other apps that point
    at these persons go first, through those apps' `*_delete_under`. Returns {model
    label: rows deleted}."""
    with transaction.atomic():
        persons = rows_under_delete(Person, "jurisdiction_path", prefix)
        households = rows_under_delete(Household, "jurisdiction_path", prefix)
    return {Person._meta.label: persons, Household._meta.label: households}
