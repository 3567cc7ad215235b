"""Background jobs of the care of placed persons (a module of its own so that the
parts' task modules merge cleanly)."""

from __future__ import annotations

from django_tasks import task

from fangkong.quarantine.services import care


@task()
def home_placements_close_due() -> int:
    """Close the placements at home past their end date (居家隔离/健康监测期满), once;
    run by `fangkong periodic`. Returns how many were closed."""
    return care.home_placements_close_due()
