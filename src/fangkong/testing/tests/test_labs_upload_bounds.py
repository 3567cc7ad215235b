"""Results uploads are read, bounded (bytes, real rows, columns, field size) and checked
before any write transaction: a tiny file that declares or inflates to millions of rows
is refused with a stable code and never holds the database's write lock."""

from __future__ import annotations

import io
import re
import threading
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from fangkong.areas.models import Jurisdiction
from fangkong.core.errors import DomainError
from fangkong.testing.models import ResultImport, TubeResult
from fangkong.testing.services import result_files
from fangkong.testing.services import results as result_services
from fangkong.testkit.worlds.labs import (
    World,
    build_world,
    received_tube,
    results_csv,
    results_xlsx,
)

T = "2022-07-10 14:00"


@pytest.fixture
def world(tree: Any, make_user: Any) -> World:
    return build_world(tree, make_user)


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _with_sheet(xlsx: bytes, edit: Any) -> bytes:
    """The workbook with its first sheet's XML rewritten by `edit` (a tiny crafted file)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = edit(data.decode()).encode()
            dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _with_content_types(xlsx: bytes, edit: Any) -> bytes:
    """The workbook with its `[Content_Types].xml` rewritten by `edit`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = edit(data.decode()).encode()
            dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _with_part(xlsx: bytes, name: str, text: str) -> bytes:
    """The workbook with one more part (its content does not matter to the bound)."""
    out = io.BytesIO(xlsx)
    with zipfile.ZipFile(out, "a") as archive:
        archive.writestr(name, text, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _declare(dimension: str) -> Any:
    def edit(xml: str) -> str:
        out, found = re.subn(r'<dimension ref="[^"]*" ?/>', f'<dimension ref="{dimension}"/>', xml)
        assert found == 1
        return out

    return edit


def _refusal(r: Any) -> dict[str, Any]:
    """The import runs as a background job (in-process in tests): the API answers 202
    and the job, failed with the refusal the synchronous import answered with a 400."""
    assert r.status_code == 202, r.content
    body = r.json()
    assert body["state"] == "failed", body
    return {"code": body["error_code"], "detail": body["error_detail"]}


@pytest.mark.django_db
def test_declared_dimension_is_not_expanded_into_empty_cells(world: World) -> None:
    # Given a two-row workbook that declares A1:XFD300 (4.9 million cells)
    received_tube(world, world.persons_a[:5], barcode="TA1")
    small = results_xlsx([("TA1", "阴性", None, None, T)])
    data = _with_sheet(small, _declare("A1:XFD300"))
    assert len(data) < 10_000

    # When it is read, only the cells it holds are produced
    cells = sum(len(values) for _line, values in result_files._xlsx_table(data))

    # Then: two rows of five cells, not 300 rows of 16,384
    assert cells == 10
    # And a file declaring A1:XFD12000 imports its one real row
    big = _with_sheet(small, _declare("A1:XFD12000"))
    report = result_services.results_import_file(actor=world.lab_user, data=big, filename="r.xlsx")
    assert report.ok and report.rows == 1 and report.applied == 1


@pytest.mark.django_db
def test_tiny_workbook_inflating_to_a_million_empty_rows_is_refused(world: World) -> None:
    # Given a workbook whose last row is numbered 1,048,576 (a few KB on the wire)
    far = '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>TA1</t></is></c></row>'
    data = _with_sheet(
        results_xlsx([("TA1", "阴性", None, None, T)]),
        lambda xml: xml.replace("</sheetData>", far + "</sheetData>"),
    )
    assert len(data) < 10_000

    # When it is uploaded, then it is refused as a whole, nothing written
    r = _client(world.lab_user).post(
        "/api/testing/results/import", {"file": SimpleUploadedFile("r.xlsx", data)}
    )
    assert _refusal(r)["code"] == "import_too_many_rows"
    assert ResultImport.objects.count() == 0 and TubeResult.objects.count() == 0


@pytest.mark.django_db
def test_row_wider_than_the_column_limit_is_refused(world: World) -> None:
    wide = '<row r="3"><c r="XFD3" t="inlineStr"><is><t>x</t></is></c></row>'
    data = _with_sheet(
        results_xlsx([("TA1", "阴性", None, None, T)]),
        lambda xml: xml.replace("</sheetData>", wide + "</sheetData>"),
    )
    with pytest.raises(DomainError) as exc:
        result_services.results_import_file(actor=world.lab_user, data=data, filename="r.xlsx")
    assert exc.value.code == "import_too_many_columns" and exc.value.detail["line"] == 3


@pytest.mark.django_db
def test_more_rows_than_the_limit_refuse_the_file(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(result_files, "MAX_IMPORT_ROWS", 50)
    data = results_csv([(f"T{i}", "阴性", "", "", T) for i in range(51)])
    r = _client(world.lab_user).post(
        "/api/testing/results/import", {"file": SimpleUploadedFile("r.csv", data)}
    )
    assert _refusal(r)["code"] == "import_too_many_rows"
    assert _refusal(r)["detail"]["max_rows"] == 50


@pytest.mark.django_db
def test_inflated_size_of_a_workbook_is_bounded(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A zip never inflates a part beyond its declared size: that size is checked first.
    monkeypatch.setattr(result_files, "MAX_XLSX_UNPACKED_BYTES", 100_000)
    padding = "<!--" + " " * 200_000 + "-->"
    data = _with_sheet(
        results_xlsx([]), lambda xml: xml.replace("<sheetData>", padding + "<sheetData>")
    )
    assert len(data) < 20_000
    with pytest.raises(DomainError) as exc:
        result_services.results_import_file(actor=world.lab_user, data=data, filename="r.xlsx")
    assert exc.value.code == "import_file_too_large"
    # The shared strings, read whole when the workbook opens, have their own bound
    monkeypatch.setattr(result_files, "MAX_XLSX_UNPACKED_BYTES", 10**9)
    monkeypatch.setattr(result_files, "MAX_XLSX_READ_WHOLE_BYTES", 10_000)
    strings = _with_part(
        results_xlsx([]), "xl/sharedStrings.xml", "<sst>" + "<si><t>x</t></si>" * 1000 + "</sst>"
    )
    with pytest.raises(DomainError) as exc:
        result_services.results_import_file(actor=world.lab_user, data=strings, filename="r.xlsx")
    assert exc.value.code == "import_file_too_large"
    # ... whatever their name: openpyxl finds them by content type, and so does the bound
    sst_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
    override = f'<Override PartName="/xl/renamed.xml" ContentType="{sst_type}"/></Types>'
    renamed = _with_part(
        _with_content_types(results_xlsx([]), lambda xml: xml.replace("</Types>", override)),
        "xl/renamed.xml",
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + "<si><t>x</t></si>" * 1000
        + "</sst>",
    )
    with pytest.raises(DomainError) as exc:
        result_services.results_import_file(actor=world.lab_user, data=renamed, filename="r.xlsx")
    assert (exc.value.code, exc.value.status) == ("import_file_too_large", 413)
    assert exc.value.detail == {"max_read_whole_bytes": 10_000}


@pytest.mark.django_db
def test_csv_field_over_the_csv_limit_is_a_400(world: World) -> None:
    data = b'tube_barcode,result,tested_at\nTA1,"' + b"x" * 131_073 + b'",2022-07-10 14:00\n'
    r = _client(world.lab_user).post(
        "/api/testing/results/import", {"file": SimpleUploadedFile("r.csv", data)}
    )
    assert _refusal(r)["code"] == "import_field_too_large"
    assert _refusal(r)["detail"]["line"] == 2


@pytest.mark.django_db
def test_cells_escaped_by_an_export_are_read_back(world: World) -> None:
    # A barcode that an export wrote escaped ('-...) is read as the barcode it stood for.
    received_tube(world, world.persons_a[:5], barcode="-TA1")
    report = result_services.results_import_file(
        actor=world.lab_user, data=results_csv([("'-TA1", "阴性", "", "", T)])
    )
    assert report.ok and report.applied == 1
    assert TubeResult.objects.get().tube.barcode == "-TA1"


@pytest.mark.django_db
def test_multipart_without_boundary_is_a_4xx(world: World) -> None:
    r = _client(world.lab_user).post(
        "/api/testing/results/import", data=b"--x\r\n", content_type="multipart/form-data"
    )
    assert r.status_code == 400, r.content
    page = _client(world.lab_user).post(
        "/testing/lab/results/", data=b"--x\r\n", content_type="multipart/form-data"
    )
    assert page.status_code == 400, page.content


@pytest.mark.django_db(transaction=True)
def test_file_is_parsed_outside_any_transaction(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the upload is read, no transaction is open on the request's connection and
    another connection can write at once (SQLite takes its write lock at BEGIN)."""
    received_tube(world, world.persons_a[:5], barcode="TA1")
    seen: dict[str, Any] = {}
    read = result_files._rows_from_table

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
        return read(*args, **kwargs)

    monkeypatch.setattr(result_files, "_rows_from_table", spying)

    report = result_services.results_import_file(
        actor=world.lab_user, data=results_csv([("TA1", "阴性", "", "", T)]), filename="r.csv"
    )

    assert report.ok and report.applied == 1
    assert seen["atomic"] is False
    assert seen.get("written") is True, seen.get("error")
