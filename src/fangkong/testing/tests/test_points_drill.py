"""The drill city comes with operating sampling points and stocked town warehouses."""

from __future__ import annotations

import pytest

from fangkong.areas.models import Place
from fangkong.drill.city import TOWNS, drill_city_build, drill_city_delete
from fangkong.testing.models import SamplingPoint, SupplyStock

pytestmark = pytest.mark.django_db


def test_drill_city_has_points_and_stocked_warehouses_and_deletes_cleanly() -> None:
    built = drill_city_build(population=600, days=0, seed=7)

    places = set(Place.objects.filter(kind="sampling_point").values_list("pk", flat=True))
    points = SamplingPoint.objects.all()
    assert set(points.values_list("place_id", flat=True)) == places
    assert built.counts["sampling_points"] == len(places) > 0
    assert {(p.tables, p.samplers, p.queue_status) for p in points} == {(2, 4, "closed")}
    warehouses = Place.objects.filter(kind="warehouse")
    assert warehouses.count() == len(TOWNS)
    wuzhen = warehouses.get(name="乌镇镇防疫物资仓库")
    stock = {s.kind: s for s in SupplyStock.objects.filter(place=wuzhen)}
    assert len(stock) == 8 and stock["swab"].counted_quantity > 0
    assert stock["swab"].low_threshold == stock["swab"].counted_quantity // 5
    assert built.counts["supply_stocks"] == 8 * len(TOWNS)

    drill_city_delete()

    assert not SamplingPoint.objects.exists() and not SupplyStock.objects.exists()
    assert not Place.objects.exists()
