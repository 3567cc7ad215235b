"""System checks of the people app: the lookup settings (people/lookups.py) are refused
at start-up rather than at a user's first lookup.

settings.py reads FANGKONG_LOOKUP_BUDGETS (role=number overrides of
lookups.DEFAULT_LOOKUP_BUDGETS), FANGKONG_LOOKUP_WINDOW_MINUTES and
FANGKONG_LOOKUP_MISS_ALERT from the environment; a misspelt role would silently leave
that role on its default budget, and a window under a minute would count nothing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from fangkong.accounts.roles import Role


def _whole_at_least(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


@register("fangkong")
def lookup_settings_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E001 a budget for something that is not a role, E002 a budget that is not a
    whole number ≥ 0, E003 a window under one minute, E004 a miss alert under one."""
    errors: list[CheckMessage] = []
    budgets = settings.FANGKONG_LOOKUP_BUDGETS
    if not isinstance(budgets, dict):
        return [
            Error(
                "FANGKONG_LOOKUP_BUDGETS must map roles to lookups per window.",
                id="people.E002",
            )
        ]
    for role, budget in budgets.items():
        if role not in Role.values:
            errors.append(
                Error(
                    f"FANGKONG_LOOKUP_BUDGETS names {role!r}, which is not a role.",
                    hint="Roles: " + ", ".join(Role.values),
                    id="people.E001",
                )
            )
        if not _whole_at_least(budget, 0):
            errors.append(
                Error(
                    f"FANGKONG_LOOKUP_BUDGETS[{role!r}] is {budget!r}, not a number of "
                    "lookups (0 or more).",
                    id="people.E002",
                )
            )
    if not _whole_at_least(settings.FANGKONG_LOOKUP_WINDOW_MINUTES, 1):
        errors.append(
            Error(
                "FANGKONG_LOOKUP_WINDOW_MINUTES is "
                f"{settings.FANGKONG_LOOKUP_WINDOW_MINUTES!r}; it must be 1 or more.",
                id="people.E003",
            )
        )
    if not _whole_at_least(settings.FANGKONG_LOOKUP_MISS_ALERT, 1):
        errors.append(
            Error(
                f"FANGKONG_LOOKUP_MISS_ALERT is {settings.FANGKONG_LOOKUP_MISS_ALERT!r}; "
                "it must be 1 or more.",
                id="people.E004",
            )
        )
    return errors
