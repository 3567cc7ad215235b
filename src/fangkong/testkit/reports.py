"""The daily situation report, written and read as its users get it.

data = daily_report_bytes(user, day)        -> the .docx bytes (the job run in-process
                                               through command's start and download)
doc = docx_document(data)                   -> python-docx Document
docx_text(doc)                              -> every paragraph's and cell's text
docx_table(doc, "类别")                     -> the rows (lists of cell texts) of the
                                               table whose first header cell says so
table_by_label(rows)                        -> {first cell: the other cells}
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from fangkong.core.models import JobState


def daily_report_bytes(user: Any, day: dt.date | None = None) -> bytes:
    """Write the report of `day` for `user` (a job, run in-process in tests) and download
    it as its owner does."""
    from fangkong.command.services.daily_report import daily_report_download
    from fangkong.command.tasks_reports import daily_report_start
    from fangkong.core.jobs import job_file_data

    job = daily_report_start(actor=user, day=day)
    job.refresh_from_db()
    assert job.state == JobState.DONE, (job.state, job.error_code, job.error_message)
    return job_file_data(daily_report_download(actor=user, job_id=job.pk))


def docx_document(data: bytes) -> Any:
    from docx import Document

    return Document(io.BytesIO(data))


def docx_text(doc: Any) -> str:
    lines = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(lines)


def docx_table(doc: Any, first_header: str) -> list[list[str]]:
    """The body rows of the (first) table whose header row starts with `first_header`."""
    for table in doc.tables:
        rows = [[cell.text for cell in row.cells] for row in table.rows]
        if rows and rows[0][0] == first_header:
            return rows[1:]
    raise AssertionError(f"no table headed {first_header!r}")


def table_by_label(rows: list[list[str]]) -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in rows}
