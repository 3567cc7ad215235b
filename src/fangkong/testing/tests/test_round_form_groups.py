"""The round form offers communities grouped under their towns (issue 11, item 13)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from fangkong.testing.models import Round
from fangkong.testkit.worlds.rounds import World, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree: Any, make_user: Any) -> World:
    return build_world(tree, make_user)


def _groups(html: str) -> dict[str, list[str]]:
    """{town name: [community names]} as the form groups them."""
    groups: dict[str, list[str]] = {}
    for block in re.findall(r'<details class="town-group".*?</details>', html, re.S):
        town = re.search(r'data-testid="scope-town" data-name="([^"]+)"', block)
        communities = re.findall(r'data-testid="scope-community" data-name="([^"]+)"', block)
        groups[town.group(1) if town else ""] = communities
    return groups


def test_command_sees_each_town_with_its_own_communities(world: World) -> None:
    client = Client()
    client.force_login(world.command)

    html = client.get("/testing/rounds/new/").content.decode()

    groups = _groups(html)
    assert set(groups["乌镇镇"]) == {"虹桥村", "东栅社区", "西栅社区"}
    assert groups["濮院镇"] == ["永越村"]
    assert "" not in groups  # no community outside a town


def test_town_staff_sees_only_their_town_open_and_a_community_round_is_created(
    world: World,
) -> None:
    client = Client()
    client.force_login(world.town_a_user)

    html = client.get("/testing/rounds/new/").content.decode()
    response = client.post(
        "/testing/rounds/new/",
        {
            "name": "东栅社区核酸",
            "starts_at": "2022-07-10T06:00",
            "jurisdictions": [str(world.community_c.pk)],
            "sealed_pooling": "single",
        },
    )

    assert set(_groups(html)) == {"乌镇镇"}
    assert '<details class="town-group" data-testid="scope-town-group" open>' in html
    assert response.status_code == 302
    assert Round.objects.get().name == "东栅社区核酸"
