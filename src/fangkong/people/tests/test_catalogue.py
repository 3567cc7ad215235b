"""Every Chinese msgid the people app uses has an English translation."""

from __future__ import annotations

import re
from pathlib import Path

import polib

APP = Path(__file__).resolve().parents[1]
PATTERNS = [
    re.compile(r"""\b(?:_|gettext_noop|gettext_lazy)\(\s*"([^"]+)"\s*\)"""),
    re.compile(r"""\{%\s*translate\s+"([^"]+)"\s*%\}"""),
    re.compile(r"""\{%\s*translate\s+'([^']+)'\s*%\}"""),
]


def used_msgids() -> set[str]:
    found: set[str] = set()
    files = [*APP.glob("*.py"), *APP.glob("templates/**/*.html")]
    for path in files:
        text = path.read_text(encoding="utf-8")
        for pattern in PATTERNS:
            found.update(pattern.findall(text))
    return {m for m in found if re.search(r"[\u4e00-\u9fff]", m)}


def test_every_msgid_is_translated() -> None:
    catalogue = polib.pofile(str(APP / "locale/en/LC_MESSAGES/django.po"))
    translated = {e.msgid for e in catalogue if e.msgstr}
    used = used_msgids()
    assert len(used) > 40  # the scan itself works
    assert sorted(used - translated) == []
    assert catalogue.metadata["Content-Type"] == "text/plain; charset=UTF-8"
