"""Cells that a spreadsheet shows as text and never runs as a formula.

Excel, WPS and LibreOffice treat a cell that starts with `=`, `+`, `-` or `@` as a
formula (and a leading tab or carriage return is stripped before that test), so a name,
an address or a note typed as `=HYPERLINK(...)` would run on the machine of whoever
opens an export (OWASP "CSV injection"). Every export writes its text cells through
`formula_safe`, which prefixes such a value with a single quote (`'`), so that all
three show it as text. Imports read cells back through
`formula_unescape`, so a workbook exported and re-imported keeps its values.

Control characters (U+0000-U+001F but tab, LF and CR, and DEL): most cannot be held by
the XML of an .xlsx cell, none is text a person types. `xml_safe` drops them from what an
export writes, so that one stored note cannot break an export; inputs that end up in
exports (a push note) refuse them with `has_control_characters`. One pattern,
`CONTROL_CHARACTERS`, serves both.

Uploads are read through `xlsx_rows` and `csv_rows`: one bounded reader per format, used
by every import (push feedback, lab results, scan logs), so that each file is refused at
the same bounds by the same rules, with the same codes.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

from django.utils.translation import gettext as _
from openpyxl import load_workbook

from fangkong.core.errors import DomainError

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_characters(text: str) -> bool:
    """True when `text` holds a control character other than tab, LF and CR."""
    return CONTROL_CHARACTERS.search(text) is not None


def xml_safe(text: str) -> str:
    """`text` without control characters (tab, LF and CR kept): an .xlsx cell cannot
    store most of them."""
    return CONTROL_CHARACTERS.sub("", text)


def formula_safe(value: Any) -> Any:
    """A cell value that no spreadsheet evaluates: text starting with a formula prefix
    gets a leading `'`; other values (numbers, dates, None) are returned unchanged."""
    if not isinstance(value, str):
        return value
    text = xml_safe(value)
    if text.startswith(FORMULA_PREFIXES) or (text.startswith(ESCAPE) and _escaped(text)):
        return ESCAPE + text
    return text


def _escaped(text: str) -> bool:
    """True when `text` looks like an escaped cell (`'` then a formula prefix or
    another `'`), so that escaping stays reversible for values that begin with `'`."""
    return len(text) > 1 and (text[1] in FORMULA_PREFIXES or text[1] == ESCAPE)


def formula_unescape(value: Any) -> Any:
    """The value `formula_safe` was given, for a cell read back from an export."""
    if isinstance(value, str) and value.startswith(ESCAPE) and _escaped(value):
        return value[1:]
    return value


# --- reading an uploaded workbook or CSV file, bounded --------------------------------

WORKSHEET_MAX_CELLS = 16_384  # Excel's last column, XFD: no real row holds more cells
_ROW_ELEMENTS = 4 * WORKSHEET_MAX_CELLS  # a cell is at most <c>, <f>, <v>, <is><t>
_OUTSIDE_ROW_ELEMENTS = 100_000  # merges, validations, column widths of a real sheet
_CONTENT_TYPES = "[Content_Types].xml"
# Parts openpyxl reads whole by their fixed name, whatever their declared type.
_READ_WHOLE_BY_NAME = frozenset(
    {
        _CONTENT_TYPES,
        "xl/workbook.xml",
        "xl/styles.xml",
        "xl/theme/theme1.xml",
        "docProps/core.xml",
        "docProps/app.xml",
        "docProps/custom.xml",
    }
)


def import_too_large(**detail: Any) -> DomainError:
    """The one refusal of an upload over a size bound (413 `import_file_too_large`)."""
    return DomainError("import_file_too_large", _("文件过大"), status=413, **detail)


def _workbook_invalid() -> DomainError:
    return DomainError("import_file_invalid", _("无法读取该 Excel 文件"))


def _too_many_rows(max_rows: int, line: int) -> DomainError:
    return DomainError(
        "import_too_many_rows",
        _("行数过多（最多 %(max)d 行）") % {"max": max_rows},
        line=line,
        max_rows=max_rows,
    )


def _too_many_columns(max_columns: int, line: int) -> DomainError:
    return DomainError(
        "import_too_many_columns",
        _("第 %(line)d 行的列数过多（最多 %(max)d 列）") % {"line": line, "max": max_columns},
        line=line,
        max_columns=max_columns,
    )


def _streamed_parts(archive: zipfile.ZipFile) -> set[str]:
    """The parts declared as worksheets in the package's content types: openpyxl's
    read-only mode parses a sheet one row at a time. Every other part (shared strings,
    styles, theme, workbook, relationships) is read whole when the workbook opens."""
    from openpyxl.packaging.manifest import Manifest
    from openpyxl.xml.constants import WORKSHEET_TYPE
    from openpyxl.xml.functions import fromstring

    manifest = Manifest.from_tree(fromstring(archive.read(_CONTENT_TYPES)))
    return {
        name
        for part in manifest.Override
        if part.ContentType == WORKSHEET_TYPE
        and (name := str(part.PartName).lstrip("/")) not in _READ_WHOLE_BY_NAME
        and not name.endswith(".rels")
    }


def _check_archive(data: bytes, max_unpacked: int, max_read_whole: int) -> None:
    """Bound what the archive unpacks to, from its central directory, before openpyxl
    opens it: every part together within `max_unpacked`, and the parts openpyxl reads
    whole (all but the worksheets, found as openpyxl finds them: by content type, never by
    name) within `max_read_whole`. Python's zipfile never inflates a part past the size
    its directory declares, so these sums are a hard bound."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
            if sum(info.file_size for info in parts) > max_unpacked:
                raise import_too_large(max_unpacked_bytes=max_unpacked)
            types = archive.getinfo(_CONTENT_TYPES)
            if types.file_size > max_read_whole:
                raise import_too_large(max_read_whole_bytes=max_read_whole)
            streamed = _streamed_parts(archive)
    except DomainError:
        raise
    except Exception as exc:  # not a zip, no content types, broken XML: not a workbook
        raise _workbook_invalid() from exc
    read_whole = sum(info.file_size for info in parts if info.filename not in streamed)
    if read_whole > max_read_whole:
        raise import_too_large(max_read_whole_bytes=max_read_whole)


