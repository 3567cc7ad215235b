"""Fixtures of the web app's tests: persons and places in the shared tree, a clean cache."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    """The dashboard caches per scope; every test starts (and ends) with an empty cache."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def data_admin(tree: Any, make_user: Any) -> Any:
    """A city-wide admin account that writes the test data through the services."""
    from fangkong.accounts.roles import Role

    return make_user(Role.ADMIN, tree.city, "web-data-admin")


@pytest.fixture
def add_person(data_admin: Any) -> Any:
    """add_person(jurisdiction, name=None, household=None) -> Person (no ID document),
    registered through fangkong.people.services.person_create."""
    from fangkong.people.services import person_create

    def make(jurisdiction: Any, name: str | None = None, household: Any = None) -> Any:
        return person_create(
            actor=data_admin,
            name=name or f"测试{next(_serial)}",
            id_kind="none",
            jurisdiction=jurisdiction,
            household=household,
        )

    return make


@pytest.fixture
def add_household(data_admin: Any) -> Any:
    """add_household(community, address) -> Household, through people.services."""
    from fangkong.people.services import household_create

    def make(community: Any, address: str | None = None) -> Any:
        return household_create(
            actor=data_admin, address=address or f"测试路{next(_serial)}号", community=community
        )

    return make


@pytest.fixture
def add_place(data_admin: Any) -> Any:
    """add_place(jurisdiction, kind="venue", name=None) -> Place, through areas.services."""
    from fangkong.areas.services.areas import place_create

    def make(jurisdiction: Any, kind: str = "venue", name: str | None = None) -> Any:
        return place_create(
            actor=data_admin,
            kind=kind,
            name=name or f"场所{next(_serial)}",
            jurisdiction=jurisdiction,
        )

    return make


@pytest.fixture
def ruleset(db: None) -> Any:
    """A rule set in force for zones: the shipped ones (protocol data migration) when
    present, else a minimal one. A transactional test elsewhere in the suite flushes the
    database, data migrations' rows included, so this cannot be taken for granted."""
    import datetime as dt

    from fangkong.protocol.models import RuleSet

    existing = RuleSet.objects.order_by("-effective_from").first()
    if existing is not None:
        return existing
    return RuleSet.objects.create(
        version="web-test",
        name="web test rule set",
        effective_from=dt.date(2022, 6, 28),
        contact_lookback_days=4,
        close_centralised_days=7,
        close_home_monitoring_days=3,
        secondary_measure="home",
        secondary_days=7,
        sealed_downgrade_days=7,
        controlled_downgrade_days=7,
    )


@pytest.fixture
def add_zone(data_admin: Any, ruleset: Any) -> Any:
    """add_zone(jurisdiction, level) -> an active Zone covering that jurisdiction, drawn
    through areas.services.zones.zone_create (rule set: the shipped versions 8/9)."""
    import datetime as dt

    from fangkong.areas.services.zones import zone_create

    def make(jurisdiction: Any, level: str) -> Any:
        return zone_create(
            actor=data_admin,
            name=f"{jurisdiction.name}{level}",
            level=level,
            jurisdiction=jurisdiction,
            started_on=dt.date(2022, 7, 1),
            reason="测试",
            member_jurisdictions=[jurisdiction],
        )

    return make


SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[120.50, 30.60], [120.55, 30.60], [120.55, 30.65], [120.50, 30.65], [120.50, 30.60]]
    ],
}


@pytest.fixture
def set_geometry(data_admin: Any) -> Any:
    """set_geometry(jurisdiction, dx=0.0) -> a small square boundary, through areas.services."""
    from fangkong.areas.services.areas import jurisdiction_set_geometry

    def make(jurisdiction: Any, dx: float = 0.0) -> Any:
        ring = [[x + dx, y] for x, y in SQUARE["coordinates"][0]]
        return jurisdiction_set_geometry(
            actor=data_admin,
            jurisdiction=jurisdiction,
            geojson={"type": "Polygon", "coordinates": [ring]},
        )

    return make
