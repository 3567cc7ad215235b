"""Excel lists for towns: export a pushed list, import the town's feedback from it.

The workbook is the interchange format between the command and a town's office, so its
column headings and status labels are always the Chinese ones, whatever the exporting
user's interface language; the hidden last column carries each row's item id, which is
what the import trusts (never the name or the row order).

Export: masked by default; `reveal=True` needs person.reveal and is recorded as such.
Every export writes one `push.export` audit record and is watermarked with the exporting
user, their jurisdiction and the time (a top row, the page header and footer); the sheet
is protected except the two feedback columns.

Import: every row is validated first; if any row is bad nothing is applied and the report
lists the bad rows by their row number in the sheet. Otherwise each changed row goes
through `services.pushes.push_item_mark`, so a re-import of the same file changes nothing.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from fangkong.accounts.permissions import require, require_in_scope
from fangkong.accounts.roles import Capability
from fangkong.accounts.services import audit_record
from fangkong.core.crypto import decrypt
from fangkong.core.errors import DomainError
from fangkong.people.rules import mask_name
from fangkong.people.services import ID_PURPOSE, PHONE_PURPOSE
from fangkong.tracing.models import PushItem, PushItemStatus, VerificationPush
from fangkong.tracing.selectors import pushes as push_selectors
from fangkong.tracing.services.pushes import push_item_mark, push_mark_check

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
)
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
}
TITLE_ROW, WATERMARK_ROW, HEADER_ROW = 1, 2, 3
FIRST_DATA_ROW = HEADER_ROW + 1
HEADER_SCAN_ROWS = 10
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 10_000


def status_labels() -> dict[str, str]:
    """status value → its Chinese label (the labels the sheet shows and accepts)."""
    with translation.override(SOURCE_LANGUAGE):
        return {value: str(label) for value, label in PushItemStatus.choices}


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
    return text.replace("&", "&&")


def _watermark(actor: Any, reveal: bool, when: str) -> str:
    jurisdiction = getattr(actor, "jurisdiction", None)
    place = jurisdiction.name if jurisdiction is not None else getattr(actor, "scope_path", "")
    kind = "明文" if reveal else "脱敏"
    return (
        f"导出人：{actor.username}（{place}） 导出时间：{when} · {kind} · "
        "仅限疫情防控使用，严禁外传"
    )


def _identity(item: PushItem, reveal: bool) -> tuple[str, str, str]:
    person = item.contact.person
    if not reveal:
        return mask_name(person.name), person.id_masked, person.phone_masked
    id_number = decrypt(person.id_cipher, purpose=ID_PURPOSE) if person.id_cipher else ""
    phone = decrypt(person.phone_cipher, purpose=PHONE_PURPOSE) if person.phone_cipher else ""
    return person.name, id_number or person.id_masked, phone


def push_export_xlsx(
    *, actor: Any, push: VerificationPush, reveal: bool = False, ip: str = ""
) -> bytes:
    """The list as an .xlsx workbook; audited `push.export` (reveal flag, row count)."""
    require(actor, Capability.PUSH_EXPORT)
    require_in_scope(actor, push.jurisdiction_path, what="verification_push")
    if reveal:
        require(actor, Capability.PERSON_REVEAL)
    items = push_selectors.push_items(user=actor, push=push)
    labels = status_labels()
    now = timezone.localtime()
    when = f"{now:%Y-%m-%d %H:%M}"
    watermark = _watermark(actor, reveal, when)

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = push.number
    last_col = get_column_letter(len(COLUMNS))
    deadline = timezone.localtime(push.deadline)
    with translation.override(SOURCE_LANGUAGE):
        town = push.town.name
        case = push.case.number if push.case else ""
        ws.append(
            [f"推送核查清单 {push.number} · {town} · 病例 {case} · 时限 {deadline:%Y-%m-%d %H:%M}"]
        )
        ws.append([watermark])
        ws.append(list(COLUMNS))
        for seq, item in enumerate(items, start=1):
            contact = item.contact
            person = contact.person
            name, id_number, phone = _identity(item, reveal)
            ws.append(
                [
                    seq,
                    name,
                    id_number,
                    phone,
                    person.household.address if person.household else "",
                    contact.get_classification_display(),
                    contact.last_exposure_on,
                    contact.quarantine_end_on,
                    labels[item.status],
                    item.note,
                    item.pk,
                ]
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
    for row in range(FIRST_DATA_ROW, FIRST_DATA_ROW + len(items)):
        for col in (7, 8):
            ws.cell(row=row, column=col).number_format = "yyyy-mm-dd"
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
    ws.column_dimensions[get_column_letter(len(COLUMNS))].hidden = True
    ws.freeze_panes = f"A{FIRST_DATA_ROW}"
    ws.oddHeader.center.text = _header_text(watermark)
    ws.oddFooter.center.text = _header_text(f"{push.number} · {actor.username} · {when}")
    ws.oddFooter.right.text = "&P / &N"
    ws.protection.sheet = True
    ws.protection.password = secrets.token_urlsafe(12)  # a lock, not a secret kept
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    wb.properties.creator = actor.username
    wb.properties.title = push.number

    buffer = io.BytesIO()
    wb.save(buffer)
    audit_record(
        actor=actor,
        action="push.export",
        object_type="verification_push",
        object_id=push.pk,
        object_label=push.number,
        jurisdiction_path=push.jurisdiction_path,
        detail={"reveal": reveal, "rows": len(items)},
        ip=ip,
    )
    return buffer.getvalue()


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

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def applied(self) -> bool:
        return self.ok and self.changed > 0


@dataclass(frozen=True)
class _Row:
    row: int
    item: PushItem
    status: str
    note: str


def _read(file: IO[bytes] | bytes) -> Any:
    data = file if isinstance(file, bytes) else file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise DomainError("import_file_too_large", _("文件过大"), max_bytes=MAX_IMPORT_BYTES)
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # any unreadable file is the same bad input
        raise DomainError("import_file_invalid", _("无法读取该 Excel 文件")) from exc


def _find_columns(ws: Any) -> tuple[int, dict[str, int]]:
    for number, values in enumerate(
        ws.iter_rows(min_row=1, max_row=HEADER_SCAN_ROWS, values_only=True), start=1
    ):
        texts = [str(v).strip() if v is not None else "" for v in values]
        if COL_ITEM_ID in texts and COL_STATUS in texts:
            return number, {t: i for i, t in enumerate(texts) if t}
    raise DomainError("import_header_missing", _("未找到表头（须含“核查结果”和“条目ID”列）"))


def _item_id(value: Any) -> int | None:
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


def _validate_rows(ws: Any, items: dict[int, PushItem], report: ImportReport) -> list[_Row]:
    header_row, columns = _find_columns(ws)
    id_col, status_col = columns[COL_ITEM_ID], columns[COL_STATUS]
    note_col = columns.get(COL_NOTE)
    seen: dict[int, int] = {}
    rows: list[_Row] = []

    def bad(row: int, code: str, message: str) -> None:
        report.errors.append(ImportRowError(row, code, message))

    for number, values in enumerate(
        ws.iter_rows(min_row=header_row + 1, values_only=True), start=header_row + 1
    ):
        cells = list(values)
        if not any(v not in (None, "") for v in cells):
            continue
        report.rows += 1
        if report.rows > MAX_IMPORT_ROWS:
            bad(number, "too_many_rows", _("行数过多"))
            break

        def at(col: int | None, cells: list[Any] = cells) -> Any:
            return cells[col] if col is not None and col < len(cells) else None

        item_id = _item_id(at(id_col))
        if item_id is None:
            bad(number, "row_invalid", _("缺少条目ID或格式错误"))
            continue
        item = items.get(item_id)
        if item is None:
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
                _("核查结果无效：%(value)s") % {"value": _cell_text(at(status_col))[:20]},
            )
            continue
        note = _cell_text(at(note_col)).strip()
        if status == PushItemStatus.PENDING:  # no feedback in this row: left as it is
            rows.append(_Row(number, item, status, item.note))
            continue
        try:
            clean = push_mark_check(status=status, note=note)
        except DomainError as exc:
            bad(number, exc.code, exc.message)
            continue
        rows.append(_Row(number, item, status, clean))
    return rows


@transaction.atomic
def push_import_feedback(
    *, actor: Any, push: VerificationPush, file: IO[bytes] | bytes, ip: str = ""
) -> ImportReport:
    """Apply a town's feedback from an exported workbook: all rows or none."""
    require(actor, Capability.PUSH_FEEDBACK)
    require_in_scope(actor, push.jurisdiction_path, what="verification_push")
    items = {i.pk: i for i in push_selectors.push_items(user=actor, push=push)}
    report = ImportReport()
    wb = _read(file)
    try:
        ws = wb.active
        if ws is None:
            raise DomainError("import_file_invalid", _("无法读取该 Excel 文件"))
        rows = _validate_rows(ws, items, report)
    finally:
        wb.close()
    if report.errors:
        return report
    for row in rows:
        if row.status == PushItemStatus.PENDING or (
            row.item.status == row.status and row.item.note == row.note
        ):
            report.unchanged += 1
            continue
        push_item_mark(actor=actor, item=row.item, status=row.status, note=row.note, ip=ip)
        report.changed += 1
    audit_record(
        actor=actor,
        action="push.import",
        object_type="verification_push",
        object_id=push.pk,
        object_label=push.number,
        jurisdiction_path=push.jurisdiction_path,
        detail={"rows": report.rows, "changed": report.changed, "unchanged": report.unchanged},
        ip=ip,
    )
    return report
