"""What every day of the reference outbreak shares: the place, the clock and the drill's
own accounts."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from zoneinfo import ZoneInfo

from fangkong.accounts.models import User
from fangkong.accounts.services import user_create

SHANGHAI = ZoneInfo("Asia/Shanghai")
WUZHEN = "330483102"


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A moment of a drill day, Asia/Shanghai."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


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
