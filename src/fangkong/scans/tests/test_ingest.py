"""Scan-log ingestion: idempotent, bad rows by line, atomic, CSV and Parquet, set-based."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
from django.core.management import call_command

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.roles import Role
from fangkong.areas.models import Place
from fangkong.core.errors import DomainError, PermissionDenied
from fangkong.people import rules
from fangkong.people.models import Person
from fangkong.people.services import id_lookup_hash
from fangkong.scans.ingest import parse_scanned_at, scans_import_file
from fangkong.scans.models import ScanImport, VenueScan
from fangkong.testkit import areas, people

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def ric(seq: int) -> str:
    """A valid resident ID number, distinct for each seq (birth date and sequence)."""
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=seq // 1000)
    body = f"330483{birth:%Y%m%d}{seq % 1000:03d}"
    return body + rules.ric_checksum(body)


@pytest.fixture
def city(tree: Any) -> dict[str, Any]:
    """Three persons (ID numbers) and two venues, registered through the services."""
    persons = [people.person(tree.community_a, f"人员{i}", id_number=ric(i + 1)) for i in range(3)]
    venues = [
        areas.place(tree.community_a, "venue", f"场所{i}", venue_code=f"V{i}") for i in range(2)
    ]
    return {"persons": persons, "ids": [ric(i + 1) for i in range(3)], "venues": venues}


def write_csv(path: Path, lines: list[str], bom: bool = False) -> Path:
    path.write_text(("\ufeff" if bom else "") + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_csv_import_then_same_file_again_adds_nothing(
    tmp_path: Path, city: dict[str, Any], investigator: Any
) -> None:
    ids = city["ids"]
    path = write_csv(
        tmp_path / "scans.csv",
        [
            "id_number,venue_code,scanned_at",
            f"{ids[0]},V0,2022-07-03T08:00:00+08:00",
            f"{ids[1]},V1,2022-07-03 09:30:00",  # naive = Asia/Shanghai
            f"{ids[2]},V0,2022-07-03T01:00:00Z",
        ],
        bom=True,
    )
    report = scans_import_file(actor=investigator, path=path)
    assert (report.rows, report.added, report.bad) == (3, 3, 0)
    scan = VenueScan.objects.get(person_id=city["persons"][1].pk)
    assert scan.scanned_at == dt.datetime(2022, 7, 3, 9, 30, tzinfo=SH)
    assert scan.place_id == city["venues"][1].pk
    assert scan.scan_day == dt.date(2022, 7, 3)
    assert scan.jurisdiction_path == city["venues"][1].jurisdiction_path
    record = ScanImport.objects.get()
    assert (record.rows, record.added, record.actor) == (3, 3, investigator)
    assert AuditEvent.objects.filter(action="scans.import").count() == 1

    again = scans_import_file(actor=investigator, path=path)
    assert again.already_imported and again.added == 0
    assert VenueScan.objects.count() == 3
    assert ScanImport.objects.count() == 1


def test_overlapping_file_adds_only_new_rows(
    tmp_path: Path, city: dict[str, Any], investigator: Any
) -> None:
    ids = city["ids"]
    first = write_csv(
        tmp_path / "day1.csv",
        ["id_number,venue_code,scanned_at", f"{ids[0]},V0,2022-07-03T08:00:00+08:00"],
    )
    scans_import_file(actor=investigator, path=first)
    second = write_csv(
        tmp_path / "day1-full.csv",
        [
            "venue_code,scanned_at,id_number",  # any column order
            f"V0,2022-07-03T00:00:00Z,{ids[0]}",  # the same instant, another offset
            f"V1,2022-07-03T10:00:00+08:00,{ids[0]}",
            f"V1,2022-07-03T10:00:00+08:00,{ids[0]}",  # repeated within the file
        ],
    )
    report = scans_import_file(actor=investigator, path=second)
    assert (report.rows, report.added, report.duplicates) == (3, 1, 2)
    assert VenueScan.objects.count() == 2


def test_bad_rows_are_reported_by_line_and_good_rows_imported(
    tmp_path: Path, city: dict[str, Any], investigator: Any
) -> None:
    ids = city["ids"]
    token = city["persons"][2].id_hmac
    path = write_csv(
        tmp_path / "mixed.csv",
        [
            "id_number,person_token,venue_code,scanned_at",
            f"{ids[0]},,V0,2022-07-03T08:00:00+08:00",  # line 2 ok
            f"{ric(99)},,V0,2022-07-03T08:00:00+08:00",  # 3 unknown person
            f"{ids[1]},,NOPE,2022-07-03T08:00:00+08:00",  # 4 unknown venue
            f"{ids[1]},,V1,yesterday",  # 5 bad time
            f"{ids[1]},,V1",  # 6 missing column
            f"{ids[1]},,,2022-07-03T08:00:00+08:00",  # 7 missing value
            "110101199001011234,,V1,2022-07-03T08:00:00+08:00",  # 8 bad checksum
            f",{token},V1,2022-07-03T08:00:00+08:00",  # 9 ok by token
        ],
    )
    report = scans_import_file(actor=investigator, path=path)
    assert report.added == 2 and report.bad == 6
    assert [(b.line, b.code) for b in report.bad_rows] == [
        (3, "unknown_person"),
        (4, "unknown_venue"),
        (5, "bad_time"),
        (6, "missing_column"),
        (7, "missing_value"),
        (8, "bad_id_number"),
    ]
    assert ScanImport.objects.get().bad_rows[0]["line"] == 3


def test_strict_mode_writes_nothing_when_a_row_is_bad(
    tmp_path: Path, city: dict[str, Any], investigator: Any
) -> None:
    ids = city["ids"]
    path = write_csv(
        tmp_path / "strict.csv",
        [
            "id_number,venue_code,scanned_at",
            f"{ids[0]},V0,2022-07-03T08:00:00+08:00",
            f"{ids[1]},NOPE,2022-07-03T08:00:00+08:00",
        ],
    )
    with pytest.raises(DomainError) as refused:
        scans_import_file(actor=investigator, path=path, strict=True)
    assert refused.value.code == "import_bad_rows"
    assert refused.value.detail["bad_rows"][0]["line"] == 3
    assert not VenueScan.objects.exists() and not ScanImport.objects.exists()


def test_wrong_columns_and_unreadable_files_write_nothing(
    tmp_path: Path, city: dict[str, Any], investigator: Any
) -> None:
    wrong = write_csv(tmp_path / "wrong.csv", ["who,where,when", "a,b,c"])
    with pytest.raises(DomainError) as columns:
        scans_import_file(actor=investigator, path=wrong)
    assert columns.value.code == "import_columns_missing"
    # Valid rows first, then bytes that are not UTF-8: the good rows are rolled back.
    ids = city["ids"]
    good = [f"{ids[0]},V0,2022-07-03T08:{m % 60:02d}:00+08:00" for m in range(3000)]
    broken = tmp_path / "broken.csv"
    broken.write_bytes(
        ("id_number,venue_code,scanned_at\n" + "\n".join(good) + "\n").encode() + b"\xff\xfe\x00"
    )
    with pytest.raises(DomainError) as unreadable:
        scans_import_file(actor=investigator, path=broken)
    assert unreadable.value.code == "import_unreadable"
    bad_parquet = write_csv(tmp_path / "fake.parquet", ["not parquet"])
    with pytest.raises(DomainError) as not_parquet:
        scans_import_file(actor=investigator, path=bad_parquet)
    assert not_parquet.value.code == "import_unreadable"
    assert not VenueScan.objects.exists() and not ScanImport.objects.exists()


def test_parquet_file(tmp_path: Path, city: dict[str, Any], investigator: Any) -> None:
    ids = city["ids"]
    target = tmp_path / "scans.parquet"
    duckdb.sql(
        f"""COPY (SELECT * FROM (VALUES
              ('{ids[0]}', 'V0', TIMESTAMPTZ '2022-07-03 08:00:00+08'),
              ('{ids[1]}', 'V1', TIMESTAMPTZ '2022-07-03 09:00:00+08'),
              ('{ids[2]}', 'V9', TIMESTAMPTZ '2022-07-03 10:00:00+08')
            ) AS t(id_number, venue_code, scanned_at)) TO '{target}' (FORMAT PARQUET)"""
    )
    report = scans_import_file(actor=investigator, path=target)
    assert report.fmt == "parquet"
    assert (report.rows, report.added, report.bad) == (3, 2, 1)
    assert [(b.line, b.code) for b in report.bad_rows] == [(3, "unknown_venue")]
    assert VenueScan.objects.get(person_id=city["persons"][0].pk).scanned_at == dt.datetime(
        2022, 7, 3, 8, 0, tzinfo=SH
    )
    naive = tmp_path / "naive.parquet"
    duckdb.sql(
        f"""COPY (SELECT '{ids[0]}' AS id_number, 'V1' AS venue_code,
            TIMESTAMP '2022-07-03 11:00:00' AS scanned_at) TO '{naive}' (FORMAT PARQUET)"""
    )
    assert scans_import_file(actor=investigator, path=naive).added == 1
    assert VenueScan.objects.filter(scanned_at=dt.datetime(2022, 7, 3, 11, 0, tzinfo=SH)).exists()


def test_a_thousand_rows_in_a_few_queries(
    tmp_path: Path, tree: Any, investigator: Any, django_assert_max_num_queries: Any
) -> None:
    numbers = [ric(1000 + i) for i in range(100)]
    Person.objects.bulk_create(
        Person(
            name="人员",
            name_initials="ry",
            id_kind="ric",
            id_hmac=id_lookup_hash("ric", n),
            jurisdiction=tree.community_a,
            jurisdiction_path=tree.community_a.path,
        )
        for n in numbers
    )
    Place.objects.bulk_create(
        Place(
            kind="venue",
            name=f"场所{i}",
            venue_code=f"B{i}",
            jurisdiction=tree.community_a,
            jurisdiction_path=tree.community_a.path,
        )
        for i in range(10)
    )
    base = dt.datetime(2022, 7, 3, 8, 0, tzinfo=SH)
    lines = ["id_number,venue_code,scanned_at"] + [
        f"{numbers[i % 100]},B{i % 10},{(base + dt.timedelta(minutes=i)).isoformat()}"
        for i in range(1000)
    ]
    path = write_csv(tmp_path / "big.csv", lines)
    with django_assert_max_num_queries(15):
        report = scans_import_file(actor=investigator, path=path)
    assert report.added == 1000 and report.bad == 0
    assert VenueScan.objects.count() == 1000


def test_town_staff_may_not_import(tmp_path: Path, city: dict[str, Any], town_a_user: Any) -> None:
    path = write_csv(tmp_path / "x.csv", ["id_number,venue_code,scanned_at"])
    with pytest.raises(PermissionDenied):
        scans_import_file(actor=town_a_user, path=path)
    assert not ScanImport.objects.exists()


def test_management_command_prints_the_report(
    tmp_path: Path, city: dict[str, Any], tree: Any, make_user: Any, capsys: Any
) -> None:
    make_user(Role.ADMIN, tree.city, "admin")
    ids = city["ids"]
    path = write_csv(
        tmp_path / "cmd.csv",
        [
            "id_number,venue_code,scanned_at",
            f"{ids[0]},V0,2022-07-03T08:00:00+08:00",
            f"{ids[0]},XX,2022-07-03T08:00:00+08:00",
        ],
    )
    call_command("scans_import", str(path))
    out = capsys.readouterr().out
    assert "added 1" in out and "line 3: unknown_venue" in out
    call_command("scans_import", str(path))
    assert "already imported" in capsys.readouterr().out


def test_parse_scanned_at() -> None:
    assert parse_scanned_at("2022-07-03T08:00:00.5+08:00") == dt.datetime(
        2022, 7, 3, 8, 0, tzinfo=SH
    )
    assert parse_scanned_at("2022-07-03 08:00") == dt.datetime(2022, 7, 3, 8, 0, tzinfo=SH)
    with pytest.raises(ValueError):
        parse_scanned_at("03/07/2022")
