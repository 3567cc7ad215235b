"""The home page: the situation at a glance (command app) for roles with dashboard.view,
or a landing page for other roles."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.urls import reverse

from fangkong.accounts.roles import Role
from fangkong.command.selectors.figures import situation
from fangkong.command.services.figures import figures_refresh
from fangkong.core.errors import PermissionDenied


def _figure(page: str, name: str) -> int:
    match = re.search(
        rf'data-figure="{name}">\s*<div class="kpi-label">.*?</div>\s*'
        r'<div class="kpi-value"><a href="[^"]*">(\d+)</a></div>',
        page,
        re.S,
    )
    assert match, f"figure {name} not on the page"
    return int(match.group(1))


@pytest.fixture
def two_towns(tree: Any, add_zone: Any) -> Any:
    """Town A: a sealed zone. Town B: a controlled zone and a precaution zone."""
    add_zone(tree.community_a, "sealed")
    add_zone(tree.community_b, "controlled")
    add_zone(tree.town_b, "precaution")
    return tree


def test_anonymous_is_sent_to_login(client: Any) -> None:
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert "next=/" in response["Location"]


def test_home_is_the_situation_at_a_glance_for_the_users_town(
    two_towns: Any, town_a_user: Any, client: Any
) -> None:
    figures_refresh()
    client.force_login(town_a_user)

    response = client.get("/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "指挥大屏 · 乌镇镇" in page
    assert _figure(page, "zones-sealed") == 1  # town A's sealed zone
    assert _figure(page, "zones-controlled") == 0  # town B's controlled zone is not A's
    assert "濮院镇" not in page.split('id="map-config"')[0]


def test_dashboard_never_500s_with_an_empty_database(
    tree: Any, command_user: Any, client: Any
) -> None:
    client.force_login(command_user)

    response = client.get("/")

    assert response.status_code == 200
    page = response.content.decode()
    assert _figure(page, "cases-total") == 0
    assert "的数据尚未计算" in page  # no figures computed yet: said, not invented


def test_an_unbound_account_gets_the_landing_page(db: None, client: Any) -> None:
    from fangkong.accounts.models import User

    user = User.objects.create_user(username="unbound", password="x-Fangkong-2022", role="command")
    client.force_login(user)

    response = client.get("/")

    assert response.status_code == 200
    assert 'data-testid="landing-who"' in response.content.decode()


def test_dashboard_selector_refuses_roles_without_dashboard_view(tree: Any, make_user: Any) -> None:
    lab = make_user(Role.LAB, tree.town_a)

    with pytest.raises(PermissionDenied):
        situation(user=lab)


def test_map_container_and_only_local_assets(tree: Any, command_user: Any, client: Any) -> None:
    client.force_login(command_user)

    page = client.get("/").content.decode()

    assert 'id="zone-map"' in page
    sources = re.findall(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="([^"]*)"', page)
    assert any(s.endswith("vendor/leaflet/leaflet.js") for s in sources)
    assert any(s.endswith("vendor/echarts/echarts.min.js") for s in sources)
    assert any(s.endswith("vendor/leaflet/leaflet.css") for s in sources)
    assert [s for s in sources if "//" in s] == []
    assert "http://" not in page and "https://" not in page
    config = json.loads(re.search(r'id="map-config"[^>]*>(.*?)</script>', page, re.S).group(1))
    assert config["url"] == "/api/areas/map.geojson"
    assert config["level"] == "town"  # the city starts on its towns


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
