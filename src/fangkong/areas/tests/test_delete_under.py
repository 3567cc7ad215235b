"""areas_delete_under deletes exactly areas' rows under a path, not a neighbour's."""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.areas.bulk import areas_delete_under
from fangkong.areas.models import (
    Jurisdiction,
    JurisdictionGeometry,
    Place,
    Zone,
    ZoneMember,
    ZoneTransition,
)
from fangkong.core.paths import under

pytestmark = pytest.mark.django_db

SQUARE = {"type": "Polygon", "coordinates": [[[120, 30], [121, 30], [121, 31], [120, 30]]]}


def _place(jurisdiction: Any, name: str) -> Place:
    return Place.objects.create(
        kind="venue", name=name, jurisdiction=jurisdiction, jurisdiction_path=jurisdiction.path
    )


def test_areas_delete_under_a_town_leaves_the_neighbouring_town(tree: Any, make_zone: Any) -> None:
    for community in (tree.community_a, tree.community_b):
        JurisdictionGeometry.objects.create(
            jurisdiction=community, geojson=SQUARE, centroid_lat=30.5, centroid_lon=120.5
        )
    _place(tree.grid_a, "超市甲")
    place_b = _place(tree.community_b, "超市乙")
    zone_a = make_zone(members=[tree.community_a])
    zone_b = make_zone(jurisdiction=tree.town_b, members=[tree.community_b], name="永越村封控区")
    # a city zone with members in both towns keeps its member in town B
    city_zone = make_zone(
        level="precaution",
        jurisdiction=tree.city,
        members=[tree.community_a, tree.community_b],
        name="全市防范区",
    )
    town_b = set(
        Jurisdiction.objects.filter(under("path", tree.town_b.path)).values_list("pk", flat=True)
    )

    deleted = areas_delete_under(tree.town_a.path)

    assert not Jurisdiction.objects.filter(under("path", tree.town_a.path)).exists()
    left = Jurisdiction.objects.filter(under("path", tree.town_b.path))
    assert set(left.values_list("pk", flat=True)) == town_b == {tree.town_b.pk, tree.community_b.pk}
    assert Jurisdiction.objects.filter(pk=tree.city.pk).exists()
    assert list(Place.objects.values_list("pk", flat=True)) == [place_b.pk]
    assert list(JurisdictionGeometry.objects.values_list("jurisdiction_id", flat=True)) == [
        tree.community_b.pk
    ]
    assert set(Zone.objects.values_list("pk", flat=True)) == {zone_b.pk, city_zone.pk}
    assert not ZoneTransition.objects.filter(zone_id=zone_a.pk).exists()
    assert ZoneTransition.objects.filter(zone=zone_b).exists()
    assert set(ZoneMember.objects.values_list("zone_id", "jurisdiction_id")) == {
        (zone_b.pk, tree.community_b.pk),
        (city_zone.pk, tree.community_b.pk),
    }
    assert deleted["areas.Jurisdiction"] == 3  # town A, its community and its grid
    assert deleted["areas.Place"] == 1
    assert deleted["areas.Zone"] == 1
    assert deleted["areas.ZoneMember"] == 2
