"""Rounds never leak another town's figures: zones count by what they cover, and the
target count shown is the user's own share unless the user's jurisdiction holds the round."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from fangkong.accounts.roles import Role
from fangkong.areas.models import Zone, ZoneMember
from fangkong.protocol.models import RuleSet
from fangkong.testing.models import RoundScope
from fangkong.testkit import people, testing

pytestmark = pytest.mark.django_db
BASE = "/api/testing/rounds"


def _zone_of_city_over(tree: Any, member: Any) -> Zone:
    """A sealed zone drawn by command (owned by the city) covering one community."""
    zone = Zone.objects.create(
        name="封控区",
        level="sealed",
        jurisdiction=tree.city,
        jurisdiction_path=tree.city.path,
        ruleset=RuleSet.objects.get(version="v9"),
        started_on=dt.date(2022, 7, 10),
    )
    ZoneMember.objects.create(zone=zone, jurisdiction=member)
    return zone


def test_a_round_of_a_city_zone_in_town_b_is_not_shown_to_town_a(
    client: Any, tree: Any, town_a_user: Any, town_b_user: Any, make_user: Any
) -> None:
    zone = _zone_of_city_over(tree, tree.community_b)
    people.person(tree.community_b)
    rnd = testing.open_round(tree.city)
    rnd.scopes.all().delete()
    RoundScope.objects.create(round=rnd, zone=zone)
    worker_a = make_user(Role.COMMUNITY_WORKER, tree.community_a)

    for outsider in (town_a_user, worker_a):
        client.force_login(outsider)
        assert client.get(f"{BASE}/{rnd.pk}").status_code == 404
        assert rnd.pk not in [r["id"] for r in client.get(BASE).json()["items"]]
        assert client.get(f"/testing/rounds/{rnd.pk}/").status_code == 404
    client.force_login(town_b_user)
    assert client.get(f"{BASE}/{rnd.pk}").json()["target_count"] == 1


def test_a_city_round_shows_each_town_only_its_own_target_count(
    client: Any, tree: Any, command_user: Any, town_a_user: Any, town_b_user: Any
) -> None:
    for _ in range(3):
        people.person(tree.community_a)
    for _ in range(5):
        people.person(tree.community_b)
    rnd = testing.open_round(tree.city)
    rnd.target_count = 8
    rnd.save(update_fields=["target_count"])

    seen = {}
    for user in (command_user, town_a_user, town_b_user):
        client.force_login(user)
        seen[user.username] = client.get(f"{BASE}/{rnd.pk}").json()["target_count"]
        listed = {r["id"]: r["target_count"] for r in client.get(BASE).json()["items"]}
        assert listed[rnd.pk] == seen[user.username]
        page = client.get("/testing/rounds/").content.decode()
        assert ">8<" not in page or user is command_user
    assert seen == {"command": 8, "town-a": 3, "town-b": 5}
