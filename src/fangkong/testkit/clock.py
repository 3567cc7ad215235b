"""Moments the tests name: aware Asia/Shanghai datetimes in July 2022 (protocol v9 in force)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0, month: int = 7) -> dt.datetime:
    """An aware moment in 2022 (July by default), Asia/Shanghai."""
    return dt.datetime(2022, month, day, hour, minute, tzinfo=TZ)


def on(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """An aware Asia/Shanghai moment on `day`."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)
