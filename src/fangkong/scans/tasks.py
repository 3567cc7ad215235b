"""Background jobs of scans: the scan-log import as a job (decision 0010)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils.translation import gettext_lazy

from fangkong.accounts.permissions import has_capability, in_scope, require
from fangkong.accounts.roles import Capability
from fangkong.core import jobs
from fangkong.core.spreadsheet import import_too_large
from fangkong.scans import ingest

if TYPE_CHECKING:
    from fangkong.accounts.models import User


def _run_scans_import(actor: User, job: jobs.Job, progress: jobs.Progress) -> dict[str, Any]:
    """Ingest the saved upload (Parquet is read by path: it is written to a temporary
    file first). Idempotent: the same file is recorded by its SHA-256 and adds nothing
    again; rows already stored are skipped; the writes are one transaction."""
    name = jobs.job_input_name(job) or "upload.csv"
    suffix = Path(name).suffix.lower()[:10]
    with tempfile.TemporaryDirectory(prefix="fangkong-scans-") as folder:
        target = Path(folder) / f"upload{suffix}"
        target.write_bytes(jobs.job_input(job))
        report = ingest.scans_import_file(
            actor=actor,
            path=target,
            strict=bool(job.params.get("strict")),
            name=name,
            ip=str(job.params.get("ip", "")),
            progress=progress,
        )
    return report.as_dict()


def _same_scope(user: User, job: jobs.Job) -> bool:
    """Who may import scan logs over the owner's jurisdiction may follow the import."""
    return has_capability(user, Capability.SCANS_IMPORT) and in_scope(user, job.scope_path)


SCANS_IMPORT = jobs.JobKind(
    path="fangkong.scans.tasks.SCANS_IMPORT",
    label=gettext_lazy("导入扫码记录"),
    run=_run_scans_import,
    may_view=_same_scope,
    result_template="scans/_import_report.html",
    page=lambda job: reverse("tracing:scan_import"),
)


def scans_import_start(*, actor: User, upload: Any, strict: bool = False, ip: str = "") -> jobs.Job:
    """Save an uploaded scan log (a Django UploadedFile) and ingest it in the background.
    Who may import, and the file's size, are checked here (403 / 400 at once)."""
    require(actor, Capability.SCANS_IMPORT)
    if (getattr(upload, "size", 0) or 0) > ingest.MAX_IMPORT_BYTES:
        raise import_too_large(max_bytes=ingest.MAX_IMPORT_BYTES)
    data = b"".join(upload.chunks())
    if len(data) > ingest.MAX_IMPORT_BYTES:
        raise import_too_large(max_bytes=ingest.MAX_IMPORT_BYTES)
    name = Path(str(getattr(upload, "name", "") or "upload.csv")).name
    return jobs.job_start(
        kind=SCANS_IMPORT,
        owner=actor,
        params={"strict": strict, "ip": ip},
        upload=(name, data),
    )
