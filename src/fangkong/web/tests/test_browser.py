"""The home page in a real browser: command's situation at a glance (the curve and the
Leaflet map from /api/areas/map.geojson, coloured by zone level, with no tile server and
nothing external), and a phone-sized landing page."""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.accounts.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-Fangkong-2022"


def _command_user(tree: Any) -> Any:
    try:
        from fangkong.accounts.services import user_create
    except ImportError:  # pragma: no cover - accounts service not there
        from fangkong.accounts.models import User

        return User.objects.create_user(
            username="browser-command",
            password=PASSWORD,
            role=Role.COMMAND,
            jurisdiction=tree.city,
            scope_path=tree.city.path,
        )
    return user_create(
        username="browser-command", password=PASSWORD, role=Role.COMMAND, jurisdiction=tree.city
    )


def _log_in(page: Any, live_server: Any, username: str) -> None:
    """Through the login page (accounts:login)."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")
    assert "/accounts/login/" not in page.url, "login failed"


def test_command_sees_the_curve_and_the_map_with_case_points(
    live_server: Any,
    browser_page: Any,
    tree: Any,
    set_geometry: Any,
    add_zone: Any,
    data_admin: Any,
) -> None:
    """The situation at a glance in a browser: the epidemic curve drawn by ECharts, the
    community map coloured by zone level with a case point where a case lives, nothing
    external and no console error."""
    import datetime as dt

    from django.utils import timezone

    from fangkong.command.services.figures import figures_refresh
    from fangkong.testkit import tracing as tracing_kit

    set_geometry(tree.town_a, dx=0.0)
    set_geometry(tree.town_b, dx=0.06)
    set_geometry(tree.community_a, dx=0.0)
    add_zone(tree.community_a, "sealed")
    tracing_kit.case_in(
        tree.community_a, reported_at=timezone.now() - dt.timedelta(hours=1), actor=data_admin
    )
    figures_refresh()
    user = _command_user(tree)
    external: list[str] = []
    errors: list[str] = []
    browser_page.on(
        "request",
        lambda r: external.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    browser_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    browser_page.on("pageerror", lambda e: errors.append(str(e)))

    _log_in(browser_page, live_server, user.username)
    browser_page.goto(f"{live_server.url}/")
    browser_page.wait_for_selector("#zone-map[data-case-points]")

    paths = browser_page.locator("#zone-map .leaflet-overlay-pane path")
    assert browser_page.locator("#zone-map").get_attribute("data-features") == "2"
    assert browser_page.locator("#zone-map").get_attribute("data-case-points") == "1"
    fills = {paths.nth(i).get_attribute("fill") for i in range(paths.count())}
    # 乌镇镇 holds a sealed community and the case; 濮院镇 neither.
    assert {"#dc2626", "#9ca3af", "#7f1d1d"} <= fills
    assert browser_page.locator("#epi-curve canvas").count() >= 1
    assert browser_page.locator("#epi-curve").get_attribute("data-ready") == "1"
    # The toggle switches to the communities; the case point stays where the case lives.
    browser_page.click("[data-map-level=community]")
    browser_page.wait_for_function(
        "() => document.querySelector('#zone-map').getAttribute('data-level') === 'community'"
        " && document.querySelector('#zone-map').getAttribute('data-features') === '1'"
        " && document.querySelector('#zone-map').getAttribute('data-case-points') === '1'"
    )
    assert external == []  # no tile server, no CDN
    assert errors == []


def test_phone_sized_landing_page_has_no_horizontal_scroll(
    live_server: Any, browser_page: Any, tree: Any, make_user: Any
) -> None:
    """A sampler on a 375px-wide phone: the page fits the screen."""
    sampler = make_user(Role.SAMPLER, tree.community_a, "browser-sampler", PASSWORD)
    browser_page.set_viewport_size({"width": 375, "height": 740})

    _log_in(browser_page, live_server, sampler.username)
    browser_page.goto(f"{live_server.url}/")
    browser_page.wait_for_selector("[data-testid=landing-who]")

    overflow = browser_page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    # The sampler's main tasks lead the bar as links, beside the 菜单 drawer; the other
    # pages are in the drawer's menus, the current one's marked (the tokens page).
    first = browser_page.locator("[data-testid=main-nav] a").first
    assert first.get_attribute("data-nav") == "sampler"
    assert first.is_visible() and browser_page.locator(".nav-drawer > summary").is_visible()
    browser_page.goto(f"{live_server.url}/accounts/tokens/")
    browser_page.wait_for_load_state("load")
    tokens = browser_page.locator("[data-testid=main-nav] [data-nav=tokens]")
    assert not tokens.is_visible()
    browser_page.click(".nav-drawer > summary")
    group = browser_page.locator("details.nav-group[data-nav-group=system] > summary")
    assert group.get_attribute("class") == "active"
    group.click()
    assert tokens.is_visible() and tokens.get_attribute("aria-current") == "page"
    box = tokens.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    overflow = browser_page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    # Escape closes the open menu and gives the focus back to its name.
    browser_page.keyboard.press("Escape")
    assert not tokens.is_visible()
