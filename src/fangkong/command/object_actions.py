"""The action command offers on the lower apps' object pages (core.object_actions): "派发任务"
from a case, a pushed list, a zone (or any object named in the audit vocabulary): the new
task form, prefilled with the object as the task's source."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy

from fangkong.accounts.permissions import has_capability
from fangkong.accounts.roles import Capability
from fangkong.core.object_actions import ObjectAction

TASK_SOURCES = frozenset(
    {"case", "verification_push", "zone", "cluster", "round", "site", "placement"}
)


def task_new_url(object_type: str, object_id: str, object_label: str) -> str:
    query = urlencode(
        {"source_type": object_type, "source_id": object_id, "source_label": object_label[:100]}
    )
    return f"{reverse('command:task_new')}?{query}"


def _may_dispatch(user: Any) -> bool:
    return has_capability(user, Capability.TASK_MANAGE)


TASK_DISPATCH = ObjectAction(
    key="task-dispatch",
    label=gettext_lazy("派发任务"),
    object_types=TASK_SOURCES,
    visible=_may_dispatch,
    url=task_new_url,
    order=10,
)
