"""Scan-log uploads are bounded (bytes, rows, columns, field size) and read before the
write transaction; a tiny Parquet file declaring 300,000 rows is refused from its
metadata; an unreadable file's answer never names the server's temporary path."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client

from fangkong.accounts.roles import Role
from fangkong.areas.models import Jurisdiction
from fangkong.core.errors import DomainError
from fangkong.people import rules
from fangkong.scans import ingest
from fangkong.scans.models import ScanImport, VenueScan
from fangkong.testkit import areas, people

SCANS_API = "/api/tracing/scan-imports"


def ric(seq: int) -> str:
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=seq)
    body = f"330483{birth:%Y%m%d}{seq % 1000:03d}"
    return body + rules.ric_checksum(body)


@pytest.fixture
def person_and_venue(tree: Any) -> str:
    number = ric(1)
    people.person(tree.community_a, "扫码人", id_number=number)
    areas.place(tree.community_a, "venue", "超市", venue_code="V0")
    return number


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _tiny_parquet(path: Path, rows: int) -> Path:
    duckdb.sql(
        "COPY (SELECT '110101199003070000' AS id_number, 'V0' AS venue_code, "
        "TIMESTAMPTZ '2022-07-03 08:00:00+08' AS scanned_at "
        f"FROM range({rows})) TO '{path}' (FORMAT PARQUET)"
    )
    return path


def _refusal(r: Any) -> dict[str, Any]:
    """The import runs as a background job (in-process in tests): the API answers 202
    and the job, failed with the refusal the synchronous import answered with a 4xx."""
    assert r.status_code == 202, r.content
    body = r.json()
    assert body["state"] == "failed", body
    return {
        "code": body["error_code"],
        "message": body["error_message"],
        "detail": body["error_detail"],
    }


@pytest.mark.django_db
def test_tiny_parquet_declaring_300000_rows_is_refused_from_its_metadata(
    tmp_path: Path, investigator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a 2 KB Parquet file holding 300,000 rows, and a limit of 100,000
    path = _tiny_parquet(tmp_path / "bomb.parquet", 300_000)
    assert path.stat().st_size < 5_000
    monkeypatch.setattr(ingest, "MAX_IMPORT_ROWS", 100_000)
    decoded: list[int] = []
    parse = ingest._parse
    monkeypatch.setattr(ingest, "_parse", lambda *a: decoded.append(1) or parse(*a))

    # When it is uploaded
    with path.open("rb") as handle:
        r = _client(investigator).post(
            SCANS_API, {"file": SimpleUploadedFile("bomb.parquet", handle.read())}
        )

    # Then it is refused before a single row is decoded, and nothing is written
    assert _refusal(r)["code"] == "import_too_many_rows"
    assert _refusal(r)["detail"] == {"max_rows": 100_000, "rows": 300_000}
    assert decoded == []
    assert not ScanImport.objects.exists() and not VenueScan.objects.exists()


@pytest.mark.django_db
def test_tiny_parquet_decompressing_past_the_limit_is_refused_from_its_metadata(
    tmp_path: Path, investigator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a 2 KB Parquet file whose one row holds a 20 MB string (zstd shrinks it
    # ten-thousandfold), and an uncompressed limit of 10 MB
    path = tmp_path / "expands.parquet"
    duckdb.sql(
        "COPY (SELECT repeat('1', 20000000) AS id_number, 'V0' AS venue_code, "
        "TIMESTAMPTZ '2022-07-03 08:00:00+08' AS scanned_at) "
        f"TO '{path}' (FORMAT PARQUET, COMPRESSION zstd)"
    )
    assert path.stat().st_size < 5_000
    monkeypatch.setattr(ingest, "MAX_PARQUET_UNCOMPRESSED_BYTES", 10_000_000)
    decoded: list[int] = []
    parse = ingest._parse
    monkeypatch.setattr(ingest, "_parse", lambda *a: decoded.append(1) or parse(*a))

    # When it is uploaded
    with path.open("rb") as handle:
        r = _client(investigator).post(
            SCANS_API, {"file": SimpleUploadedFile("expands.parquet", handle.read())}
        )

    # Then it is refused from the metadata, before a row is decoded; nothing is written
    assert _refusal(r)["code"] == "import_file_too_large"
    assert _refusal(r)["detail"] == {"max_uncompressed_bytes": 10_000_000}
    assert decoded == []
    assert not ScanImport.objects.exists() and not VenueScan.objects.exists()


@pytest.mark.django_db
def test_csv_rows_are_counted_while_read(
    tmp_path: Path, investigator: Any, person_and_venue: str
) -> None:
    path = tmp_path / "long.csv"
    lines = ["id_number,venue_code,scanned_at"]
    lines += [f"{person_and_venue},V0,2022-07-03T08:{m:02d}:00+08:00" for m in range(51)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DomainError) as exc:
        ingest.scans_import_file(actor=investigator, path=path, max_rows=50)
    assert exc.value.code == "import_too_many_rows"
    assert not ScanImport.objects.exists() and not VenueScan.objects.exists()
    # The same file within the limit is imported
    assert ingest.scans_import_file(actor=investigator, path=path, max_rows=51).added == 51


@pytest.mark.django_db
def test_too_many_columns_are_refused(tmp_path: Path, investigator: Any) -> None:
    path = tmp_path / "wide.csv"
    extra = ",".join(f"c{i}" for i in range(ingest.MAX_IMPORT_COLUMNS))
    path.write_text(f"id_number,venue_code,scanned_at,{extra}\n", encoding="utf-8")
    with pytest.raises(DomainError) as exc:
        ingest.scans_import_file(actor=investigator, path=path)
    assert exc.value.code == "import_too_many_columns"


@pytest.mark.django_db
def test_command_takes_a_row_limit(
    tmp_path: Path, tree: Any, make_user: Any, person_and_venue: str
) -> None:
    make_user(Role.ADMIN, tree.city, "admin")
    path = _tiny_parquet(tmp_path / "scans.parquet", 3)
    with pytest.raises(CommandError, match="import_too_many_rows"):
        call_command("scans_import", str(path), "--max-rows", "2")


@pytest.mark.django_db
def test_bad_parquet_answer_names_no_server_path(tmp_path: Path, investigator: Any) -> None:
    r = _client(investigator).post(
        SCANS_API, {"file": SimpleUploadedFile("scans.parquet", b"PAR1 not really parquet")}
    )
    body = _refusal(r)
    assert body["code"] == "import_unreadable"
    text = json.dumps(body, ensure_ascii=False)
    assert "fangkong-scans-" not in text and "/tmp" not in text and "upload" not in text
    # Nor does the service's own error for a file given by path
    with pytest.raises(DomainError) as exc:
        ingest.scans_import_file(actor=investigator, path=tmp_path / "missing.parquet")
    assert str(tmp_path) not in json.dumps(exc.value.as_dict(), ensure_ascii=False)


@pytest.mark.django_db
def test_csv_field_over_the_csv_limit_is_a_400(investigator: Any) -> None:
    body = b'id_number,venue_code,scanned_at\n"' + b"1" * 131_073 + b'",V0,2022-07-03\n'
    r = _client(investigator).post(SCANS_API, {"file": SimpleUploadedFile("s.csv", body)})
    assert _refusal(r)["code"] == "import_field_too_large"


@pytest.mark.django_db
def test_multipart_without_boundary_is_a_4xx(investigator: Any) -> None:
    r = _client(investigator).post(SCANS_API, data=b"--x\r\n", content_type="multipart/form-data")
    assert r.status_code == 400


@pytest.mark.django_db(transaction=True)
def test_file_is_read_outside_any_transaction(
    tmp_path: Path, investigator: Any, person_and_venue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the rows are parsed and resolved, no transaction is open and another
    connection writes at once (SQLite takes its write lock at BEGIN)."""
    path = tmp_path / "scans.csv"
    path.write_text(
        f"id_number,venue_code,scanned_at\n{person_and_venue},V0,2022-07-03T08:00:00+08:00\n",
        encoding="utf-8",
    )
    seen: dict[str, Any] = {}
    resolve = ingest._resolve_batch

    def write_elsewhere() -> None:
        try:
            Jurisdiction.objects.filter(path="330483").update(name="桐乡市")
            seen["written"] = True
        except Exception as exc:  # the lock held: "database is locked"
            seen["error"] = exc
        finally:
            connection.close()

    def spying(*args: Any, **kwargs: Any) -> Any:
        seen["atomic"] = connection.in_atomic_block
        writer = threading.Thread(target=write_elsewhere)
        writer.start()
        writer.join(timeout=30)
        return resolve(*args, **kwargs)

    monkeypatch.setattr(ingest, "_resolve_batch", spying)

    report = ingest.scans_import_file(actor=investigator, path=path)

    assert report.added == 1
    assert seen["atomic"] is False
    assert seen.get("written") is True, seen.get("error")
