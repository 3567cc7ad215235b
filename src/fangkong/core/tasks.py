"""Background jobs of core: the reaper of jobs whose worker died, and of old job files."""

from __future__ import annotations

from django_tasks import task

from fangkong.core import jobs


@task()
def jobs_reap_stale() -> int:
    """Mark failed every running job whose worker stopped beating its heartbeat (killed,
    machine lost); they can be re-run. Then delete the files of jobs finished long ago
    (exports, uploads). Idempotent. Returns how many jobs were marked."""
    marked = jobs.jobs_reap_stale()
    jobs.job_files_purge()
    return marked
