"""Template filters of the testing pages."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from fangkong.testing.rules.labs import hours_minutes

register = template.Library()


@register.filter
def duration(minutes: float | None) -> str:
    """Minutes as a duration a person reads at a glance: 17小时04分, 45分钟; "—" for
    none. A turnaround in decimal minutes (1024.5) is rounded to the minute."""
    if minutes is None or minutes == "":
        return "—"
    hours, mins = hours_minutes(float(minutes))
    if hours:
        return _("%(hours)d小时%(minutes)02d分") % {"hours": hours, "minutes": mins}
    return _("%(minutes)d分钟") % {"minutes": mins}
