"""testing_delete_under deletes exactly testing's place rows under a path."""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.testing import bulk  # a module: pytest would collect a test* name
from fangkong.testing.models import SamplingPoint, SupplyMovement, SupplyStock
from fangkong.testing.services import supplies as services
from fangkong.testkit import areas as kit_areas
from fangkong.testkit import testing as kit_testing

pytestmark = pytest.mark.django_db


def test_testing_delete_under_a_town_leaves_the_neighbouring_town(
    tree: Any, town_a_user: Any, town_b_user: Any
) -> None:
    stocks = {}
    for town, user in ((tree.town_a, town_a_user), (tree.town_b, town_b_user)):
        warehouse = kit_areas.place(town, "warehouse", "仓库")
        stocks[town.path] = services.supply_stock_create(
            actor=user, place=warehouse, kind="gloves", quantity=10
        )
        services.supply_receive(actor=user, stock=stocks[town.path], quantity=5, reason="调拨")
    kit_testing.point(tree.community_a)
    point_b = kit_testing.point(tree.community_b)
    movements_b = set(
        SupplyMovement.objects.filter(stock=stocks[tree.town_b.path]).values_list("pk", flat=True)
    )
    assert movements_b

    deleted = bulk.testing_delete_under(tree.town_a.path)

    assert list(SamplingPoint.objects.values_list("pk", flat=True)) == [point_b.pk]
    assert list(SupplyStock.objects.values_list("pk", flat=True)) == [stocks[tree.town_b.path].pk]
    assert set(SupplyMovement.objects.values_list("pk", flat=True)) == movements_b
    assert deleted["testing.SamplingPoint"] == 1
    assert deleted["testing.SupplyStock"] == 1
    assert deleted["testing.SupplyMovement"] >= 1
