"""Excel lists for towns: masked, watermarked, protected and audited exports; the town's
feedback imported back from the same workbook (all rows or none; idempotent)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.roles import ROLE_CAPABILITIES, Capability, Role
from fangkong.core.errors import DomainError, NotFound, PermissionDenied
from fangkong.testkit.worlds.pushes import World, build_world, workbook_bytes
from fangkong.tracing import excel
from fangkong.tracing.models import (
    AssistRequest,
    ContactStatus,
    PushItem,
    PushItemStatus,
    PushStatus,
    VerificationPush,
)
from fangkong.tracing.services import pushes as services

pytestmark = pytest.mark.django_db

STATUS_COL = excel.COLUMNS.index(excel.COL_STATUS) + 1
NOTE_COL = excel.COLUMNS.index(excel.COL_NOTE) + 1
ID_COL = excel.COLUMNS.index(excel.COL_ITEM_ID) + 1
VERSION_COL = excel.COLUMNS.index(excel.COL_VERSION) + 1


@pytest.fixture
def world(tree: Any, make_user: Any) -> World:
    return build_world(tree, make_user)


@pytest.fixture
def push_a(world: World) -> VerificationPush:
    created = services.pushes_create_for_case(actor=world.investigator, case=world.case)
    return next(p for p in created if p.jurisdiction_path == world.tree.town_a.path)


def _sheet(data: bytes) -> Any:
    return load_workbook(io.BytesIO(data)).active


def _cells(ws: Any) -> list[str]:
    return [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]


def _row_of(ws: Any, item_id: int) -> int:
    for row in range(excel.FIRST_DATA_ROW, ws.max_row + 1):
        if ws.cell(row=row, column=ID_COL).value == item_id:
            return int(row)
    raise AssertionError(f"item {item_id} not in the sheet")


def _item(world: World, key: str) -> PushItem:
    return PushItem.objects.get(contact=world.contacts[key])


# --- export -----------------------------------------------------------------------------


def test_export_is_masked_by_default_and_has_the_agreed_columns(
    world: World, push_a: VerificationPush
) -> None:
    data = excel.push_export_xlsx(actor=world.town_a, push=push_a)

    ws = _sheet(data)
    headers = [
        ws.cell(row=excel.HEADER_ROW, column=c).value for c in range(1, len(excel.COLUMNS) + 1)
    ]
    assert headers == list(excel.COLUMNS)
    assert headers[:10] == [
        "序号",
        "姓名",
        "证件号码",
        "手机号码",
        "现住址",
        "判定",
        "末次暴露日期",
        "隔离期满日期",
        "核查结果",
        "备注",
    ]
    assert ws.max_row == excel.HEADER_ROW + 3
    text = "\n".join(_cells(ws))
    for key in ("a1", "a2", "a3"):
        assert world.ids[key] not in text
        assert world.phones[key] not in text
        assert world.contacts[key].person.id_masked in text
    assert "张*三" in text and "张小三" not in text
    assert "幸福路 a1 号" in text  # the address is what the town needs to go and find them
    assert "待核查" in text and "密切接触者" in text
    for key in ("b1", "b2"):  # never another town's persons
        assert world.contacts[key].person.id_masked not in text


def test_export_is_watermarked_protected_and_hides_the_item_id(
    world: World, push_a: VerificationPush
) -> None:
    ws = _sheet(excel.push_export_xlsx(actor=world.town_a, push=push_a))

    watermark = str(ws.cell(row=excel.WATERMARK_ROW, column=1).value)
    assert "town-a" in watermark and "乌镇镇" in watermark and "导出时间" in watermark
    assert "town-a" in (ws.oddHeader.center.text or "")
    assert "town-a" in (ws.oddFooter.center.text or "")
    assert ws.protection.sheet is True
    assert ws.column_dimensions["K"].hidden is True  # 条目ID
    assert ws.column_dimensions["L"].hidden is True  # 版本
    row = excel.FIRST_DATA_ROW
    assert ws.cell(row=row, column=STATUS_COL).protection.locked is False
    assert ws.cell(row=row, column=NOTE_COL).protection.locked is False
    assert ws.cell(row=row, column=2).protection.locked is True
    assert ws.cell(row=row, column=ID_COL).protection.locked is True


def test_export_dates_are_day_cells_and_the_hidden_columns_say_what_they_are_for(
    world: World, push_a: VerificationPush
) -> None:
    ws = _sheet(excel.push_export_xlsx(actor=world.town_a, push=push_a))

    for name in excel.DATE_COLUMNS:
        col = excel.COLUMNS.index(name) + 1
        for row in range(excel.FIRST_DATA_ROW, ws.max_row + 1):
            cell = ws.cell(row=row, column=col)
            assert cell.number_format == "yyyy-mm-dd", (name, row)  # a day, no 00:00
    exposure = ws.cell(
        row=excel.FIRST_DATA_ROW, column=excel.COLUMNS.index(excel.COL_LAST_EXPOSURE) + 1
    )
    assert exposure.is_date and (exposure.value.hour, exposure.value.minute) == (0, 0)
    for name, words in ((excel.COL_ITEM_ID, "定位人员"), (excel.COL_VERSION, "核对")):
        header = ws.cell(row=excel.HEADER_ROW, column=excel.COLUMNS.index(name) + 1)
        assert header.value == name
        assert header.comment is not None and words in header.comment.text
        assert "请勿修改" in header.comment.text


def test_every_export_is_audited_with_reveal_flag_and_row_count(
    world: World, push_a: VerificationPush
) -> None:
    excel.push_export_xlsx(actor=world.town_a, push=push_a, ip="10.0.0.7")

    event = AuditEvent.objects.get(action="push.export")
    assert event.actor == world.town_a
    assert event.object_id == str(push_a.pk)
    assert event.detail == {"reveal": False, "rows": 3}
    assert event.ip == "10.0.0.7"


def test_revealed_export_shows_identities_and_writes_one_audit_record(
    world: World, push_a: VerificationPush
) -> None:
    data = excel.push_export_xlsx(actor=world.town_a, push=push_a, reveal=True)

    text = "\n".join(_cells(_sheet(data)))
    for key in ("a1", "a2", "a3"):
        assert world.ids[key] in text and world.phones[key] in text
    assert "张小三" in text and "明文" in text
    events = list(AuditEvent.objects.filter(action__in=["push.export", "person.reveal"]))
    assert len(events) == 1
    assert events[0].detail == {"reveal": True, "rows": 3}


def test_revealed_export_needs_person_reveal(
    world: World, push_a: VerificationPush, monkeypatch: pytest.MonkeyPatch
) -> None:
    caps = ROLE_CAPABILITIES[Role.TOWN_STAFF] - {Capability.PERSON_REVEAL}
    monkeypatch.setitem(ROLE_CAPABILITIES, Role.TOWN_STAFF, caps)

    with pytest.raises(PermissionDenied):
        excel.push_export_xlsx(actor=world.town_a, push=push_a, reveal=True)

    assert not AuditEvent.objects.filter(action="push.export").exists()
    excel.push_export_xlsx(actor=world.town_a, push=push_a)  # masked still allowed
    assert AuditEvent.objects.filter(action="push.export").count() == 1


def test_export_is_refused_outside_the_scope_and_to_other_roles(
    world: World, push_a: VerificationPush
) -> None:
    with pytest.raises(NotFound):
        excel.push_export_xlsx(actor=world.town_b, push=push_a)
    with pytest.raises(PermissionDenied):
        excel.push_export_xlsx(actor=world.lab, push=push_a)
    assert not AuditEvent.objects.filter(action="push.export").exists()


# --- import -----------------------------------------------------------------------------


def _fill(data: bytes, marks: dict[int, tuple[str, str]]) -> bytes:
    """Fill the feedback columns the way a town's clerk does in Excel."""
    wb = load_workbook(io.BytesIO(data))
    ws = wb.active
    for item_id, (status, note) in marks.items():
        row = _row_of(ws, item_id)
        ws.cell(row=row, column=STATUS_COL).value = status
        ws.cell(row=row, column=NOTE_COL).value = note
    return workbook_bytes(wb)


