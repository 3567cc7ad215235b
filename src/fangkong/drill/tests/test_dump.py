"""A stolen database without the keys yields no ID number and no phone number.

The security review rebuilt every resident's ID number by joining the mask (first 6 and
last 4 characters) with the clear birth date. These tests play that reviewer on a drill
city: (a) the join of every clear column with the mask, counting the checksum-valid
candidates per person; (b) a scan of every text and binary cell of every table for any
clear ID number or phone.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection

from fangkong.core.crypto import decrypt
from fangkong.drill.city import drill_city_build
from fangkong.people.models import Person
from fangkong.people.rules import ric_checksum

SMALL = {"population": 600, "days": 1, "seed": 11}
RIC_IN_TEXT = re.compile(r"(?=([0-9]{17}[0-9X]))")
PHONE_IN_TEXT = re.compile(r"(?=(1[3-9][0-9]{9}))")


def candidates(id_masked: str, birth_year: int | None, sex: str, latest: dt.date) -> list[str]:
    """Every checksum-valid ID number consistent with the mask and the clear columns."""
    region, tail = id_masked[:6], id_masked[-4:]
    if birth_year is None:
        years = range(1900, latest.year + 1)
    else:
        years = range(birth_year, birth_year + 1)
    out = []
    for year in years:
        day = dt.date(year, 1, 1)
        while day.year == year and day <= latest:
            body = f"{region}{day:%Y%m%d}{tail[:3]}"
            sex_of_body = "M" if int(body[16]) % 2 else "F"
            if ric_checksum(body) == tail[3] and sex in {sex_of_body, "U"}:
                out.append(body + tail[3])
            day += dt.timedelta(days=1)
    return out


@pytest.fixture
def city(db: None) -> dict[str, str]:
    """A drill city; returns the clear ID number and phone of every person (what the
    reviewer wants), read with the keys the attacker does not have."""
    drill_city_build(**SMALL)
    clear: dict[str, str] = {}
    for pk, id_cipher, phone_cipher in Person.objects.values_list(
        "pk", "id_cipher", "phone_cipher"
    ):
        if id_cipher is not None:
            clear[f"id:{pk}"] = decrypt(bytes(id_cipher), purpose="id_number")
        if phone_cipher is not None:
            clear[f"phone:{pk}"] = decrypt(bytes(phone_cipher), purpose="phone")
    return clear


def test_the_mask_and_the_clear_columns_rebuild_no_id_number(city: dict[str, str]) -> None:
    # The reviewer's join: every column a dump shows in clear beside the mask.
    today = dt.date.today()  # noqa: DTZ011 - the latest possible birth date
    rebuilt, counts = 0, []
    rows = Person.objects.filter(id_kind="ric").values_list(
        "pk", "id_masked", "id_tail", "birth_year", "sex"
    )
    for pk, id_masked, id_tail, birth_year, sex in rows:
        assert id_masked.endswith(id_tail)  # the tail adds nothing the mask does not show
        found = candidates(id_masked, birth_year, sex, today)
        assert city[f"id:{pk}"] in found  # the join is the right one...
        counts.append(len(found))
        rebuilt += len(found) == 1
    assert len(counts) > 550
    # ...and leaves every person ambiguous: about 365 / 11 = 33 candidates each.
    assert rebuilt == 0
    assert min(counts) >= 2
    assert 25 < sorted(counts)[len(counts) // 2] < 45


def _cells() -> list[tuple[str, str, str]]:
    """(table, column, text) of every text or binary cell of every table."""
    out = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")
            names = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for name, value in zip(names, row, strict=True):
                    if isinstance(value, memoryview | bytes | bytearray):
                        out.append((table, name, bytes(value).decode("latin-1")))
                    elif isinstance(value, str):
                        out.append((table, name, value))
                    elif isinstance(value, dict | list):
                        out.append((table, name, repr(value)))
    return out


def test_no_table_holds_a_clear_id_number_or_phone(city: dict[str, str]) -> None:
    wanted = set(city.values())
    assert len(wanted) > 1000  # IDs and phones of ~600 persons
    seen_tables = set()
    leaks = []
    for table, column, text in _cells():
        seen_tables.add(table)
        for pattern in (RIC_IN_TEXT, PHONE_IN_TEXT):
            for match in pattern.finditer(text):
                if match.group(1) in wanted:
                    leaks.append((table, column))
    assert {"people_person", "people_household", "scans_venuescan"} <= seen_tables
    assert leaks == []
