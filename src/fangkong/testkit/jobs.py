"""Background jobs seen from the pages (decision 0010): a page answers the POST that
starts a job by 303 to the job's page (`?job=<id>`); an export's page then offers the
file to download.

    page = started(client.post(url, data))      -> the job's page (after the 303)
    response = export_download(client, url)     -> the workbook an export page wrote
"""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from fangkong.core.models import Job


def job_of(response: Any) -> Job:
    """The job a page started: its answer is 303 to `…?job=<id>`."""
    assert response.status_code == 303, (response.status_code, response.content[:300])
    match = re.search(r"[?&]job=(\d+)$", response["Location"])
    assert match, response["Location"]
    return Job.objects.get(pk=int(match.group(1)))


def started(client: Client, response: Any) -> Any:
    """The page a job-starting POST redirected to (303 → `?job=<id>`)."""
    job_of(response)
    return client.get(response["Location"])


def export_download(client: Client, url: str, *, reveal: bool = False, **extra: Any) -> Any:
    """Start an export on its page (POST, reveal=1 for the file in clear), follow the 303
    to the job's page and download the file it offers."""
    page = started(client, client.post(url, {"reveal": "1"} if reveal else {}, **extra))
    html = page.content.decode()
    link = re.search(r'href="([^"]+)" data-testid="job-download"', html)
    assert link, html[:2000]
    return client.get(link.group(1))
