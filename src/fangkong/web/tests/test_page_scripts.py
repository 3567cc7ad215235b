"""The rules for page code (web/README.md) hold in every page script: one shared escape,
data into the DOM as nodes, and web/text.js loaded before every script that uses it.

Read from the files: the browser tests (tests/test_e2e_xss.py) prove the behaviour, these
keep the next page script from copying its own escape or an innerHTML with data.
"""

from __future__ import annotations

import re
from pathlib import Path

import fangkong

SRC = Path(fangkong.__file__).parent
TEXT_JS = SRC / "web" / "static" / "web" / "text.js"
PAGE_SCRIPTS = sorted(
    p for p in SRC.glob("*/static/**/*.js") if "vendor" not in p.relative_to(SRC).parts
)
TEMPLATES = sorted(SRC.glob("*/templates/**/*.html"))
SCRIPT_TAG = re.compile(r"<script[^>]*src=\"\{% static '([^']+\.js)' %\}\"")


def _rel(path: Path) -> str:
    return str(path.relative_to(SRC))


def test_page_scripts_are_found() -> None:
    names = {p.name for p in PAGE_SCRIPTS}
    assert {"text.js", "case_map.js", "chain_graph.js", "dashboard.js"} <= names


def test_html_is_escaped_in_one_place_only() -> None:
    defining = [
        _rel(p)
        for p in PAGE_SCRIPTS
        if re.search(r"function\s+escapeHTML\b|escapeHTML\s*=\s*function", p.read_text())
    ]
    assert defining == ["web/static/web/text.js"]


def test_no_page_script_writes_data_as_html() -> None:
    """innerHTML/outerHTML only to empty an element; no insertAdjacentHTML, no
    document.write. Data goes in as text nodes (fangkong.el, textContent)."""
    found = []
    for path in PAGE_SCRIPTS:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            write = re.search(r"\.(inner|outer)HTML\s*\+?=\s*(.*)", line)
            if write and write.group(2).strip().rstrip(";") not in ('""', "''"):
                found.append(f"{_rel(path)}:{number}: {line.strip()}")
            if re.search(r"insertAdjacentHTML|document\.write", line):
                found.append(f"{_rel(path)}:{number}: {line.strip()}")
    assert found == []


def test_text_js_is_loaded_before_every_script_that_uses_it() -> None:
    users = {
        f"{p.parent.name}/{p.name}"
        for p in PAGE_SCRIPTS
        if p != TEXT_JS and re.search(r"fangkong\.(escapeHTML|el)\b", p.read_text())
    }
    assert {"tracing/case_map.js", "tracing/chain_graph.js", "command/dashboard.js"} <= users
    wrong = []
    for template in TEMPLATES:
        loaded = SCRIPT_TAG.findall(template.read_text())
        for script in loaded:
            if script in users and (
                "web/text.js" not in loaded or loaded.index("web/text.js") > loaded.index(script)
            ):
                wrong.append(f"{_rel(template)}: {script}")
    assert wrong == []
