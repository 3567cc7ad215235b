"""`{% object_actions object_type object_id object_label %}`: the links higher apps
register on an object's page (core.object_actions)."""

from __future__ import annotations

from typing import Any

from django import template

from fangkong.core.object_actions import actions_for

register = template.Library()


@register.inclusion_tag("core/_object_actions.html", takes_context=True)
def object_actions(
    context: Any, object_type: str, object_id: Any, object_label: Any = ""
) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    links = (
        actions_for(
            user=user,
            object_type=object_type,
            object_id=object_id,
            object_label=str(object_label or ""),
        )
        if user is not None
        else []
    )
    return {"links": links}
