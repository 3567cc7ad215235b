"""The lookup settings are checked at start-up (people/checks.py), not at a first lookup."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from fangkong.people.checks import lookup_settings_check


def _ids(settings: Any) -> list[str]:
    return [e.id for e in lookup_settings_check(None)]


def test_the_shipped_lookup_settings_pass(settings: Any) -> None:
    assert _ids(settings) == []
    settings.FANGKONG_LOOKUP_BUDGETS = {"hotline": 40, "sampler": 0}
    assert _ids(settings) == []


@pytest.mark.parametrize(
    ("name", "value", "ids"),
    [
        ("FANGKONG_LOOKUP_BUDGETS", {"hotlne": 40}, ["people.E001"]),
        ("FANGKONG_LOOKUP_BUDGETS", {"hotline": -1}, ["people.E002"]),
        ("FANGKONG_LOOKUP_BUDGETS", {"hotline": "40"}, ["people.E002"]),
        ("FANGKONG_LOOKUP_BUDGETS", {"nobody": -5}, ["people.E001", "people.E002"]),
        ("FANGKONG_LOOKUP_BUDGETS", ["hotline"], ["people.E002"]),
        ("FANGKONG_LOOKUP_WINDOW_MINUTES", 0, ["people.E003"]),
        ("FANGKONG_LOOKUP_WINDOW_MINUTES", -60, ["people.E003"]),
        ("FANGKONG_LOOKUP_MISS_ALERT", 0, ["people.E004"]),
    ],
)
def test_a_bad_lookup_setting_fails_the_check(
    settings: Any, name: str, value: Any, ids: list[str]
) -> None:
    setattr(settings, name, value)
    assert _ids(settings) == ids
    # The check is registered: Django's own run (manage.py check, migrate) reports it
    assert [e.id for e in run_checks() if e.id.startswith("people.")] == ids


def test_the_check_command_refuses_to_start_with_a_role_that_does_not_exist(
    settings: Any,
) -> None:
    settings.FANGKONG_LOOKUP_BUDGETS = {"hotlne": 40}
    with pytest.raises(SystemCheckError, match=r"people\.E001"):
        call_command("check")
