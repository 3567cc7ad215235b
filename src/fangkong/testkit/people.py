"""Persons and households built through `fangkong.people` (services, or its bulk path for
large worlds): real resident ID numbers with their check digit in the city's area code,
real phones, encrypted and hashed exactly as the product writes them.

    person(jurisdiction, "张三")                    -> Person (RIC and phone, through person_create)
    registered(jurisdiction, "张三")                -> Registered(person, id_number, phone)
    household(community)                            -> Household (through household_create)
    persons_bulk(jurisdiction, 5000)                -> [person id] (through people.bulk)
    population([home, ...], names)                  -> [Person] (through people.bulk)
    ric(7), phone(7)                                -> valid clear values
    id_number_of(person)                            -> the clear ID number the kit registered
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .actors import actor_or_admin

CITY_CODE = "330483"  # 桐乡市, the `tree` fixture's city
_serial = itertools.count(1)
# Clear ID numbers of the persons the kit registered (person id -> number): what a
# sampler's phone would scan. Rewritten at each registration, so a reused id is current.
_numbers: dict[int, str] = {}


def ric(seq: int | None = None, birth: str | None = None, region: str = CITY_CODE) -> str:
    """A valid 18-character resident ID number: area code, birth date, sequence, check digit.

    `ric(7)` is the test's own number (born 1990-01-01 unless `birth` says otherwise);
    `ric()` is the kit's next one, born in the 1960s (one day later per thousand), so
    that the kit's numbers never meet a test's."""
    from fangkong.people import rules

    if seq is None:
        n = next(_serial)
        birth = birth or (dt.date(1960, 1, 1) + dt.timedelta(days=n // 1000)).strftime("%Y%m%d")
    else:
        n, birth = seq, birth or "19900101"
    body = f"{region}{birth}{n % 1000:03d}"
    return body + rules.ric_checksum(body)


def phone(seq: int | None = None) -> str:
    """A valid mobile number (138 + eight digits)."""
    n = next(_serial) if seq is None else seq
    return f"138{n % 100_000_000:08d}"


@dataclass(frozen=True)
class Registered:
    person: Any
    id_number: str
    phone: str


def registered(
    jurisdiction: Any,
    name: str = "张三",
    *,
    id_number: str | None = None,
    phone_number: str | None = None,
    household: Any = None,
    workplace: Any = None,
    id_kind: str = "ric",
    actor: Any = None,
) -> Registered:
    """A person registered through `people.services.person_create`, with the clear values."""
    from fangkong.people.services import person_create

    number = (ric() if id_kind == "ric" else "") if id_number is None else id_number
    mobile = phone() if phone_number is None else phone_number
    created = person_create(
        actor=actor_or_admin(actor),
        name=name,
        id_kind=id_kind,
        id_number=number,
        phone=mobile,
        jurisdiction=jurisdiction,
        household=household,
        workplace=workplace,
    )
    if number:
        _numbers[created.pk] = number
    return Registered(created, number, mobile)


def person(jurisdiction: Any, name: str = "张三", **kwargs: Any) -> Any:
    """A person registered through the service (see `registered` for the keywords)."""
    return registered(jurisdiction, name, **kwargs).person


def id_number_of(person: Any) -> str:
    """The clear ID number the kit registered `person` with (a test keeps no other)."""
    return _numbers[person.pk]


def household(community: Any, address: str | None = None, *, actor: Any = None) -> Any:
    """A household at an address in `community`, through `people.services.household_create`."""
    from fangkong.people.services import household_create

    return household_create(
        actor=actor_or_admin(actor),
        address=address or f"测试路{next(_serial)}号",
        community=community,
    )


def persons_bulk(
    jurisdiction: Any,
    count: int,
    *,
    name: str = "居民",
    household: Any = None,
    with_phone: bool = True,
) -> list[int]:
    """`count` persons in `jurisdiction` through the people app's bulk import
    (`people.bulk`: the columns person_create writes, without a query per person).
    Returns their ids."""
    rows = [(jurisdiction, name)] * count
    return _bulk(rows, household=household, with_phone=with_phone)


def population(homes: Sequence[Any], names: Sequence[str] | str = "居民") -> list[Any]:
    """One person per entry of `homes` (a jurisdiction each), named by `names`, through
    the bulk import: a world's population without a service call per person (no audit
    record per person, as an import writes none). Returns the Person rows in order."""
    from fangkong.people.models import Person

    labels = [names] * len(homes) if isinstance(names, str) else list(names)
    ids = _bulk(list(zip(homes, labels, strict=True)))
    found = Person.objects.in_bulk(ids)
    return [found[i] for i in ids]


def _bulk(
    rows_in: Sequence[tuple[Any, str]], *, household: Any = None, with_phone: bool = True
) -> list[int]:
    from fangkong.people.bulk import PersonImportRow, person_bulk_import

    rows = []
    numbers = []
    for jurisdiction, name in rows_in:
        number = ric()
        numbers.append(number)
        rows.append(
            PersonImportRow(
                name=name,
                id_kind="ric",
                id_number=number,
                phone=phone() if with_phone else "",
                birth_year=int(number[6:10]),
                sex="M" if int(number[16]) % 2 else "F",
                jurisdiction_id=jurisdiction.pk,
                jurisdiction_path=jurisdiction.path,
                household_id=household.pk if household is not None else None,
            )
        )
    ids = person_bulk_import(rows=rows)
    _numbers.update(zip(ids, numbers, strict=True))
    return ids
