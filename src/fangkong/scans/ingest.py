"""Ingestion of venue-scan logs (扫码记录导入): CSV and Parquet files, idempotent.

`scans_import_file(actor=..., path=...)` reads a file of scans (a person by ID number
or token, a venue code, a time), resolves persons and venues IN BULK (one query per
batch of rows, never one per row), skips what is already stored, appends the rest through
`services.scans_bulk_insert` and returns an `ImportReport` with every bad row by line.

- Idempotent twice over: every file is recorded in `ScanImport` by its SHA-256 (the same
  file again adds nothing and says so), and each row already present for the same
  (person, place, time) is skipped by a batch lookup, so an overlapping file adds only
  its new rows.
- Read before written: the whole file is read, bounded (bytes, rows, columns), parsed and
  its persons and venues resolved BEFORE the write transaction, which then only looks up
  the rows already stored and appends the rest. A Parquet file's row count is checked in
  its metadata before any row is read (a 2.7 KB file can hold 300,000 rows), a CSV's
  while it is read. An upload never holds the database's write lock while it is parsed.
- Atomic: the writes are one transaction. An unreadable file, missing columns, too many
  rows, or (with `strict=True`) any bad row writes nothing at all.
- Bad rows (unknown person, unknown venue code, bad time, bad ID number, missing value or
  column) are reported by line number (the CSV's physical line, the header being line 1;
  the row number for Parquet) and the good rows are imported.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require
from fangkong.accounts.roles import Capability
from fangkong.accounts.services import audit_record
from fangkong.areas import selectors as area_selectors
from fangkong.core.errors import DomainError
from fangkong.core.jobs import Progress
from fangkong.core.spreadsheet import csv_rows, import_too_large
from fangkong.people import selectors as people_selectors
from fangkong.people.rules import validate_ric
from fangkong.people.services import id_lookup_hash
from fangkong.scans.models import ScanImport, ScanImportFormat, VenueScan
from fangkong.scans.services import scans_bulk_insert

if TYPE_CHECKING:
    from fangkong.accounts.models import User

LOCAL = ZoneInfo("Asia/Shanghai")
BATCH_SIZE = 2000
# Bounds of one file: the page and the API take at most this; the command may raise
# the row limit (`--max-rows`) for a trusted operator's large log.
MAX_IMPORT_ROWS = 500_000
MAX_IMPORT_BYTES = 128 * 1024 * 1024
MAX_IMPORT_COLUMNS = 64
# A Parquet file's data once decompressed (the sum of its column chunks' declared
# uncompressed sizes): one compressed value can expand a thousandfold (a 2 KB file holds
# a 20 MB string). 500,000 rows of a scan log (ID number, venue code, time: about 40
# bytes a row) are some 20 MB; 256 MB leaves room for extra columns while keeping what
# DuckDB decodes and Python receives within a few hundred MB.
MAX_PARQUET_UNCOMPRESSED_BYTES = 256 * 1024 * 1024
BAD_ROWS_KEPT = 1000  # the report lists this many bad rows; the count covers them all
PERSON_COLUMNS = ("id_number", "person_token")
REQUIRED_COLUMNS = ("venue_code", "scanned_at")

# (line, person key kind, person key, venue code, scanned_at)
_Parsed = tuple[int, str, str, str, dt.datetime]


@dataclass(frozen=True)
class BadRow:
    line: int
    code: str
    message: str
    value: str = ""


@dataclass
class ImportReport:
    name: str
    sha256: str
    fmt: str
    strict: bool = False
    rows: int = 0
    added: int = 0
    duplicates: int = 0
    bad: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)
    import_id: int | None = None
    already_imported: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def add_bad(self, line: int, code: str, message: str, value: Any = "") -> None:
        self.bad += 1
        if len(self.bad_rows) < BAD_ROWS_KEPT:
            self.bad_rows.append(BadRow(line, code, message, str(value or "")[:100]))


# --- Reading files --------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def detect_format(path: Path, fmt: str | None) -> str:
    """The explicit format, else by the file's suffix, else by Parquet's magic bytes."""
    if fmt:
        if fmt not in ScanImportFormat.values:
            raise DomainError("import_format_invalid", _("文件格式须为 CSV 或 Parquet"), fmt=fmt)
        return fmt
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return ScanImportFormat.PARQUET
    if suffix in (".csv", ".txt"):
        return ScanImportFormat.CSV
    with path.open("rb") as handle:
        magic = handle.read(4)
    return ScanImportFormat.PARQUET if magic == b"PAR1" else ScanImportFormat.CSV


def _unreadable(exc: Exception) -> DomainError:
    """The file cannot be read. The reader's own message is not passed on: DuckDB's and
    the OS's name the server's temporary path of the upload."""
    return DomainError("import_unreadable", _("文件无法读取"), reason=type(exc).__name__)


def _too_many_rows(max_rows: int, rows: int | None = None) -> DomainError:
    detail: dict[str, Any] = {"max_rows": max_rows}
    if rows is not None:
        detail["rows"] = rows
    return DomainError(
        "import_too_many_rows",
        _("文件行数过多（最多 %(max)d 行），请拆分后导入") % {"max": max_rows},
        **detail,
    )


def _check_width(columns: list[str]) -> None:
    if len(columns) > MAX_IMPORT_COLUMNS:
        raise DomainError(
            "import_too_many_columns",
            _("文件列数过多（最多 %(max)d 列）") % {"max": MAX_IMPORT_COLUMNS},
            max_columns=MAX_IMPORT_COLUMNS,
        )


def _check_header(columns: list[str]) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if not any(c in columns for c in PERSON_COLUMNS):
        missing.insert(0, "id_number|person_token")
    if missing:
        raise DomainError(
            "import_columns_missing",
            _("文件缺少必需的列：%(columns)s") % {"columns": ", ".join(missing)},
            missing=missing,
            columns=columns[:20],
        )


def _csv_records(path: Path, max_rows: int) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, record) of a UTF-8 CSV (BOM or not); a short row lacks keys. More than
    `max_rows` rows (blank lines included) refuse the file as soon as they are read."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv_rows(handle)
            first = next(reader, None)
            if first is None:
                raise DomainError("import_empty", _("文件为空"))
            columns = [c.strip().lower() for c in first[1]]
            _check_width(columns)
            _check_header(columns)
            read = 0
            for line, row in reader:
                read += 1
                if read > max_rows:
                    raise _too_many_rows(max_rows)
                if not any(cell.strip() for cell in row):
                    continue
                yield line, dict(zip(columns, row, strict=False))
    except csv.Error as exc:
        raise _unreadable(exc) from None
    except (UnicodeDecodeError, OSError) as exc:
        raise _unreadable(exc) from None


def _parquet_records(path: Path, max_rows: int) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, record) of a Parquet file read by DuckDB, in batches. The row count,
    the uncompressed size and the width are read from the file's metadata first: a file
    declaring more than `max_rows` rows, or data that decompresses to more than
    MAX_PARQUET_UNCOMPRESSED_BYTES, is refused before any row is decoded (and the rows
    read are counted too, whatever the metadata says)."""
    import duckdb

    try:
        connection = duckdb.connect()
        try:
            (declared,) = connection.execute(
                "SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata(?)", [str(path)]
            ).fetchone() or (0,)
            if int(declared) > max_rows:
                raise _too_many_rows(max_rows, int(declared))
            (uncompressed,) = connection.execute(
                "SELECT coalesce(sum(total_uncompressed_size), 0) FROM parquet_metadata(?)",
                [str(path)],
            ).fetchone() or (0,)
            if int(uncompressed) > MAX_PARQUET_UNCOMPRESSED_BYTES:
                raise import_too_large(max_uncompressed_bytes=MAX_PARQUET_UNCOMPRESSED_BYTES)
            cursor = connection.execute("SELECT * FROM read_parquet(?)", [str(path)])
            columns = [str(d[0]).strip().lower() for d in cursor.description or []]
            _check_width(columns)
            _check_header(columns)
            number = 0
            while batch := cursor.fetchmany(BATCH_SIZE):
                for row in batch:
                    number += 1
                    if number > max_rows:
                        raise _too_many_rows(max_rows)
                    yield number, dict(zip(columns, row, strict=False))
        finally:
            connection.close()
    except duckdb.Error as exc:
        raise _unreadable(exc) from None


