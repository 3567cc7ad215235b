"""Fixtures of the accounts tests: places for the site-bound roles."""

from __future__ import annotations

from typing import Any

import pytest


def _place(kind: str, name: str, jurisdiction: Any) -> Any:
    from fangkong.areas.models import Place

    return Place.objects.create(
        kind=kind, name=name, jurisdiction=jurisdiction, jurisdiction_path=jurisdiction.path
    )


@pytest.fixture
def places(tree: Any) -> dict[str, Any]:
    """One quarantine site, sampling point and lab in 乌镇镇, and a venue."""
    return {
        "quarantine_site": _place("quarantine_site", "乌镇隔离点", tree.town_a),
        "sampling_point": _place("sampling_point", "乌镇采样点", tree.community_a),
        "lab": _place("lab", "乌镇检测机构", tree.town_a),
        "venue": _place("venue", "乌镇超市", tree.community_a),
    }


@pytest.fixture
def make_place() -> Any:
    return _place


@pytest.fixture(autouse=True)
def fast_password_hasher(settings: Any) -> None:
    """Tests create and log in many users; PBKDF2's deliberate cost is not under test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
