"""Fixtures of the web app's tests: persons and places in the shared tree."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

_serial = itertools.count(1)


@pytest.fixture
def data_admin(tree: Any, make_user: Any) -> Any:
    """A city-wide admin account that writes the test data through the services."""
    from fangkong.accounts.roles import Role

    return make_user(Role.ADMIN, tree.city, "web-data-admin")


@pytest.fixture
def add_person(data_admin: Any) -> Any:
    """add_person(jurisdiction, name=None, household=None) -> Person (no ID document),
    registered through fangkong.people.services.person_create."""
    from fangkong.testkit import people

    def make(jurisdiction: Any, name: str | None = None, household: Any = None) -> Any:
        return people.person(
            jurisdiction,
            name or f"测试{next(_serial)}",
            id_kind="none",
            phone_number="",
            household=household,
            actor=data_admin,
        )

    return make


@pytest.fixture
def add_household(data_admin: Any) -> Any:
    """add_household(community, address) -> Household, through people.services."""
    from fangkong.testkit import people

    def make(community: Any, address: str | None = None) -> Any:
        return people.household(community, address, actor=data_admin)

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
def add_zone(data_admin: Any, ruleset: Any) -> Any:
    """add_zone(jurisdiction, level) -> an active Zone covering that jurisdiction, drawn
    through areas.services.zones.zone_create (rule set: the shipped versions 8/9)."""
    from fangkong.testkit import areas

    def make(jurisdiction: Any, level: str) -> Any:
        return areas.zone(jurisdiction, level, actor=data_admin)

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
