"""Background jobs of the areas domain: thin wrappers that call services."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from fangkong.areas.services import zones as zone_services


@task()
def zones_close_day(day: str) -> int:
    """Close `day` (ISO date, Asia/Shanghai) for every active zone's no-case counter.

    Scheduled once a day after midnight for the day just ended; safe to run twice (a day
    already counted changes nothing). Returns the number of zones whose counter moved.
    """
    return zone_services.zones_close_day_all(day=dt.date.fromisoformat(day))
