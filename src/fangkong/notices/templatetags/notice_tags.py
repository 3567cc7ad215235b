"""Template tags of the inbox: the header bell's unread count.

`{% unread_notices as unread %}` gives the signed-in user's unread count, counted up to
`selectors.UNREAD_CAP` + 1 on the (user, read_at, id) index: one cheap query per page.
`unread|notice_badge` is the badge's text ("7", "99+"); `{% notice_poll_seconds %}` how
often the bell's script asks again.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.db import DatabaseError

from fangkong.notices import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notices(context: dict[str, Any]) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    try:
        return selectors.unread_count(user=user, cap=selectors.UNREAD_CAP)
    except DatabaseError:  # a page that reports a database failure still renders
        return 0


@register.simple_tag
def notice_poll_seconds() -> int:
    """How often the bell asks (FANGKONG_NOTICE_POLL_SECONDS, 30 by default)."""
    return max(1, int(getattr(settings, "FANGKONG_NOTICE_POLL_SECONDS", 30)))


@register.filter
def notice_badge(count: int) -> str:
    count = int(count or 0)
    return f"{selectors.UNREAD_CAP}+" if count > selectors.UNREAD_CAP else str(count)
