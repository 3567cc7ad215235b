"""Template tags of the push pages: a deadline's countdown that reads as words.

`{% countdown deadline %}` renders `<time class="countdown" ...>剩余 5小时12分</time>`:
the text is right on the first paint (and without scripts), and `push_countdown.js`
keeps it current with the same patterns, which the element carries translated. The
element also carries the server's "now", so the script counts from the server's clock
(the demo's clock included), not the browser's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

register = template.Library()


def countdown_patterns() -> dict[str, str]:
    """The text patterns, by granularity; `%(d)s`, `%(h)s`, `%(m)s` are numbers."""
    return {
        "left": _("剩余"),
        "over": _("已超时"),
        "d": _("%(d)s天"),
        "dh": _("%(d)s天%(h)s小时"),
        "h": _("%(h)s小时"),
        "hm": _("%(h)s小时%(m)s分"),
        "m": _("%(m)s分钟"),
        "lt": _("不足1分钟"),
    }


def countdown_text(deadline: dt.datetime, now: dt.datetime) -> str:
    """ "剩余 5小时12分", "已超时 2小时", "已超时 3天4小时": whole minutes, no seconds."""
    patterns = countdown_patterns()
    seconds = int((deadline - now).total_seconds())
    label = patterns["left"] if seconds >= 0 else patterns["over"]
    minutes_total = abs(seconds) // 60
    days, rest = divmod(minutes_total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days and hours:
        span = patterns["dh"] % {"d": days, "h": hours}
    elif days:
        span = patterns["d"] % {"d": days}
    elif hours and minutes:
        span = patterns["hm"] % {"h": hours, "m": minutes}
    elif hours:
        span = patterns["h"] % {"h": hours}
    elif minutes:
        span = patterns["m"] % {"m": minutes}
    else:
        span = patterns["lt"]
    return f"{label} {span}"


@register.simple_tag(takes_context=True)
def countdown(context: Any, deadline: dt.datetime, testid: str = "") -> SafeString:
    """The countdown to `deadline` from the page's `now` (else the server's clock)."""
    now = context.get("now") or timezone.now()
    patterns = countdown_patterns()
    return format_html(
        '<time class="countdown{}" datetime="{}" data-now="{}" data-left="{}" data-over="{}"'
        ' data-fmt-d="{}" data-fmt-dh="{}" data-fmt-h="{}" data-fmt-hm="{}"'
        ' data-fmt-m="{}" data-fmt-lt="{}"'
        "{}>{}</time>",
        " overdue" if deadline < now else "",
        deadline.isoformat(),
        now.isoformat(),
        patterns["left"],
        patterns["over"],
        patterns["d"],
        patterns["dh"],
        patterns["h"],
        patterns["hm"],
        patterns["m"],
        patterns["lt"],
        format_html(' data-testid="{}"', testid) if testid else "",
        countdown_text(deadline, now),
    )
