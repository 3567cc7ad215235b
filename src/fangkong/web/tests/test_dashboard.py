"""The home page: a scoped, cached command dashboard, or a landing page for other roles."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.urls import reverse

from fangkong.accounts.roles import Role
from fangkong.core.errors import PermissionDenied
from fangkong.web.selectors import dashboard_cache_clear, dashboard_figures


def _figure(page: str, name: str) -> int:
    match = re.search(
        rf'data-figure="{name}">\s*<div class="kpi-label">.*?</div>\s*'
        r'<div class="kpi-value">(\d+)</div>',
        page,
        re.S,
    )
    assert match, f"figure {name} not on the page"
    return int(match.group(1))


@pytest.fixture
def two_towns(tree: Any, add_person: Any, add_household: Any, add_place: Any, add_zone: Any) -> Any:
    """Town A: 3 persons, 1 household, 2 places, a sealed zone.
    Town B: 5 persons, 2 households, 1 place, a controlled zone and a precaution zone."""
    household_a = add_household(tree.community_a)
    for _ in range(2):
        add_person(tree.community_a, household=household_a)
    add_person(tree.grid_a)
    for _ in range(5):
        add_person(tree.community_b)
    add_household(tree.community_b)
    add_household(tree.community_b)
    add_place(tree.community_a, "venue")
    add_place(tree.town_a, "sampling_point")
    add_place(tree.community_b, "venue")
    add_zone(tree.community_a, "sealed")
    add_zone(tree.community_b, "controlled")
    add_zone(tree.town_b, "precaution")
    return tree


def test_anonymous_is_sent_to_login(client: Any) -> None:
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert "next=/" in response["Location"]


def test_dashboard_figures_are_scoped_to_the_users_town(
    two_towns: Any, town_a_user: Any, town_b_user: Any, command_user: Any
) -> None:
    a = dashboard_figures(user=town_a_user)
    b = dashboard_figures(user=town_b_user)
    city = dashboard_figures(user=command_user)

    assert (a["persons"], a["households"], a["places_total"]) == (3, 1, 2)
    assert a["zones"] == {"sealed": 1, "controlled": 0, "precaution": 0}
    assert a["jurisdictions"]["town"] == 1 and a["jurisdictions"]["community"] == 1
    assert (b["persons"], b["households"], b["places_total"]) == (5, 2, 1)
    assert b["zones"] == {"sealed": 0, "controlled": 1, "precaution": 1}
    assert (city["persons"], city["households"], city["places_total"]) == (8, 3, 3)
    assert city["zones_total"] == 3
    assert city["jurisdictions"]["town"] == 2 and city["jurisdictions"]["community"] == 2
    # The chart: per town for the city, per community for a town; nothing of town B in A's.
    assert {r["name"]: r["persons"] for r in city["persons_by_area"]} == {"濮院镇": 5, "乌镇镇": 3}
    assert [(r["name"], r["persons"]) for r in a["persons_by_area"]] == [("虹桥村", 3)]
    assert all(not r["path"].startswith(two_towns.town_b.path) for r in a["persons_by_area"])
    assert {r["kind"]: r["count"] for r in a["places_by_kind"]} == {"venue": 1, "sampling_point": 1}


def test_dashboard_page_shows_only_the_users_town(
    two_towns: Any, town_a_user: Any, client: Any
) -> None:
    client.force_login(town_a_user)

    response = client.get("/")

    assert response.status_code == 200
    page = response.content.decode()
    assert _figure(page, "persons") == 3
    assert _figure(page, "households") == 1
    assert _figure(page, "places") == 2
    assert _figure(page, "zones-sealed") == 1
    assert _figure(page, "zones-controlled") == 0
    assert "乌镇镇" in page
    assert "濮院镇" not in page and "永越村" not in page
    chart = json.loads(re.search(r'id="chart-data"[^>]*>(.*?)</script>', page, re.S).group(1))
    assert chart["names"] == ["虹桥村"] and chart["persons"] == [3]


def test_figures_are_cached_per_scope_for_a_minute(
    two_towns: Any, town_a_user: Any, town_b_user: Any, add_person: Any
) -> None:
    before = dashboard_figures(user=town_a_user)["persons"]
    add_person(two_towns.community_a)

    cached = dashboard_figures(user=town_a_user)["persons"]
    other_scope = dashboard_figures(user=town_b_user)["persons"]
    dashboard_cache_clear(scope=two_towns.town_a.path)
    fresh = dashboard_figures(user=town_a_user)["persons"]

    assert (before, cached, other_scope, fresh) == (3, 3, 5, 4)


def test_cached_dashboard_costs_no_aggregate_queries(
    two_towns: Any, command_user: Any, django_assert_max_num_queries: Any
) -> None:
    dashboard_figures(user=command_user)

    with django_assert_max_num_queries(0):
        figures = dashboard_figures(user=command_user)
    assert figures["persons"] == 8


def test_computing_the_figures_takes_a_fixed_number_of_queries(
    two_towns: Any, command_user: Any, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(8):
        dashboard_figures(user=command_user)


def test_dashboard_never_500s_with_an_empty_database(
    tree: Any, command_user: Any, client: Any
) -> None:
    client.force_login(command_user)

    response = client.get("/")

    assert response.status_code == 200
    page = response.content.decode()
    assert _figure(page, "persons") == 0
    assert "辖区内暂无场所" in page


def test_dashboard_with_no_jurisdiction_at_all(db: None, client: Any) -> None:
    from fangkong.accounts.models import User

    user = User.objects.create_user(username="unbound", password="x-Fangkong-2022", role="command")
    client.force_login(user)

    response = client.get("/")

    assert response.status_code == 200
    assert _figure(response.content.decode(), "persons") == 0


def test_dashboard_selector_refuses_roles_without_dashboard_view(tree: Any, make_user: Any) -> None:
    lab = make_user(Role.LAB, tree.town_a)

    with pytest.raises(PermissionDenied):
        dashboard_figures(user=lab)


def test_map_container_and_only_local_assets(tree: Any, command_user: Any, client: Any) -> None:
    client.force_login(command_user)

    page = client.get("/").content.decode()

    assert 'id="zone-map"' in page
    assert 'id="persons-chart"' in page
    sources = re.findall(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="([^"]*)"', page)
    assert any(s.endswith("vendor/leaflet/leaflet.js") for s in sources)
    assert any(s.endswith("vendor/echarts/echarts.min.js") for s in sources)
    assert any(s.endswith("vendor/leaflet/leaflet.css") for s in sources)
    assert [s for s in sources if "//" in s] == []
    assert "http://" not in page and "https://" not in page
    config = json.loads(re.search(r'id="map-config"[^>]*>(.*?)</script>', page, re.S).group(1))
    assert config["url"] == "/api/areas/map.geojson"
    assert config["level"] == "town"


def test_town_staff_map_starts_at_community_level(tree: Any, town_a_user: Any, client: Any) -> None:
    client.force_login(town_a_user)

    page = client.get("/").content.decode()

    config = json.loads(re.search(r'id="map-config"[^>]*>(.*?)</script>', page, re.S).group(1))
    assert config["level"] == "community"


@pytest.mark.parametrize(
    ("role", "expected_links", "absent"),
    [
        (Role.SAMPLER, {"places", "jurisdictions"}, {"people", "dashboard"}),
        (Role.LAB, {"places", "jurisdictions"}, {"people", "dashboard"}),
        (Role.COMMUNITY_WORKER, {"people", "zones"}, {"dashboard", "audit"}),
        (Role.PUBLICITY, {"zones"}, {"people", "dashboard"}),
        (Role.SITE_STAFF, {"people"}, {"dashboard"}),
    ],
)
def test_roles_without_the_dashboard_get_a_landing_page(
    role: str,
    expected_links: set[str],
    absent: set[str],
    tree: Any,
    make_user: Any,
    client: Any,
) -> None:
    user = make_user(role, tree.community_a)
    client.force_login(user)

    response = client.get("/")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="zone-map"' not in page
    assert 'data-testid="landing-who"' in page
    assert str(user.get_role_display()) in page
    assert "桐乡市" in page and "乌镇镇" in page and "虹桥村" in page  # the chain of the scope
    links = page.split('data-testid="landing-links"', 1)
    tiles = set(
        re.findall(
            r'class="tile" href="[^"]*" data-nav="(\w+)"', links[1] if len(links) > 1 else ""
        )
    )
    assert expected_links <= tiles
    assert not tiles & absent


def test_landing_page_names_the_users_place(
    tree: Any, make_user: Any, add_place: Any, client: Any
) -> None:
    point = add_place(tree.community_a, "sampling_point", "虹桥村核酸采样点")
    sampler = make_user(Role.SAMPLER, tree.community_a)
    sampler.place = point
    sampler.save()
    client.force_login(sampler)

    page = client.get("/").content.decode()

    assert "虹桥村核酸采样点" in page
    assert "采样点" in page
    assert "离线" in page  # the role's work is described
