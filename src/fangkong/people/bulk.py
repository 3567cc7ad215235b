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

Ids: a row may carry an explicit `id` (the drill does: ids from areas.bulk.next_free_id,
so a build is deterministic and households/scans can reference persons without a read
back); rows without one get database ids. The function returns the ids in row order.
Duplicate ID numbers fail the whole batch on the UNIQUE id_hmac (nothing half-written
within a batch).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from fangkong.areas.bulk import batched
from fangkong.core.crypto import encrypt, lookup_hash
from fangkong.core.errors import DomainError
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
    birth_date: dt.date | None
    sex: str  # "M" / "F" / "U"
    jurisdiction_id: int
    jurisdiction_path: str
    household_id: int | None = None
    workplace_id: int | None = None
    id: int | None = None


def household_bulk_create(*, rows: Iterable[dict[str, Any]], batch_size: int = 5000) -> int:
    """Rows: id, address, community_id, jurisdiction_path."""
    now = timezone.now()
    written = 0
    for chunk in batched(rows, batch_size):
        with transaction.atomic():
            Household.objects.bulk_create([Household(created_at=now, **row) for row in chunk])
        written += len(chunk)
    return written


def _person(row: PersonImportRow, validate: bool, initials_cache: dict[str, str]) -> Person:
    name = validate_name(row.name) if validate else row.name
    number = row.id_number
    if row.id_kind == IdKind.RIC and validate:
        facts = validate_ric(number)
        number = facts.number
        if row.sex != facts.sex or (row.birth_date and row.birth_date != facts.birth_date):
            raise DomainError("id_facts_mismatch", "性别或出生日期与身份证号码不符", name=name)
    elif row.id_kind == IdKind.PASSPORT and validate:
        number = normalize_passport(number)
    phone = normalize_phone(row.phone) if (row.phone and validate) else row.phone
    initials = initials_cache.get(name)
    if initials is None:
        initials = initials_cache[name] = name_initials(name)
    has_id = row.id_kind != IdKind.NONE
    return Person(
        id=row.id,
        name=name,
        name_initials=initials,
        id_kind=row.id_kind,
        id_hmac=lookup_hash(f"{row.id_kind}:{number}", purpose="id_number") if has_id else None,
        id_cipher=encrypt(number, purpose="id_number") if has_id else None,
        id_masked=mask_id(number) if has_id else "",
        id_tail=number[-4:] if has_id else "",
        phone_hmac=lookup_hash(phone, purpose="phone") if phone else "",
        phone_cipher=encrypt(phone, purpose="phone") if phone else None,
        phone_masked=mask_phone(phone) if phone else "",
        birth_date=row.birth_date,
        sex=row.sex,
        household_id=row.household_id,
        jurisdiction_id=row.jurisdiction_id,
        jurisdiction_path=row.jurisdiction_path,
        workplace_id=row.workplace_id,
    )


def person_bulk_import(
    *, rows: Iterable[PersonImportRow], batch_size: int = 5000, validate: bool = True
) -> list[int]:
    """Insert persons in batches of `batch_size` (one INSERT per batch); returns their ids.

    `validate` runs the people.rules checks per row (ID checksum and facts, phone, name);
    a caller that generated the values with those same rules may skip it.
    """
    ids: list[int] = []
    initials_cache: dict[str, str] = {}
    for chunk in batched(rows, batch_size):
        objs = [_person(row, validate, initials_cache) for row in chunk]
        with transaction.atomic():
            Person.objects.bulk_create(objs)
        ids.extend(int(o.pk) for o in objs)
        if len(initials_cache) > 200_000:
            initials_cache.clear()
    return ids