# --- Parsing rows ---------------------------------------------------------------------


def parse_scanned_at(value: Any) -> dt.datetime:
    """ISO 8601 with an offset, or naive = Asia/Shanghai; whole seconds (as stored)."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        moment = dt.datetime.fromisoformat(value.strip())
    else:
        raise ValueError("no time")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL)
    return moment.replace(microsecond=0)


def _text(record: dict[str, Any], column: str) -> str | None:
    """The cell as text; None when the row has no such cell (a short CSV row)."""
    if column not in record:
        return None
    value = record[column]
    return "" if value is None else str(value).strip()


def _parse(line: int, record: dict[str, Any], report: ImportReport) -> _Parsed | None:
    missing = [c for c in REQUIRED_COLUMNS if c not in record]
    if missing:
        report.add_bad(line, "missing_column", _("该行缺少列"), ",".join(missing))
        return None
    id_number = _text(record, "id_number") or ""
    token = _text(record, "person_token") or ""
    venue_code = _text(record, "venue_code") or ""
    raw_time = record.get("scanned_at")
    if not (id_number or token) or not venue_code or raw_time in (None, ""):
        report.add_bad(line, "missing_value", _("人员、场所码或时间为空"))
        return None
    if id_number:
        try:
            number = validate_ric(id_number).number
        except DomainError:
            report.add_bad(line, "bad_id_number", _("身份证号码不合法"))
            return None
        key = id_lookup_hash("ric", number)
    else:
        key = token.lower()
    try:
        scanned_at = parse_scanned_at(raw_time)
    except (ValueError, TypeError):
        report.add_bad(line, "bad_time", _("扫码时间无法识别"), raw_time)
        return None
    return line, "id" if id_number else "token", key, venue_code, scanned_at


# --- Resolving and writing ------------------------------------------------------------


class _Venues:
    """Venue code → (place id, jurisdiction path), looked up in bulk and cached."""

    def __init__(self, actor: User) -> None:
        self.actor = actor
        self.known: dict[str, tuple[int, str] | None] = {}

    def resolve(self, codes: set[str]) -> None:
        wanted = [c for c in codes if c not in self.known]
        if not wanted:
            return
        found = area_selectors.venues_by_code(user=self.actor, codes=wanted)
        for code in wanted:
            self.known[code] = found.get(code)


# (person id, place id, scanned_at) → the venue's jurisdiction path (one str per venue,
# shared: the file's rows are held in memory between reading and writing, 500,000 at most)
_ScanKey = tuple[int, int, dt.datetime]
_Resolved = dict[_ScanKey, str]


def _resolve_batch(
    actor: User, batch: list[_Parsed], venues: _Venues, resolved: _Resolved, report: ImportReport
) -> None:
    """Persons (by keyed ID hash, in the actor's scope) and venue codes of a batch, one
    query each; a row repeated in the file counts as a duplicate once resolved."""
    keys = {key for _line, _kind, key, _code, _at in batch}
    persons = people_selectors.person_ids_by_id_hash(user=actor, hashes=keys)
    venues.resolve({code for _line, _kind, _key, code, _at in batch})
    for line, _kind, key, code, at in batch:
        person_id = persons.get(key)
        venue = venues.known.get(code)
        if person_id is None:
            report.add_bad(line, "unknown_person", _("未找到该人员"))
        elif venue is None:
            report.add_bad(line, "unknown_venue", _("未找到该场所码"), code)
        elif (person_id, venue[0], at) in resolved:
            report.duplicates += 1
        else:
            resolved[(person_id, venue[0], at)] = venue[1]


def _read_file(
    actor: User,
    source: Path,
    report: ImportReport,
    max_rows: int,
    strict: bool,
    progress: Progress | None = None,
) -> _Resolved:
    """The whole file read, bounded, parsed and resolved: no transaction, no write."""
    records = (
        _csv_records(source, max_rows)
        if report.fmt == ScanImportFormat.CSV
        else _parquet_records(source, max_rows)
    )
    venues = _Venues(actor)
    resolved: _Resolved = {}
    parsed = (_parse(line, row, report) for line, row in _counted(records, report, progress))
    rows = (p for p in parsed if p is not None)
    while batch := list(islice(rows, BATCH_SIZE)):
        _resolve_batch(actor, batch, venues, resolved, report)
        if strict and report.bad:
            break
    report.bad_rows.sort(key=lambda bad: bad.line)
    return resolved


def _append_new(items: list[tuple[_ScanKey, str]], report: ImportReport) -> None:
    """Append the rows not stored yet (one lookup, one bulk insert)."""
    existing = set(
        VenueScan.objects.filter(
            person_id__in={p for (p, _pl, _at), _path in items},
            scanned_at__in={at for (_p, _pl, at), _path in items},
        ).values_list("person_id", "place_id", "scanned_at")
    )
    rows = [
        (person_id, place_id, at, at.astimezone(LOCAL).date(), path)
        for (person_id, place_id, at), path in items
        if (person_id, place_id, at) not in existing
    ]
    report.duplicates += len(items) - len(rows)
    if rows:
        report.added += scans_bulk_insert(rows)


def _claim(report: ImportReport, actor: User) -> ScanImport | None:
    """Record the file by its hash; None when it was ingested before (the UNIQUE hash,
    not a read, decides between two concurrent imports of the same file)."""
    try:
        with transaction.atomic():
            return ScanImport.objects.create(
                sha256=report.sha256,
                name=report.name[:255],
                fmt=report.fmt,
                strict=report.strict,
                actor=actor if getattr(actor, "is_authenticated", False) else None,
                at=timezone.now(),
            )
    except IntegrityError:
        return None


def _already_imported(report: ImportReport) -> ImportReport | None:
    previous = ScanImport.objects.filter(sha256=report.sha256).first()
    if previous is None:
        return None
    report.import_id = previous.pk
    report.already_imported = True
    return report


@transaction.atomic
def _store(*, actor: User, report: ImportReport, resolved: _Resolved, ip: str) -> ImportReport:
    """The write transaction: claim the file's hash, append what is not stored, record
    the report, audit."""
    record = _claim(report, actor)
    if record is None:  # imported concurrently since the file was read
        report.added = 0
        return _already_imported(report) or report
    items = list(resolved.items())
    for start in range(0, len(items), BATCH_SIZE):
        _append_new(items[start : start + BATCH_SIZE], report)
    record.rows, record.added, record.duplicates = report.rows, report.added, report.duplicates
    record.bad = report.bad
    record.bad_rows = [asdict(b) for b in report.bad_rows]
    record.save(update_fields=["rows", "added", "duplicates", "bad", "bad_rows"])
    report.import_id = record.pk
    audit_record(
        actor=actor,
        action="scans.import",
        object_type="scan_import",
        object_id=record.pk,
        object_label=report.name,
        detail={
            "rows": report.rows,
            "added": report.added,
            "bad": report.bad,
            "sha256": report.sha256,
        },
        ip=ip,
    )
    return report


def scans_import_file(
    *,
    actor: User,
    path: str | Path,
    fmt: str | None = None,
    strict: bool = False,
    name: str | None = None,
    ip: str = "",
    max_rows: int | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Ingest one scan-log file; see the module's docstring for the rules. The file is
    read and resolved first, outside any transaction; `_store` then writes atomically.
    `max_rows` (default MAX_IMPORT_ROWS) bounds the rows read. Run as a job
    (scans.tasks.SCANS_IMPORT), `progress` counts the rows read, then the phase "apply"."""
    require(actor, Capability.SCANS_IMPORT)
    max_rows = MAX_IMPORT_ROWS if max_rows is None else max_rows
    source = Path(path)
    try:
        size = source.stat().st_size
        sha256 = file_sha256(source)
    except OSError as exc:
        raise _unreadable(exc) from None
    if size > MAX_IMPORT_BYTES:
        raise import_too_large(max_bytes=MAX_IMPORT_BYTES)
    report = ImportReport(
        name=name or source.name, sha256=sha256, fmt=detect_format(source, fmt), strict=strict
    )
    if _already_imported(report) is not None:
        return report
    if progress is not None:
        progress.phase("read")
        if report.fmt == ScanImportFormat.CSV:
            progress.total(_csv_lines(source))
    resolved = _read_file(actor, source, report, max_rows, strict, progress)
    if progress is not None:
        progress.rows_done = report.rows
        progress.total(report.rows)
    if strict and report.bad:
        raise DomainError(
            "import_bad_rows",
            _("文件含有 %(count)d 行错误数据，未导入任何记录") % {"count": report.bad},
            bad=report.bad,
            bad_rows=[asdict(b) for b in report.bad_rows[:100]],
        )
    if progress is not None:
        progress.phase("apply")
    return _store(actor=actor, report=report, resolved=resolved, ip=ip)


def _csv_lines(source: Path) -> int | None:
    """The data lines of a CSV (for a job's progress total; an estimate)."""
    lines = 0
    with source.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
    return max(0, lines - 1) or None


def _counted(
    records: Iterator[tuple[int, dict[str, Any]]],
    report: ImportReport,
    progress: Progress | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    for item in records:
        report.rows += 1
        if progress is not None:
            progress.advance()
        yield item


# The latest first; the primary key last (a unique order, for keyset pages).
SCAN_IMPORT_ORDER = ("-at", "-pk")


def scan_imports(*, user: User) -> QuerySet[ScanImport]:
    """The ingested files, the latest first (the history of the upload page and the API)."""
    require(user, Capability.SCANS_IMPORT)
    return ScanImport.objects.select_related("actor").order_by(*SCAN_IMPORT_ORDER)


def scan_imports_recent(*, user: User, limit: int = 50) -> list[ScanImport]:
    """The latest ingested files (the history of the upload page)."""
    return list(scan_imports(user=user)[:limit])


def scans_import_upload(
    *, actor: User, upload: Any, fmt: str | None = None, strict: bool = False, ip: str = ""
) -> ImportReport:
    """Ingest an uploaded file (a Django UploadedFile) through `scans_import_file`: the
    upload is copied to a temporary file first (Parquet is read by path); no message
    names that file."""
    require(actor, Capability.SCANS_IMPORT)
    if (getattr(upload, "size", 0) or 0) > MAX_IMPORT_BYTES:
        raise import_too_large(max_bytes=MAX_IMPORT_BYTES)
    original = Path(str(getattr(upload, "name", "") or "upload.csv")).name
    suffix = Path(original).suffix.lower()[:10]
    with tempfile.TemporaryDirectory(prefix="fangkong-scans-") as folder:
        target = Path(folder) / f"upload{suffix}"
        with target.open("wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        return scans_import_file(
            actor=actor, path=target, fmt=fmt, strict=strict, name=original, ip=ip
        )
