"""Fixtures of the areas tests: the rule sets zones count with, a zone manager, zones."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from fangkong.accounts.roles import Role

# The values of protocol version 9 that zones use (the protocol app ships the full row).
V9_ZONE_VALUES: dict[str, Any] = {
    "name": "新型冠状病毒肺炎防控方案（第九版）",
    "effective_from": dt.date(2022, 6, 28),
    "region": "",
    "contact_lookback_days": 4,
    "close_centralised_days": 7,
    "close_home_monitoring_days": 3,
    "close_centralised_test_days": [1, 2, 3, 5, 7],
    "close_home_test_days": [3],
    "secondary_measure": "home",
    "secondary_days": 7,
    "secondary_test_days": [1, 4, 7],
    "sealed_downgrade_days": 7,
    "controlled_downgrade_days": 7,
    "controlled_after_sealed_days": 3,
    "downgrade_requires_screening": True,
    "precaution_lift_days": 0,
}

DAY0 = dt.date(2022, 9, 1)


def day(n: int) -> dt.date:
    return DAY0 + dt.timedelta(days=n)


@pytest.fixture
def local_ruleset(ruleset: Any) -> Any:
    """make(**values): a city-level override of v9 in force from DAY0 (region 330483)."""
    from fangkong.protocol.models import RuleSet

    def make(version: str = "test-areas-local", **values: Any) -> Any:
        fields = {**V9_ZONE_VALUES, "name": "本地规则", "region": "330483"}
        fields["effective_from"] = DAY0
        fields.update(values)
        return RuleSet.objects.create(version=version, **fields)

    return make


@pytest.fixture
def manager(tree: Any, make_user: Any) -> Any:
    """A city-wide zone manager (command)."""
    return make_user(Role.COMMAND, tree.city, "zone-manager")


@pytest.fixture
def make_zone(tree: Any, manager: Any, ruleset: Any) -> Any:
    from fangkong.areas.services import zones as zone_services

    def make(
        level: str = "sealed",
        members: list[Any] | None = None,
        jurisdiction: Any = None,
        parent: Any = None,
        started_on: dt.date = DAY0,
        name: str = "虹桥村封控区",
        actor: Any = None,
    ) -> Any:
        owner = jurisdiction or tree.town_a
        return zone_services.zone_create(
            actor=actor or manager,
            name=name,
            level=level,
            jurisdiction=owner,
            member_jurisdictions=members if members is not None else [tree.community_a],
            started_on=started_on,
            parent=parent,
            reason="发现阳性病例",
        )

    return make
