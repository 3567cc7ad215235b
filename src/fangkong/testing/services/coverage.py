"""Coverage writes: the untested list (应检未检人员) of a community as an Excel workbook.

The only write here is the audit record: every export writes one
`coverage.untested_export` record (round, community, reveal flag, row count). The list is
masked (name, ID number, phone) unless `reveal=True`, which needs person.reveal and is
recorded as such. The workbook is watermarked with the exporting user, their
jurisdiction and the time (a top row, the page header and footer), as tracing's push
export is, and its sheet is protected.
"""

from __future__ import annotations

import io
import secrets
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from fangkong.accounts.permissions import require
from fangkong.accounts.roles import Capability
from fangkong.accounts.services import audit_record
from fangkong.areas import selectors as area_selectors
from fangkong.core.spreadsheet import formula_safe, xml_safe
from fangkong.people.services import RevealRecord, person_identities
from fangkong.testing.models import Round
from fangkong.testing.selectors import coverage as selectors

if TYPE_CHECKING:
    from fangkong.accounts.models import User

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Column headings: always Chinese (the file is a document, not the UI).
COLUMNS = ("序号", "姓名", "证件号码", "手机号码", "现住址", "网格", "人员ID")
WIDTHS = (6, 10, 22, 15, 36, 22, 10)
TITLE_ROW, WATERMARK_ROW, HEADER_ROW = 1, 2, 3


def _watermark(actor: User, reveal: bool, when: str) -> str:
    jurisdiction = getattr(actor, "jurisdiction", None)
    place = jurisdiction.name if jurisdiction is not None else getattr(actor, "scope_path", "")
    kind = "明文" if reveal else "脱敏"
    return (
        f"导出人：{actor.username}（{place}） 导出时间：{when} · {kind} · "
        "仅限疫情防控使用，严禁外传"
    )


def _header_text(text: str) -> str:
    """Escape '&', the control character of Excel header/footer codes."""
    return text.replace("&", "&&")


def untested_export_filename(rnd: Round, community_path: str, *, reveal: bool = False) -> str:
    return f"应检未检-{rnd.pk}-{community_path}{'-明文' if reveal else ''}.xlsx"


@transaction.atomic
def untested_export_xlsx(
    *, actor: User, rnd: Round, community_path: str, reveal: bool = False, ip: str = ""
) -> bytes:
    """The community's untested persons of the round as an .xlsx workbook, masked unless
    `reveal` (person.reveal); audited `coverage.untested_export`."""
    return untested_export_workbook(
        actor=actor, rnd=rnd, community_path=community_path, reveal=reveal, ip=ip
    )[0]


def untested_export_workbook(
    *, actor: User, rnd: Round, community_path: str, reveal: bool = False, ip: str = ""
) -> tuple[bytes, int]:
    """`untested_export_xlsx` and the number of persons it lists."""
    require(actor, Capability.COVERAGE_VIEW)
    require(actor, Capability.PERSON_EXPORT)
    if reveal:
        require(actor, Capability.PERSON_REVEAL)
    selectors.community_path_check(user=actor, path=community_path)
    community = area_selectors.jurisdiction_summary(path=community_path)
    community_name = str(community["name"]) if community else community_path
    now = timezone.localtime()
    when = f"{now:%Y-%m-%d %H:%M}"
    watermark = _watermark(actor, reveal, when)

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "应检未检人员"
    title = f"应检未检人员 · {rnd.name} · {community_name}（{community_path}） · {when}"
    ws.append([formula_safe(title)])
    ws.append([formula_safe(watermark)])
    ws.append(list(COLUMNS))
    targets = list(
        selectors.untested_export_rows(user=actor, rnd=rnd, community_path=community_path)
    )
    rows = len(targets)
    export_record = RevealRecord(
        action="coverage.untested_export",
        object_type="round",
        object_id=rnd.pk,
        object_label=rnd.name,
        jurisdiction_path=community_path,
        detail={"community": community_path, "reveal": reveal, "rows": rows},
    )
    # In clear, people writes the export's record with the reveal (one record for both).
    identities = person_identities(
        actor,
        [target.person for target in targets],
        reveal,
        record=export_record if reveal else None,
        ip=ip,
    )
    for seq, (target, identity) in enumerate(zip(targets, identities, strict=True), start=1):
        person = target.person
        ws.append(
            [
                seq,
                formula_safe(identity.name),
                formula_safe(identity.id_number),
                formula_safe(identity.phone),
                formula_safe(person.household.address if person.household else ""),
                formula_safe(person.jurisdiction.name),
                person.pk,
            ]
        )
    last_col = get_column_letter(len(COLUMNS))
    ws.merge_cells(f"A{TITLE_ROW}:{last_col}{TITLE_ROW}")
    ws.merge_cells(f"A{WATERMARK_ROW}:{last_col}{WATERMARK_ROW}")
    ws[f"A{TITLE_ROW}"].font = Font(bold=True, size=14)
    ws[f"A{WATERMARK_ROW}"].font = Font(color="C00000", italic=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for col, width in enumerate(WIDTHS, start=1):
        cell = ws.cell(row=HEADER_ROW, column=col)
        cell.font = Font(bold=True)
        cell.fill = fill
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    ws.oddHeader.center.text = _header_text(xml_safe(watermark))
    ws.oddFooter.center.text = _header_text(
        xml_safe(f"{community_name} · {actor.username} · {when}")
    )
    ws.oddFooter.right.text = "&P / &N"
    ws.protection.sheet = True
    ws.protection.password = secrets.token_urlsafe(12)  # a lock, not a secret kept
    wb.properties.creator = xml_safe(actor.username)
    wb.properties.title = f"应检未检人员 {community_path}"
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
    return buffer.getvalue(), rows
