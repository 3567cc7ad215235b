"""Background jobs of command: thin wrappers that call services."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from fangkong.command.services import figures as figure_services


@task()
def figures_refresh_job(day: str = "") -> int:
    """Recompute the figures of the situation at a glance for `day` (ISO date; default
    today, Asia/Shanghai) for every city and town. Idempotent; returns rows written."""
    return figure_services.figures_refresh(day=dt.date.fromisoformat(day) if day else None)
