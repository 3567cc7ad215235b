"""Reading a lab's results file (CSV or Excel) or an API batch into result rows: bounded
in bytes, rows and columns, every bad row reported by line number. Touches no table, so
callers run it before their write transaction; the words, numbers and times it reads are
the rules of `testing.rules.labs`."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core.errors import DomainError
from fangkong.core.spreadsheet import csv_rows, formula_unescape, import_too_large, xlsx_rows
from fangkong.testing.rules import labs as rules

if TYPE_CHECKING:
    from fangkong.core.jobs import Progress

MAX_IMPORT_BYTES = 64 * 1024 * 1024
MAX_IMPORT_ROWS = 500_000
MAX_BLANK_ROWS = 10_000
MAX_IMPORT_COLUMNS = 100
HEADER_ROWS_ALLOWED = 10  # non-empty rows above the data: the header, a title or two
# An .xlsx is a zip of XML parts (see core.spreadsheet.xlsx_rows). All parts unpacked:
# 500,000 rows of five columns as openpyxl writes them unpack to 99 MB (almost all of it
# the sheet, which is parsed one row at a time); 160 MB leaves room for longer cells.
# The parts read whole when the workbook opens (shared strings, styles, theme): a file
# of 500,000 unique barcodes holds about 15 MB of shared strings; 32 MB of them cost at
# most a few hundred MB of memory.
MAX_XLSX_UNPACKED_BYTES = 160 * 1024 * 1024
MAX_XLSX_READ_WHOLE_BYTES = 32 * 1024 * 1024
MAX_ERRORS_REPORTED = 1000


@dataclass(frozen=True)
class ResultRow:
    """One result as a lab sends it, read but not yet checked against the database."""

    line: int
    barcode: str
    result: str
    ct_orf1ab: float | None
    ct_n: float | None
    tested_at: dt.datetime


@dataclass(frozen=True)
class ResultRowError:
    line: int  # the line (CSV) or row (Excel) number as the lab sees it; 0 = the file
    code: str
    message: str
    barcode: str = ""


@dataclass
class ResultImportReport:
    import_id: int | None = None
    duplicate: bool = False  # the same file (or batch) was imported before: nothing done
    rows: int = 0
    applied: int = 0
    unchanged: int = 0
    corrected: int = 0
    positives: int = 0
    holds: int = 0
    rechecks: int = 0
    rechecks_resolved: int = 0
    cases: list[int] = field(default_factory=list)
    errors: list[ResultRowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class RowErrors:
    def __init__(self, report: ResultImportReport) -> None:
        self.report = report

    def add(self, line: int, code: str, message: str, barcode: str = "") -> None:
        if len(self.report.errors) < MAX_ERRORS_REPORTED:
            self.report.errors.append(ResultRowError(line, code, message, barcode))
        elif len(self.report.errors) == MAX_ERRORS_REPORTED:
            self.report.errors.append(ResultRowError(line, "too_many_errors", _("错误过多")))


def row_from_cells(
    line: int,
    cells: dict[str, Any],
    errors: RowErrors,
    now: dt.datetime,
    times: dict[str, dt.datetime] | None = None,
) -> ResultRow | None:
    """One row read and checked on its own; `times` caches parsed test times (a lab's
    file repeats the same few run times on thousands of rows)."""
    barcode = str(cells.get("barcode") or "").strip()
    if isinstance(cells.get("barcode"), float) and float(cells["barcode"]).is_integer():
        barcode = str(int(cells["barcode"]))
    if not barcode or len(barcode) > rules.BARCODE_MAX:
        errors.add(line, "barcode_invalid", _("试管条码为空或过长"))
        return None
    result = rules.result_from_word(cells.get("result"))
    if result is None:
        errors.add(
            line,
            "result_invalid",
            _("检测结果无效：%(value)s") % {"value": str(cells.get("result") or "")[:20]},
            barcode,
        )
        return None
    try:
        ct_orf1ab = rules.parse_ct(cells.get("ct_orf1ab"))
        ct_n = rules.parse_ct(cells.get("ct_n"))
    except ValueError:
        errors.add(line, "ct_invalid", _("Ct值无效"), barcode)
        return None
    raw_time = cells.get("tested_at")
    try:
        if isinstance(raw_time, str) and times is not None:
            tested_at = times.get(raw_time) or times.setdefault(
                raw_time, rules.parse_tested_at(raw_time)
            )
        else:
            tested_at = rules.parse_tested_at(raw_time)
    except ValueError:
        errors.add(line, "tested_at_invalid", _("检测时间无效"), barcode)
        return None
    if tested_at > now + dt.timedelta(minutes=5):
        errors.add(line, "tested_at_future", _("检测时间晚于当前时间"), barcode)
        return None
    return ResultRow(line, barcode, result, ct_orf1ab, ct_n, tested_at)


def _columns(header: Sequence[Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, heading in enumerate(header):
        name = rules.column_of(heading)
        if name and name not in found:
            found[name] = index
    missing = [c for c in rules.REQUIRED_COLUMNS if c not in found]
    if missing:
        raise DomainError(
            "import_header_missing",
            _("未找到表头（须含试管条码、检测结果、检测时间列）"),
            missing=missing,
        )
    return found


def _rows_from_table(
    table: Iterable[tuple[int, Sequence[Any]]], errors: RowErrors, report: ResultImportReport
) -> list[ResultRow]:
    """Rows of a table read as the lab sees it (line numbers kept), bounded: more than
    MAX_IMPORT_ROWS data rows, MAX_BLANK_ROWS empty rows or MAX_IMPORT_COLUMNS cells in a
    row refuse the whole file at once (a file that compresses or declares millions of
    rows costs no more than the rows read until the limit)."""
    now = timezone.now()
    rows: list[ResultRow] = []
    times: dict[str, dt.datetime] = {}
    columns: dict[str, int] | None = None
    blank = 0
    for line, values in table:
        if len(values) > MAX_IMPORT_COLUMNS:
            raise DomainError(
                "import_too_many_columns",
                _("第 %(line)d 行的列数过多（最多 %(max)d 列）")
                % {"line": line, "max": MAX_IMPORT_COLUMNS},
                line=line,
                max_columns=MAX_IMPORT_COLUMNS,
            )
        if not any(v not in (None, "") for v in values):
            blank += 1
            if blank > MAX_BLANK_ROWS:
                raise DomainError(
                    "import_too_many_rows",
                    _("文件空行过多"),
                    line=line,
                    max_rows=MAX_IMPORT_ROWS,
                )
            continue
        if columns is None:
            columns = _columns(values)
            continue
        report.rows += 1
        if report.rows > MAX_IMPORT_ROWS:
            raise DomainError(
                "import_too_many_rows",
                _("文件行数过多（最多 %(max)d 行），请分批导入") % {"max": MAX_IMPORT_ROWS},
                line=line,
                max_rows=MAX_IMPORT_ROWS,
            )
        cells = {
            name: formula_unescape(values[index]) if index < len(values) else None
            for name, index in columns.items()
        }
        row = row_from_cells(line, cells, errors, now, times)
        if row is not None:
            rows.append(row)
    if columns is None:
        raise DomainError(
            "import_header_missing", _("未找到表头（须含试管条码、检测结果、检测时间列）")
        )
    return rows


def _csv_table(data: bytes) -> Iterator[tuple[int, list[str]]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DomainError("import_file_invalid", _("无法读取该文件"))
    lines = io.StringIO(text, newline="")
    try:
        yield from csv_rows(lines)
    except csv.Error:
        raise DomainError("import_file_invalid", _("无法读取该文件")) from None


def _xlsx_table(data: bytes) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The workbook's non-empty rows, read by the one bounded reader
    (`core.spreadsheet.xlsx_rows`) with the bounds of a results file."""
    return xlsx_rows(
        data,
        max_bytes=MAX_IMPORT_BYTES,
        max_unpacked=MAX_XLSX_UNPACKED_BYTES,
        max_read_whole=MAX_XLSX_READ_WHOLE_BYTES,
        max_rows=MAX_IMPORT_ROWS + HEADER_ROWS_ALLOWED,
        max_columns=MAX_IMPORT_COLUMNS,
        max_empty_rows=MAX_BLANK_ROWS,
    )


def read_results_file(
    data: bytes, filename: str = "", progress: Progress | None = None
) -> tuple[list[ResultRow], ResultImportReport]:
    """Read a lab's CSV or Excel file into rows; bad rows are reported by line number.
    Bounded in bytes, rows and columns; it touches no table, so callers run it before
    their write transaction (SQLite takes its write lock when that begins). A job's
    `progress` advances by one per line read (its total estimated from a CSV's lines)."""
    if len(data) > MAX_IMPORT_BYTES:
        raise import_too_large(max_bytes=MAX_IMPORT_BYTES)
    report = ResultImportReport()
    errors = RowErrors(report)
    is_xlsx = data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm"))
    table: Iterable[tuple[int, Sequence[Any]]] = _xlsx_table(data) if is_xlsx else _csv_table(data)
    if progress is not None:
        progress.phase("read")
        progress.total(None if is_xlsx else max(0, data.count(b"\n") - 1) or None)
        table = _counted(table, progress)
    rows = _rows_from_table(table, errors, report)
    return rows, report


def _counted(
    table: Iterable[tuple[int, Sequence[Any]]], progress: Progress
) -> Iterator[tuple[int, Sequence[Any]]]:
    for line in table:
        yield line
        progress.advance()
