"""Actions a higher app offers on a lower app's object pages, without the lower app
importing it (a case's page offers "派发任务", which command owns).

An app registers an `ObjectAction` in its `AppConfig.ready()`: the object types it applies
to (named as `accounts.audit_vocabulary.AUDIT_OBJECTS` names them: "case",
"verification_push", "zone" ...), its label, who sees it (`visible(user) -> bool`, so
that core needs no capability of its own) and the link (`url(object_type, object_id,
object_label) -> str`). A lower app's template shows them with the `object_actions` tag:

    {% load object_actions %}{% object_actions "case" case.pk case.number %}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise


@dataclass(frozen=True)
class ObjectAction:
    key: str
    label: str | Promise
    object_types: frozenset[str]
    visible: Callable[[Any], bool]
    url: Callable[[str, str, str], str]
    order: int = 100


@dataclass(frozen=True)
class ActionLink:
    key: str
    label: str
    url: str


_ACTIONS: dict[str, ObjectAction] = {}


def register(action: ObjectAction) -> None:
    """Register (or replace, on a re-import) one action."""
    _ACTIONS[action.key] = action


def actions_for(
    *, user: Any, object_type: str, object_id: Any, object_label: str = ""
) -> list[ActionLink]:
    """The links of the actions on an object of `object_type` the user may see."""
    out = []
    for action in sorted(_ACTIONS.values(), key=lambda a: (a.order, a.key)):
        if object_type not in action.object_types or not action.visible(user):
            continue
        url = action.url(object_type, str(object_id), str(object_label or ""))
        if url:
            out.append(ActionLink(action.key, str(action.label), url))
    return out
