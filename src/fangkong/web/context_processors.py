"""Navigation by role: each entry appears only for users whose role has its capability."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    return {"nav_items": []}
