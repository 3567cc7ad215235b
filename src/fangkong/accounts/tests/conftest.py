"""Fixtures of the accounts tests: places for the site-bound roles (through areas.services,
by fangkong.testkit)."""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.testkit import areas


def _place(kind: str, name: str, jurisdiction: Any) -> Any:
    return areas.place(jurisdiction, kind, name)


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
