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
def add_person(db: None) -> Any:
    """add_person(jurisdiction, name="…") -> Person, with no ID document (id_kind "none").

    Goes through fangkong.people.services.person_create when the people app has it.
    """

    def make(jurisdiction: Any, name: str | None = None, household: Any = None) -> Any:
        from fangkong.people.models import Person

        n = next(_serial)
        return Person.objects.create(
            name=name or f"测试{n}",
            name_initials="cs",
            id_kind="none",
            jurisdiction=jurisdiction,
            jurisdiction_path=jurisdiction.path,
            household=household,
        )

    return make


@pytest.fixture
def add_household(db: None) -> Any:
    def make(community: Any, address: str = "测试路1号") -> Any:
        from fangkong.people.models import Household

        return Household.objects.create(
            address=address, community=community, jurisdiction_path=community.path
        )

    return make


@pytest.fixture
def add_place(db: None) -> Any:
    def make(jurisdiction: Any, kind: str = "venue", name: str | None = None) -> Any:
        from fangkong.areas.models import Place

        n = next(_serial)
        return Place.objects.create(
            kind=kind,
            name=name or f"场所{n}",
            jurisdiction=jurisdiction,
            jurisdiction_path=jurisdiction.path,
        )

    return make


@pytest.fixture
def ruleset(db: None) -> Any:
    """A rule set for zones: the shipped version 9 when the protocol data migration has
    run, else a minimal one made here."""
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
        secondary_days=7,
        sealed_downgrade_days=7,
        controlled_downgrade_days=7,
        precaution_lift_days=7,
        controlled_after_sealed_days=7,
    )


@pytest.fixture
def add_zone(db: None, ruleset: Any) -> Any:
    """add_zone(jurisdiction, level, state="active") -> Zone covering that jurisdiction."""
    import datetime as dt

    def make(jurisdiction: Any, level: str, state: str = "active") -> Any:
        from fangkong.areas.models import Zone, ZoneMember

        zone = Zone.objects.create(
            name=f"{jurisdiction.name}{level}",
            level=level,
            state=state,
            jurisdiction=jurisdiction,
            jurisdiction_path=jurisdiction.path,
            ruleset=ruleset,
            started_on=dt.date(2022, 7, 1),
            lifted_on=dt.date(2022, 7, 20) if state == "lifted" else None,
        )
        ZoneMember.objects.create(zone=zone, jurisdiction=jurisdiction)
        return zone

    return make
