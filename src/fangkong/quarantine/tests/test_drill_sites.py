"""The drill city gets quarantine sites with rooms (the reserve shared among its
quarantine_site places), and deleting the city deletes them."""

from __future__ import annotations

import pytest

from fangkong.drill.city import drill_city_build, drill_city_delete
from fangkong.quarantine.models import Room, Site

pytestmark = pytest.mark.django_db


def test_drill_city_sites_have_rooms_and_go_with_the_city() -> None:
    built = drill_city_build(population=600, days=0, seed=5)
    assert built.counts["quarantine_sites"] == Site.objects.count() >= 3
    assert built.counts["quarantine_rooms"] == Room.objects.count()
    for site in Site.objects.all():
        rooms = Room.objects.filter(site=site)
        assert rooms.count() >= 40
        assert rooms.filter(accessible=True).exists() and rooms.filter(kind="multi").exists()
    drill_city_delete()
    assert not Site.objects.exists() and not Room.objects.exists()
