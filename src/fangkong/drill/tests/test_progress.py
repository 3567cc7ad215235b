from __future__ import annotations

import io

from fangkong.drill.progress import Progress


def test_progress_reports_each_stage_and_its_time() -> None:
    out = io.StringIO()
    progress = Progress(out)
    progress.stage("persons", 10)
    progress.advance(10)
    progress.stage("scans", 100)
    progress.advance(40)
    progress.finish()
    text = out.getvalue()
    assert "persons" in text and "10/10" in text and "100.0%" in text
    assert "40/100" in text
    assert set(progress.timings) == {"persons", "scans"}


def test_disabled_progress_writes_nothing() -> None:
    out = io.StringIO()
    progress = Progress(out, enabled=False)
    progress.stage("persons", 10)
    progress.advance(5)
    progress.finish()
    assert out.getvalue() == ""
    assert "persons" in progress.timings
