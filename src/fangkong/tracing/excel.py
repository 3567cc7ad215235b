"""Excel lists for towns: export a pushed list, import the town's feedback from it.

The workbook is the interchange format between the command and a town's office, so its
column headings and status labels are always the Chinese ones, whatever the exporting
user's interface language; the hidden last column carries each row's item id, which is
what the import trusts (never the name or the row order).

Export: masked by default; `reveal=True` needs person.reveal and is recorded as such.
Every export writes one `push.export` audit record and is watermarked with the exporting
user, their jurisdiction and the time (a top row, the page header and footer); the sheet
is protected except the two feedback columns.

Every text cell is written through `core.spreadsheet.formula_safe` (a name, address or
note typed as `=HYPERLINK(...)` stays text) and read back through `formula_unescape`.

Import, in three steps so that no write lock is held while a file is read:
1. parse, bounded and without the database: at most `MAX_IMPORT_BYTES` uploaded and
   `MAX_IMPORT_UNZIPPED_BYTES` unpacked; the declared sheet size (a 1.6 KB file may
   declare `A1:XFD12000`) is held to the limits, then ignored; rows read only up to
   `MAX_IMPORT_SHEET_ROWS` and
   `MAX_IMPORT_ROWS` non-empty ones, `MAX_IMPORT_COLUMNS` columns; reading stops at the
   first limit passed;
2. validate every row against the list; if any row is bad nothing is applied and the
   report lists the bad rows by their row number in the sheet;
3. apply, in one short transaction, through `services.pushes.push_item_mark`, so a
   re-import of the same file changes nothing. Each row carries the item's version at
   export (hidden column 版本): a row that would change an item marked since then is
   not applied and is reported as stale (`row_stale`); the other rows are applied.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from fangkong.accounts.permissions import require, require_in_scope
from fangkong.accounts.roles import Capability
from fangkong.accounts.services import audit_record
from fangkong.core.errors import DomainError
from fangkong.core.spreadsheet import formula_safe, xlsx_rows, xml_safe
from fangkong.people.services import RevealRecord, person_identities
from fangkong.tracing.models import PushItem, PushItemStatus, VerificationPush
from fangkong.tracing.selectors import pushes as push_selectors
from fangkong.tracing.services.pushes import push_item_mark, push_items_lock, push_mark_check

if TYPE_CHECKING:
    from fangkong.accounts.models import User

SOURCE_LANGUAGE = "zh-hans"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Column headings (Chinese in every export: the file is a document, not the UI).
COL_SEQ = "序号"
COL_NAME = "姓名"
COL_ID = "证件号码"
COL_PHONE = "手机号码"
COL_ADDRESS = "现住址"
COL_CLASS = "判定"
COL_LAST_EXPOSURE = "末次暴露日期"
COL_QUARANTINE_END = "隔离期满日期"
COL_STATUS = "核查结果"
COL_NOTE = "备注"
COL_ITEM_ID = "条目ID"
COL_VERSION = "版本"
COLUMNS = (
    COL_SEQ,
    COL_NAME,
    COL_ID,
    COL_PHONE,
    COL_ADDRESS,
    COL_CLASS,
    COL_LAST_EXPOSURE,
    COL_QUARANTINE_END,
    COL_STATUS,
    COL_NOTE,
    COL_ITEM_ID,
    COL_VERSION,
)
HIDDEN_COLUMNS = (COL_ITEM_ID, COL_VERSION)
FEEDBACK_COLUMNS = (COL_STATUS, COL_NOTE)
WIDTHS = {
    COL_SEQ: 6,
    COL_NAME: 10,
    COL_ID: 22,
    COL_PHONE: 15,
    COL_ADDRESS: 36,
    COL_CLASS: 12,
    COL_LAST_EXPOSURE: 13,
    COL_QUARANTINE_END: 13,
    COL_STATUS: 14,
    COL_NOTE: 30,
    COL_ITEM_ID: 10,
    COL_VERSION: 6,
}
DATE_COLUMNS = (COL_LAST_EXPOSURE, COL_QUARANTINE_END)
DATE_FORMAT = "yyyy-mm-dd"  # a date, never "00:00": the columns hold days
# What the hidden columns are for, on their header cells (seen by whoever unhides them).
HIDDEN_COLUMN_NOTES = {
    COL_ITEM_ID: "系统用于导入时定位人员，请勿修改或删除。",
    COL_VERSION: "系统用于核对导出后是否有人改过该人员的核查结果，请勿修改或删除。",
}
TITLE_ROW, WATERMARK_ROW, HEADER_ROW = 1, 2, 3
FIRST_DATA_ROW = HEADER_ROW + 1
HEADER_SCAN_ROWS = 10
# Upload bounds, checked before any transaction (see the module docstring).
MAX_IMPORT_BYTES = 5 * 1024 * 1024  # the upload as sent
MAX_IMPORT_UNZIPPED_BYTES = 20 * 1024 * 1024  # the archive unpacked (10,000 rows: about 7 MB)
# the parts read whole on opening (shared strings, styles...): 10,000 rows hold under 2 MB
MAX_IMPORT_READ_WHOLE_BYTES = 8 * 1024 * 1024
MAX_IMPORT_ROWS = 10_000  # non-empty rows below the title and header rows
MAX_IMPORT_EMPTY_ROWS = 10_000  # empty rows (gaps between stored rows included)
MAX_IMPORT_COLUMNS = 30  # columns read; a value further right refuses the file


def status_labels() -> dict[str, str]:
    """status value → its Chinese label (the labels the sheet shows and accepts)."""
    with translation.override(SOURCE_LANGUAGE):
        return {value: str(label) for value, label in PushItemStatus.choices}


def valid_marks_text() -> str:
    """The values a 核查结果 cell takes, as a sentence for an error message."""
    labels = status_labels()
    marks = "、".join(label for value, label in labels.items() if value != PushItemStatus.PENDING)
    return _("%(marks)s（留空或“%(pending)s”表示暂未反馈）") % {
        "marks": marks,
        "pending": labels[PushItemStatus.PENDING],
    }


def status_from_cell(text: str) -> str | None:
    """A 核查结果 cell → a status value; the Chinese label or the value itself."""
    clean = text.strip()
    if not clean:
        return PushItemStatus.PENDING
    by_label = {label: value for value, label in status_labels().items()}
    if clean in by_label:
        return by_label[clean]
    if clean in PushItemStatus.values:
        return clean
    return None


# --- export --------------------------------------------------------------------------


def _header_text(text: str) -> str:
    """Escape '&', the control character of Excel header/footer codes."""
    return xml_safe(text).replace("&", "&&")


def _append(ws: Any, values: list[Any]) -> None:
    """One row, every text cell through `formula_safe`: no cell is ever a formula."""
    ws.append([formula_safe(value) for value in values])


def _watermark(actor: User, reveal: bool, when: str) -> str:
    jurisdiction = getattr(actor, "jurisdiction", None)
    place = jurisdiction.name if jurisdiction is not None else getattr(actor, "scope_path", "")
    kind = "明文" if reveal else "脱敏"
    return (
        f"导出人：{actor.username}（{place}） 导出时间：{when} · {kind} · "
        "仅限疫情防控使用，严禁外传"
    )


def push_export_xlsx(
    *, actor: User, push: VerificationPush, reveal: bool = False, ip: str = ""
) -> bytes:
    """The list as an .xlsx workbook; audited `push.export` (reveal flag, row count)."""
    return push_export_workbook(actor=actor, push=push, reveal=reveal, ip=ip)[0]


def push_export_workbook(
    *, actor: User, push: VerificationPush, reveal: bool = False, ip: str = ""
) -> tuple[bytes, int]:
    """`push_export_xlsx` and the number of persons it lists."""
    require(actor, Capability.PUSH_EXPORT)
    require_in_scope(actor, push.jurisdiction_path, what="verification_push")
    if reveal:
        require(actor, Capability.PERSON_REVEAL)
    items = push_selectors.push_items(user=actor, push=push)
    labels = status_labels()
    now = timezone.localtime()
    when = f"{now:%Y-%m-%d %H:%M}"
    watermark = _watermark(actor, reveal, when)
    export_record = RevealRecord(
        action="push.export",
        object_type="verification_push",
        object_id=push.pk,
        object_label=push.number,
        jurisdiction_path=push.jurisdiction_path,
        detail={"reveal": reveal, "rows": len(items)},
    )
    # In clear, people writes the export's record with the reveal (one record for both).
    identities = person_identities(
        actor,
        [item.contact.person for item in items],
        reveal,
        record=export_record if reveal else None,
        ip=ip,
    )

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = push.number
    last_col = get_column_letter(len(COLUMNS))
    deadline = timezone.localtime(push.deadline)
    with translation.override(SOURCE_LANGUAGE):
        town = push.town.name
        case = push.case.number if push.case else ""
        _append(
            ws,
            [f"推送核查清单 {push.number} · {town} · 病例 {case} · 时限 {deadline:%Y-%m-%d %H:%M}"],
        )
        _append(ws, [watermark])
        _append(ws, list(COLUMNS))
        for seq, (item, identity) in enumerate(zip(items, identities, strict=True), start=1):
            contact = item.contact
            person = contact.person
            _append(
                ws,
                [
                    seq,
                    identity.name,
                    identity.id_number,
                    identity.phone,
                    person.household.address if person.household else "",
                    contact.get_classification_display(),
                    contact.last_exposure_on,
                    contact.quarantine_end_on,
                    labels[item.status],
                    item.note,
                    item.pk,
                    item.version,
                ],
            )
    ws.merge_cells(f"A{TITLE_ROW}:{last_col}{TITLE_ROW}")
    ws.merge_cells(f"A{WATERMARK_ROW}:{last_col}{WATERMARK_ROW}")
    ws[f"A{TITLE_ROW}"].font = Font(bold=True, size=14)
    ws[f"A{WATERMARK_ROW}"].font = Font(color="C00000", italic=True)
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    feedback_fill = PatternFill("solid", fgColor="FFF2CC")
    for col, name in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=HEADER_ROW, column=col)
        cell.font = Font(bold=True)
        cell.fill = feedback_fill if name in FEEDBACK_COLUMNS else header_fill
        ws.column_dimensions[get_column_letter(col)].width = WIDTHS[name]
        if name in HIDDEN_COLUMN_NOTES:
            cell.comment = Comment(HIDDEN_COLUMN_NOTES[name], "防控平台")
    for row in range(FIRST_DATA_ROW, FIRST_DATA_ROW + len(items)):
        for name in DATE_COLUMNS:
            ws.cell(row=row, column=COLUMNS.index(name) + 1).number_format = DATE_FORMAT
        for name in FEEDBACK_COLUMNS:
            cell = ws.cell(row=row, column=COLUMNS.index(name) + 1)
            cell.protection = Protection(locked=False)
            cell.fill = feedback_fill
        ws.cell(row=row, column=COLUMNS.index(COL_ADDRESS) + 1).alignment = Alignment(
            wrap_text=True
        )
    status_col = get_column_letter(COLUMNS.index(COL_STATUS) + 1)
    if items:
        choices = ",".join(labels.values())
        validation = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True)
        validation.add(
            f"{status_col}{FIRST_DATA_ROW}:{status_col}{FIRST_DATA_ROW + len(items) - 1}"
        )
        ws.add_data_validation(validation)
    for name in HIDDEN_COLUMNS:
        ws.column_dimensions[get_column_letter(COLUMNS.index(name) + 1)].hidden = True
    ws.freeze_panes = f"A{FIRST_DATA_ROW}"
    ws.oddHeader.center.text = _header_text(watermark)
    ws.oddFooter.center.text = _header_text(f"{push.number} · {actor.username} · {when}")
    ws.oddFooter.right.text = "&P / &N"
    ws.protection.sheet = True
    ws.protection.password = secrets.token_urlsafe(12)  # a lock, not a secret kept
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    wb.properties.creator = xml_safe(actor.username)
    wb.properties.title = push.number

    buffer = io.BytesIO()
    wb.save(buffer)
    if not reveal:
        audit_record(
            actor=actor,
            action=export_record.action,
            object_type=export_record.object_type,
            object_id=export_record.object_id,
            object_label=export_record.object_label,
            jurisdiction_path=export_record.jurisdiction_path,
            detail=export_record.detail,
            ip=ip,
        )
    return buffer.getvalue(), len(items)


def push_export_filename(push: VerificationPush, *, reveal: bool = False) -> str:
    return f"{push.number}{'-明文' if reveal else ''}.xlsx"


# --- import --------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportRowError:
    row: int  # the row number in the sheet (1-based, as Excel shows it); 0 = the file
    code: str
    message: str


@dataclass
class ImportReport:
    rows: int = 0
    changed: int = 0
    unchanged: int = 0
    errors: list[ImportRowError] = field(default_factory=list)
    stale: list[ImportRowError] = field(default_factory=list)  # not applied, the rest was

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def applied(self) -> bool:
        return self.ok and self.changed > 0


@dataclass(frozen=True)
class SheetRow:
    """A non-empty row of the uploaded sheet: its number and its cells (unescaped)."""

    row: int
    cells: tuple[Any, ...]


@dataclass(frozen=True)
class _Mark:
    row: int
    item_id: int
    version: int
    status: str
    note: str


def feedback_sheet_read(file: IO[bytes] | bytes) -> list[SheetRow]:
    """The uploaded workbook's first sheet as its non-empty rows; no database, bounded
    by the one upload reader (`core.spreadsheet.xlsx_rows`) with a feedback file's bounds.

    Refusals (DomainError): `import_file_too_large` (413), `import_file_invalid`,
    `import_too_many_rows`, `import_too_many_columns`.
    """
    data = file if isinstance(file, bytes) else file.read(MAX_IMPORT_BYTES + 1)
    rows = xlsx_rows(
        data,
        max_bytes=MAX_IMPORT_BYTES,
        max_unpacked=MAX_IMPORT_UNZIPPED_BYTES,
        max_read_whole=MAX_IMPORT_READ_WHOLE_BYTES,
        max_rows=MAX_IMPORT_ROWS + HEADER_SCAN_ROWS,
        max_columns=MAX_IMPORT_COLUMNS,
        max_empty_rows=MAX_IMPORT_EMPTY_ROWS,
    )
    return [SheetRow(number, cells) for number, cells in rows]


def _find_columns(rows: list[SheetRow]) -> tuple[int, dict[str, int]]:
    """The header row's number and each heading's column index."""
    for sheet_row in rows:
        if sheet_row.row > HEADER_SCAN_ROWS:
            break
        texts = [str(v).strip() if v is not None else "" for v in sheet_row.cells]
        if COL_ITEM_ID in texts and COL_STATUS in texts:
            columns = {t: i for i, t in enumerate(texts) if t}
            if COL_VERSION not in columns:
                raise DomainError(
                    "import_version_missing",
                    _("该文件缺少“版本”列，请重新导出清单后填写"),
                )
            return sheet_row.row, columns
    raise DomainError("import_header_missing", _("未找到表头（须含“核查结果”和“条目ID”列）"))


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _validate_rows(
    rows: list[SheetRow], items: dict[int, PushItem], report: ImportReport
) -> list[_Mark]:
    """Every row checked against the list (no write); the marks the rows ask for."""
    header_row, columns = _find_columns(rows)
    id_col, status_col = columns[COL_ITEM_ID], columns[COL_STATUS]
    version_col, note_col = columns[COL_VERSION], columns.get(COL_NOTE)
    seen: dict[int, int] = {}
    marks: list[_Mark] = []

    def bad(row: int, code: str, message: str) -> None:
        report.errors.append(ImportRowError(row, code, message))

    for sheet_row in rows:
        if sheet_row.row <= header_row:
            continue
        number, cells = sheet_row.row, sheet_row.cells
        report.rows += 1

        def at(col: int | None, cells: tuple[Any, ...] = cells) -> Any:
            return cells[col] if col is not None and col < len(cells) else None

        item_id = _whole_number(at(id_col))
        version = _whole_number(at(version_col))
        if item_id is None or version is None:
            bad(number, "row_invalid", _("缺少条目ID或版本，或格式错误"))
            continue
        if item_id not in items:
            bad(number, "item_not_in_push", _("该行人员不在本清单中"))
            continue
        if item_id in seen:
            bad(number, "row_duplicate", _("与第 %(row)d 行重复") % {"row": seen[item_id]})
            continue
        seen[item_id] = number
        status = status_from_cell(_cell_text(at(status_col)))
        if status is None:
            bad(
                number,
                "push_status_invalid",
                _("%(column)s列（%(letter)s%(row)d）“%(value)s”不是有效的核查结果，应填：%(valid)s")
                % {
                    "column": COL_STATUS,
                    "letter": get_column_letter(status_col + 1),
                    "row": number,
                    "value": _cell_text(at(status_col))[:20],
                    "valid": valid_marks_text(),
                },
            )
            continue
        if status == PushItemStatus.PENDING:  # no feedback in this row: left as it is
            marks.append(_Mark(number, item_id, version, status, ""))
            continue
        try:
            clean = push_mark_check(status=status, note=_cell_text(at(note_col)))
        except DomainError as exc:
            where = COL_NOTE if note_col is not None else COL_STATUS
            col = note_col if note_col is not None else status_col
            bad(
                number,
                exc.code,
                _("%(column)s列（%(letter)s%(row)d）：%(message)s")
                % {
                    "column": where,
                    "letter": get_column_letter(col + 1),
                    "row": number,
                    "message": exc.message,
                },
            )
            continue
        marks.append(_Mark(number, item_id, version, status, clean))
    return marks


@transaction.atomic
def _apply(
    *, actor: User, push: VerificationPush, marks: list[_Mark], report: ImportReport, ip: str
) -> None:
    """The validated marks, in one transaction; a row on an item marked since the export
    is reported stale, not applied."""
    locked = push_items_lock(push=push)
    for mark in marks:
        item = locked[mark.item_id]
        if mark.status == PushItemStatus.PENDING or (
            item.status == mark.status and item.note == mark.note
        ):
            report.unchanged += 1
            continue
        if item.version != mark.version:
            report.stale.append(
                ImportRowError(
                    mark.row, "row_stale", _("导出后该人员的核查结果已被修改，本行未导入")
                )
            )
            continue
        push_item_mark(actor=actor, item=item, status=mark.status, note=mark.note, ip=ip)
        report.changed += 1
    audit_record(
        actor=actor,
        action="push.import",
        object_type="verification_push",
        object_id=push.pk,
        object_label=push.number,
        jurisdiction_path=push.jurisdiction_path,
        detail={
            "rows": report.rows,
            "changed": report.changed,
            "unchanged": report.unchanged,
            "stale": [e.row for e in report.stale],
        },
        ip=ip,
    )


def push_import_feedback(
    *, actor: User, push: VerificationPush, file: IO[bytes] | bytes, ip: str = ""
) -> ImportReport:
    """Apply a town's feedback from an exported workbook: all valid rows or none.

    The file is parsed and every row validated before any transaction is opened (on
    SQLite a transaction takes the write lock at once); then one short transaction
    applies the marks.
    """
    require(actor, Capability.PUSH_FEEDBACK)
    require_in_scope(actor, push.jurisdiction_path, what="verification_push")
    rows = feedback_sheet_read(file)
    items = {i.pk: i for i in push_selectors.push_items(user=actor, push=push)}
    report = ImportReport()
    marks = _validate_rows(rows, items, report)
    if report.errors:
        return report
    _apply(actor=actor, push=push, marks=marks, report=report, ip=ip)
    return report
