"""What every day of the reference outbreak shares: the place, the clock and the drill's
own accounts."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from zoneinfo import ZoneInfo

from fangkong.accounts.models import User
from fangkong.accounts.services import user_create
from fangkong.areas.services.zones import zones_close_day_all
from fangkong.drill.clock import drill_clock

SHANGHAI = ZoneInfo("Asia/Shanghai")
WUZHEN = "330483102"


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A moment of a drill day, Asia/Shanghai."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


def zones_close_day(on_date: dt.date) -> int:
    """The daily job at 00:05 the next morning: `on_date` closed on every active zone's
    no-case counter; returns how many zones it moved (none if closed already)."""
    with drill_clock(at(on_date + dt.timedelta(days=1), 0, 5)):
        return zones_close_day_all(day=on_date)


def drill_actor(username: str, role: str, jurisdiction: Any, place: Any = None) -> User:
    """A drill account (unusable password: the drill acts, nobody logs in with it)."""
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        return existing
    user = user_create(
        username=username,
        password=secrets.token_urlsafe(24),
        role=role,
        jurisdiction=jurisdiction,
        place=place,
        display_name=f"演练·{getattr(place, 'name', None) or jurisdiction.name}",
    )
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return user