def test_excel_round_trip_applies_the_feedback_and_reimport_changes_nothing(
    world: World, push_a: VerificationPush
) -> None:
    a1, a2, a3 = (_item(world, k) for k in ("a1", "a2", "a3"))
    exported = excel.push_export_xlsx(actor=world.town_a, push=push_a)
    filled = _fill(
        exported,
        {
            a1.pk: ("已集中隔离", "桐乡宾馆 302"),
            a2.pk: ("不在本市", "上海市闵行区"),
            a3.pk: ("已找到", ""),
        },
    )

    report = excel.push_import_feedback(actor=world.town_a, push=push_a, file=filled)

    assert report.ok and report.changed == 3 and report.rows == 3
    for item in (a1, a2, a3):
        item.refresh_from_db()
    assert (a1.status, a1.note) == (PushItemStatus.CENTRALISED, "桐乡宾馆 302")
    assert a2.status == PushItemStatus.OUTSIDE and a3.status == PushItemStatus.LOCATED
    world.contacts["a1"].refresh_from_db()
    assert world.contacts["a1"].status == ContactStatus.CONTROLLED
    assert world.contacts["a1"].control_measure == "centralised"
    assert AssistRequest.objects.get().target_region == "上海市闵行区"
    assert AuditEvent.objects.filter(action="push.mark").count() == 3
    assert AuditEvent.objects.filter(action="push.import").count() == 1

    again = excel.push_import_feedback(actor=world.town_a, push=push_a, file=filled)

    assert again.ok and again.changed == 0 and again.unchanged == 3
    assert AuditEvent.objects.filter(action="push.mark").count() == 3
    assert AssistRequest.objects.count() == 1

    # A fresh export carries the feedback, so a town can keep working in one file.
    ws = _sheet(excel.push_export_xlsx(actor=world.town_a, push=push_a))
    assert ws.cell(row=_row_of(ws, a1.pk), column=STATUS_COL).value == "已集中隔离"


