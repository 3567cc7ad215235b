"""The header's search finds a pushed list by its number (scoped as the push list: a
town its own lists only), a zone by its name (public within the city, as the zone list)
and a town or community by its name (its row in the jurisdiction tree). A town that
searches another town's list number gets exactly what a search for nothing gets."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fangkong.areas.models import ZoneLevel
from fangkong.testkit import areas

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _main(response: Any) -> str:
    main = response.content.decode().split('id="main"', 1)[1].split("</main>", 1)[0]
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", main)


def _hits(response: Any) -> list[str]:
    return re.findall(r'data-testid="search-hit">([^<]*)<', _main(response))


@pytest.fixture
def pushed(tree: Any, make_user: Any) -> Any:
    from fangkong.testkit.worlds import pushes as pushes_world
    from fangkong.tracing.services.pushes import pushes_create_for_case

    world = pushes_world.build_world(tree, make_user)
    made = pushes_create_for_case(actor=world.command, case=world.case)
    world.push_a = next(p for p in made if p.jurisdiction_path == tree.town_a.path)
    world.push_b = next(p for p in made if p.jurisdiction_path == tree.town_b.path)
    return world


# --- Pushed lists ------------------------------------------------------------------------


def test_a_pushed_list_is_found_by_its_number_and_opens(pushed: Any) -> None:
    detail_a = reverse("tracing:push_detail", args=[pushed.push_a.pk])
    detail_b = reverse("tracing:push_detail", args=[pushed.push_b.pk])

    by_command = _client(pushed.command).get(reverse("web:search"), {"q": pushed.push_b.number})
    lower = _client(pushed.town_a).get(reverse("web:search"), {"q": pushed.push_a.number.lower()})
    prefix = pushed.push_a.number.split("-", 1)[0]
    listed = _client(pushed.command).get(reverse("web:search"), {"q": prefix})

    assert by_command.status_code == 302 and by_command["Location"] == detail_b
    assert lower.status_code == 302 and lower["Location"] == detail_a
    assert listed.status_code == 200
    assert sorted(_hits(listed)) == sorted([pushed.push_a.number, pushed.push_b.number])
    # The hit names the town, never a person on the list.
    assert pushed.tree.town_a.name in _main(listed)


def test_a_town_searching_another_towns_push_number_gets_what_nothing_gets(
    pushed: Any,
) -> None:
    client = _client(pushed.town_a)
    other_number = pushed.push_b.number
    absent = other_number[:-4] + "9999"

    other = client.get(reverse("web:search"), {"q": other_number})
    nothing = client.get(reverse("web:search"), {"q": absent})

    assert other.status_code == nothing.status_code == 200
    assert _hits(other) == _hits(nothing) == []
    assert _main(other).replace(other_number, "Q") == _main(nothing).replace(absent, "Q")
    assert reverse("tracing:push_detail", args=[pushed.push_b.pk]) not in _main(other)


def test_the_push_search_is_a_bounded_number_of_queries(pushed: Any) -> None:
    from fangkong.tracing.selectors.pushes import push_find

    prefix = pushed.push_a.number.split("-", 1)[0]
    with CaptureQueriesContext(connection) as queries:
        hits = push_find(user=pushed.command, q=prefix, limit=10)

    assert len(hits) == 2
    assert len(queries) <= 3


# --- Zones -------------------------------------------------------------------------------


def test_a_zone_is_found_by_its_name_across_the_city(
    tree: Any, town_a_user: Any, command_user: Any
) -> None:
    sealed = areas.zone(tree.community_b, ZoneLevel.SEALED, name="东栅社区封控区")
    areas.zone(tree.community_a, ZoneLevel.CONTROLLED, name="虹桥村管控区")

    exact = _client(town_a_user).get(reverse("web:search"), {"q": "东栅社区封控区"})
    part = _client(command_user).get(reverse("web:search"), {"q": "东栅"})

    # Zones are public within the city: town A finds town B's zone, as the zone list shows it.
    assert exact.status_code == 302
    assert exact["Location"] == reverse("areas:zone_detail", args=[sealed.pk])
    assert part.status_code == 200 and _hits(part) == ["东栅社区封控区"]
    assert _hits(_client(command_user).get(reverse("web:search"), {"q": "nonesuch"})) == []


def test_several_zones_by_part_of_their_name_are_listed_with_their_level(
    tree: Any, command_user: Any
) -> None:
    areas.zone(tree.community_b, ZoneLevel.SEALED, name="东栅社区封控区")
    areas.zone(tree.community_a, ZoneLevel.CONTROLLED, name="虹桥村管控区")

    response = _client(command_user).get(reverse("web:search"), {"q": "控区"})

    assert response.status_code == 200
    hits = _hits(response)
    assert "东栅社区封控区" in hits and "虹桥村管控区" in hits
    assert "封控区 · " in _main(response)


def test_a_zone_of_another_city_is_not_found(tree: Any, command_user: Any, make_user: Any) -> None:
    from fangkong.accounts.roles import Role
    from fangkong.testkit.fixtures import _node

    other_city = _node("city", "330482", "平湖市")
    other_town = _node("town", "330482101", "当湖街道", other_city)
    other_command = make_user(Role.COMMAND, other_city, "command-other")
    areas.zone(other_town, ZoneLevel.SEALED, name="当湖封控区", actor=other_command)

    response = _client(command_user).get(reverse("web:search"), {"q": "当湖"})

    assert response.status_code == 200 and _hits(response) == []


# --- Jurisdictions -----------------------------------------------------------------------


def test_a_town_and_a_community_are_found_by_name_and_lead_to_their_row(
    tree: Any, town_a_user: Any
) -> None:
    client = _client(town_a_user)

    town = client.get(reverse("web:search"), {"q": "濮院镇"})
    community = client.get(reverse("web:search"), {"q": "虹桥村"})

    base = reverse("areas:jurisdiction_list")
    assert town.status_code == 302
    assert town["Location"] == f"{base}?depth=1#j{tree.town_b.path}"
    assert community.status_code == 302
    assert community["Location"] == f"{base}?depth=2#j{tree.community_a.path}"
    # The row the hit leads to is there, with that anchor.
    page = client.get(f"{base}?depth=2")
    assert f'id="j{tree.community_a.path}"' in page.content.decode()


def test_towns_by_part_of_a_name_are_listed_and_grids_are_not(tree: Any, command_user: Any) -> None:
    response = _client(command_user).get(reverse("web:search"), {"q": "虹桥"})

    assert response.status_code == 200
    # The community, not its grid (虹桥村第一网格): grids are not searched.
    assert _hits(response) == ["虹桥村"]


def test_roles_without_the_capability_find_no_pushes(pushed: Any, make_user: Any) -> None:
    from fangkong.accounts.roles import ROLE_CAPABILITIES, Role

    role = next(
        r for r in Role if "push.view" not in ROLE_CAPABILITIES.get(r, ()) and r != Role.COMMAND
    )
    user = make_user(role, pushed.tree.town_a, "no-push")

    response = _client(user).get(reverse("web:search"), {"q": pushed.push_a.number})

    assert response.status_code in (200, 403)
    if response.status_code == 200:
        assert pushed.push_a.number not in _hits(response)
