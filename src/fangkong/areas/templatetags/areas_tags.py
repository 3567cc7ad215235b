"""Template filters of the areas pages: level and state names for stored codes."""

from __future__ import annotations

from django import template

from fangkong.areas.models import ZoneLevel, ZoneState

register = template.Library()


@register.filter
def zone_level_name(code: str) -> str:
    """封控区 / 管控区 / 防范区 for a stored level code ('' stays empty)."""
    return str(dict(ZoneLevel.choices).get(code, code)) if code else ""


@register.filter
def zone_state_name(code: str) -> str:
    return str(dict(ZoneState.choices).get(code, code)) if code else ""
