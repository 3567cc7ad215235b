"""Fixtures of the tracing tests: two registered persons and three venues (built by
fangkong.testkit through the services). The role accounts come from the kit's fixtures."""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.testkit import areas, people


@pytest.fixture
def person_a(tree: Any, command_user: Any) -> Any:
    return people.person(tree.community_a, "张三", actor=command_user)


@pytest.fixture
def person_b(tree: Any, command_user: Any) -> Any:
    return people.person(tree.community_b, "李四", actor=command_user)


@pytest.fixture
def places(tree: Any, admin_user: Any) -> dict[str, Any]:
    return {
        "hotel": areas.place(
            tree.community_a, "venue", "乌镇大酒店", venue_code="V0001", actor=admin_user
        ),
        "market": areas.place(
            tree.community_a, "venue", "乌镇菜场", venue_code="V0002", actor=admin_user
        ),
        "shop": areas.place(
            tree.community_b, "venue", "濮院超市", venue_code="V0003", actor=admin_user
        ),
    }
