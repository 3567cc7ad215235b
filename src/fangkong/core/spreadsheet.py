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
"""

from __future__ import annotations

import re
from typing import Any

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