def _check_sheet_shape(source: IO[bytes], max_rows: int, max_columns: int) -> None:
    """One streaming pass over the sheet's XML that holds no tree (expat, one chunk at a
    time), before openpyxl parses it: openpyxl builds a whole row in memory before it
    yields it (one 20 MB row costs some 600 MB), so a row of more than 16,384 cells, more
    `<row>` elements than `max_rows`, or a flood of elements outside the rows are refused
    here."""
    from xml.parsers import expat

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    state = {"rows": 0, "in_row": 0, "row_elements": 0, "outside": 0}

    def start(name: str, _attrs: Any) -> None:
        if state["in_row"]:
            state["in_row"] += 1
            state["row_elements"] += 1
            if state["row_elements"] > _ROW_ELEMENTS:
                raise _too_many_columns(max_columns, state["rows"])
        elif name.rsplit(" ", 1)[-1] == "row":
            state["rows"] += 1
            if state["rows"] > max_rows:
                raise _too_many_rows(max_rows, state["rows"])
            state["in_row"], state["row_elements"] = 1, 0
        else:
            state["outside"] += 1
            if state["outside"] > _OUTSIDE_ROW_ELEMENTS:
                raise import_too_large(max_elements=_OUTSIDE_ROW_ELEMENTS)

    def end(_name: str) -> None:
        if state["in_row"]:
            state["in_row"] -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        while chunk := source.read(1 << 16):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise _workbook_invalid() from exc


def xlsx_rows(
    data: bytes,
    *,
    max_bytes: int,
    max_unpacked: int,
    max_read_whole: int,
    max_rows: int,
    max_columns: int,
    max_empty_rows: int = 10_000,
) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The non-empty rows of an uploaded workbook's active sheet, as (row number, cells
    unescaped by `formula_unescape`, at most `max_columns` of them).

    Bounded before and while it is read, refused at the first bound passed:
    - `max_bytes`: the file as sent;
    - `max_unpacked`: every part of the archive unpacked, from the zip's directory;
    - `max_read_whole`: the parts openpyxl reads whole when it opens the file (shared
      strings, styles, theme, workbook), found by content type as openpyxl finds them;
      in memory they cost about 5 to 15 times their size (measured with openpyxl 3.1:
      20 MB of styles took 285 MB);
    - the sheet is parsed one row at a time (read-only mode) after a streaming pass that
      refuses a row of more than 16,384 cells or more `<row>` elements than the row
      bounds allow, so no row costs more than a few MB whatever the unpacked size;
    - the sheet's declared dimension is ignored (`A1:XFD12000` would be 196 million empty
      cells): only the rows and cells the file holds are read;
    - `max_rows` non-empty rows, `max_empty_rows` empty ones (gaps between stored rows
      included), and no value right of `max_columns`.

    Refusals (DomainError): `import_file_too_large` (413), `import_file_invalid`,
    `import_too_many_rows`, `import_too_many_columns`, with the bound in `detail` (and
    the row in `line`). Nothing here touches the database: callers read the whole file
    before they open a transaction.
    """
    if len(data) > max_bytes:
        raise import_too_large(max_bytes=max_bytes)
    _check_archive(data, max_unpacked, max_read_whole)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # any unreadable workbook is the same bad input
        raise _workbook_invalid() from exc
    try:
        ws = wb.active
        if ws is None or not hasattr(ws, "reset_dimensions"):  # no sheet, a chart sheet
            raise _workbook_invalid()
        with wb._archive.open(ws._worksheet_path) as source:
            _check_sheet_shape(source, max_rows + max_empty_rows, max_columns)
        ws.reset_dimensions()
        empty = stored = 0
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            if any(v not in (None, "") for v in values[max_columns:]):
                raise _too_many_columns(max_columns, number)
            cells = tuple(formula_unescape(v) for v in values[:max_columns])
            if not any(v not in (None, "") for v in cells):
                empty += 1
                if empty > max_empty_rows:
                    raise _too_many_rows(max_rows, number)
                continue
            stored += 1
            if stored > max_rows:
                raise _too_many_rows(max_rows, number)
            yield number, cells
    except DomainError:
        raise
    except Exception as exc:  # broken XML inside a valid archive
        raise _workbook_invalid() from exc
    finally:
        wb.close()


def csv_rows(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of CSV text. A field over the csv module's limit (131,072
    characters; no cell of an import is anywhere near it) is refused as
    `import_field_too_large` with its line; any other csv.Error is left to the caller
    (each import says "unreadable" in its own words)."""
    reader = csv.reader(lines)
    try:
        for values in reader:
            yield reader.line_num, values
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise DomainError(
                "import_field_too_large",
                _("第 %(line)d 行有过长的单元格") % {"line": reader.line_num},
                line=reader.line_num,
            ) from None
        raise
