"""Django's `{# #}` comment ends at the line's end: a multi-line one is shown to users as
text. Every template uses `{% comment %}` for comments that span lines."""

from __future__ import annotations

from pathlib import Path

import fangkong

TEMPLATES = sorted(Path(fangkong.__file__).parent.glob("*/templates/**/*.html"))


def test_no_template_has_a_comment_that_spans_lines() -> None:
    assert len(TEMPLATES) > 50
    opened_not_closed = [
        f"{path.relative_to(Path(fangkong.__file__).parent)}:{number}"
        for path in TEMPLATES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "{#" in line and "#}" not in line[line.index("{#") :]
    ]
    assert opened_not_closed == []
