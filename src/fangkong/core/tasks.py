"""Background jobs of core: the reaper of jobs whose worker died."""

from __future__ import annotations

from django_tasks import task

from fangkong.core import jobs


@task()
def jobs_reap_stale() -> int:
    """Mark failed every running job whose worker stopped beating its heartbeat (killed,
    machine lost); they can be re-run. Idempotent. Returns how many were marked."""
    return jobs.jobs_reap_stale()