def test_a_file_with_one_bad_row_applies_nothing_and_names_the_row(
    world: World, push_a: VerificationPush
) -> None:
    a1, a2, a3 = (_item(world, k) for k in ("a1", "a2", "a3"))
    exported = excel.push_export_xlsx(actor=world.town_a, push=push_a)
    filled = _fill(
        exported,
        {a1.pk: ("已居家隔离", ""), a2.pk: ("已隔离了", ""), a3.pk: ("已送医", "")},
    )
    bad_row = _row_of(_sheet(filled), a2.pk)

    report = excel.push_import_feedback(actor=world.town_a, push=push_a, file=filled)

    assert not report.ok and report.changed == 0
    assert [(e.row, e.code) for e in report.errors] == [(bad_row, "push_status_invalid")]
    # The message names the column and cell, the bad value, and every value it may take.
    message = report.errors[0].message
    letter = get_column_letter(STATUS_COL)
    assert f"核查结果列（{letter}{bad_row}）" in message and "“已隔离了”" in message
    assert "应填：已找到、已集中隔离、已居家隔离、已送医、未找到、不在本市" in message
    for item in (a1, a2, a3):
        item.refresh_from_db()
        assert item.status == PushItemStatus.PENDING
    assert not AuditEvent.objects.filter(action="push.mark").exists()
    push_a.refresh_from_db()
    assert push_a.status == PushStatus.OPEN


def test_rows_of_other_lists_duplicates_and_missing_regions_are_reported(
    world: World, push_a: VerificationPush
) -> None:
    a1, a2 = _item(world, "a1"), _item(world, "a2")
    b1 = _item(world, "b1")
    wb = load_workbook(io.BytesIO(excel.push_export_xlsx(actor=world.town_a, push=push_a)))
    ws = wb.active
    row_a2 = _row_of(ws, a2.pk)
    ws.cell(row=_row_of(ws, a1.pk), column=STATUS_COL).value = "不在本市"  # no region
    ws.cell(row=row_a2, column=ID_COL).value = b1.pk  # another town's person
    extra = ws.max_row + 1
    ws.cell(row=extra, column=ID_COL).value = a1.pk  # a1 twice
    ws.cell(row=extra, column=VERSION_COL).value = 0
    ws.cell(row=extra, column=STATUS_COL).value = "已居家隔离"
    garbage = extra + 1
    ws.cell(row=garbage, column=2).value = "手写的一行"

    report = excel.push_import_feedback(actor=world.town_a, push=push_a, file=workbook_bytes(wb))

    assert {(e.row, e.code) for e in report.errors} == {
        (_row_of(ws, a1.pk), "target_region_required"),
        (row_a2, "item_not_in_push"),
        (extra, "row_duplicate"),
        (garbage, "row_invalid"),
    }
    assert not PushItem.objects.exclude(status=PushItemStatus.PENDING).exists()


def test_unreadable_files_and_files_without_the_header_are_refused(
    world: World, push_a: VerificationPush
) -> None:
    with pytest.raises(DomainError) as exc:
        excel.push_import_feedback(actor=world.town_a, push=push_a, file=b"not a workbook")
    assert exc.value.code == "import_file_invalid"

    wb = Workbook()
    wb.active.append(["姓名", "状态"])
    with pytest.raises(DomainError) as exc:
        excel.push_import_feedback(actor=world.town_a, push=push_a, file=workbook_bytes(wb))
    assert exc.value.code == "import_header_missing"


def test_import_is_refused_outside_the_scope_and_to_readers(
    world: World, push_a: VerificationPush
) -> None:
    a1 = _item(world, "a1")
    filled = _fill(
        excel.push_export_xlsx(actor=world.town_a, push=push_a), {a1.pk: ("已居家隔离", "")}
    )

    with pytest.raises(NotFound):
        excel.push_import_feedback(actor=world.town_b, push=push_a, file=filled)
    with pytest.raises(PermissionDenied):
        excel.push_import_feedback(actor=world.investigator, push=push_a, file=filled)
    a1.refresh_from_db()
    assert a1.status == PushItemStatus.PENDING


def test_status_cells_accept_the_chinese_labels_and_the_codes() -> None:
    assert excel.status_from_cell("已集中隔离") == "centralised"
    assert excel.status_from_cell(" home ") == "home"
    assert excel.status_from_cell("") == "pending"
    assert excel.status_from_cell("隔离") is None
