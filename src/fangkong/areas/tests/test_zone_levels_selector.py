"""zone_levels_under_sql: the zone level of every jurisdiction under the prefixes, the
query other apps (rounds) join against instead of restating zone severity and state."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from fangkong.areas import selectors
from fangkong.areas.services import zones as zone_services

from .conftest import day

pytestmark = pytest.mark.django_db


def _levels(prefixes: list[str]) -> dict[str, str]:
    sql, params = selectors.zone_levels_under_sql(prefixes)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def test_most_severe_active_zone_covering_each_jurisdiction(
    tree: Any, make_zone: Any, manager: Any
) -> None:
    make_zone(level="precaution", members=[tree.town_a], name="乌镇镇防范区")
    make_zone(level="sealed", members=[tree.community_a], name="虹桥村封控区")
    lifted = make_zone(
        level="precaution", jurisdiction=tree.town_b, members=[tree.community_b], name="永越村"
    )
    zone_services.zone_lift(actor=manager, zone=lifted, on_date=day(0), reason="解除")

    assert _levels([tree.town_a.path]) == {
        tree.town_a.path: "precaution",
        tree.community_a.path: "sealed",
        tree.grid_a.path: "sealed",  # covered by its community's zone
    }
    # a lifted zone counts for nothing; several prefixes at once
    assert _levels([tree.town_b.path, tree.grid_a.path]) == {
        tree.town_b.path: "",
        tree.community_b.path: "",
        tree.grid_a.path: "sealed",
    }


def test_no_prefix_is_refused() -> None:
    with pytest.raises(ValueError):
        selectors.zone_levels_under_sql([])
