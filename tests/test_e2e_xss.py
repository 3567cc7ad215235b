"""Stored XSS: names typed by users (cluster, jurisdiction, place, person) are shown as
text in every chart and map tooltip, never run as markup (real browser, Debian chromium).

Each name carries `<img src=x onerror=...>`. The tests assert on the DOM (no <img src=x>
anywhere, the literal text in the tooltip), not only on the script not having run: the
Content-Security-Policy would also stop the handler, and the escaping must hold without it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from fangkong.accounts.roles import Role
from fangkong.areas.models import Level
from fangkong.areas.services.areas import (
    jurisdiction_create,
    jurisdiction_set_geometry,
    place_create,
)
from fangkong.people.services import person_create
from fangkong.testkit import tracing
from fangkong.testkit.clock import TZ as SH
from fangkong.tracing.models import ItineraryStop
from fangkong.tracing.services.chains import cluster_add_case, cluster_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-Fangkong-2022"
PAYLOAD = "<img src=x onerror=window.__xss=1>"
PLANTED = "document.querySelectorAll('img[src=x]').length"


def _square(dx: float) -> dict[str, Any]:
    ring = [[120.50 + dx, 30.60], [120.55 + dx, 30.60], [120.55 + dx, 30.65], [120.50 + dx, 30.65]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


@pytest.fixture
def planted(tree: Any, make_user: Any) -> dict[str, Any]:
    """A town, a community, a place, a person and a cluster named with the payload."""
    from django.core.cache import cache

    cache.clear()  # the dashboard caches its figures per scope for a minute
    admin = make_user(Role.ADMIN, tree.city, "xss-admin")
    make_user(Role.INVESTIGATOR, tree.city, "xss-investigator")
    make_user(Role.COMMAND, tree.city, "xss-command")
    town = jurisdiction_create(
        actor=admin, parent=tree.city, level=Level.TOWN, name="镇" + PAYLOAD, code_suffix="109"
    )
    community = jurisdiction_create(
        actor=admin, parent=town, level=Level.COMMUNITY, name="村" + PAYLOAD, code_suffix="001"
    )
    jurisdiction_set_geometry(actor=admin, jurisdiction=town, geojson=_square(0.0))
    jurisdiction_set_geometry(actor=admin, jurisdiction=community, geojson=_square(0.0))
    jurisdiction_set_geometry(actor=admin, jurisdiction=tree.town_a, geojson=_square(0.1))
    place = place_create(
        actor=admin,
        kind="venue",
        name="店" + PAYLOAD,
        jurisdiction=community,
        venue_code="XSS0001",
        lat=30.62,
        lon=120.52,
    )
    person = person_create(actor=admin, name="人" + PAYLOAD, id_kind="none", jurisdiction=community)
    case = tracing.case(person)
    tracing.stop(case, place, dt.datetime(2022, 7, 3, 8, 0, tzinfo=SH))
    tracing.stop(case, None, dt.datetime(2022, 7, 3, 12, 0, tzinfo=SH))  # an address, no place
    cluster = cluster_create(actor=admin, name="聚集" + PAYLOAD)
    cluster_add_case(actor=admin, cluster=cluster, case=case)
    person_create(actor=admin, name="居民", id_kind="none", jurisdiction=community)
    return {"case": case, "town": town, "community": community}


def _login(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url


# Installed before any page script: records every innerHTML write that carries a planted
# name (escaped or not). Leaflet takes nodes, so a name must never reach its markup path;
# the ECharts chart's own tooltip (HTML by design, escaped) is left out.
HTML_WRITES = """
window.__htmlWrites = [];
(() => {
  const own = Object.getOwnPropertyDescriptor(Element.prototype, "innerHTML");
  Object.defineProperty(Element.prototype, "innerHTML", {
    configurable: true,
    get: own.get,
    set(value) {
      if (String(value).includes("onerror") && !this.closest("#persons-chart")) {
        window.__htmlWrites.push(String(value));
      }
      own.set.call(this, value);
    },
  });
})();
"""


def _hover_tooltips(page: Any, paths: Any) -> list[str]:
    """The Leaflet tooltip's text over each polygon."""
    texts = []
    for i in range(paths.count()):
        paths.nth(i).hover()
        page.locator(".leaflet-tooltip").last.wait_for()
        texts.append(page.locator(".leaflet-tooltip").last.inner_text())
    return texts


def _outline_tooltip(page: Any) -> str:
    """The case map's tooltip over the planted town's outline.

    Each outline is sent a mouseover (a real mouse move missed the polygon under load,
    while fitBounds was still moving it), until a tooltip names the planted town."""
    paths = page.locator("[data-testid=case-map] .leaflet-overlay-pane path")
    tooltip = page.locator(".leaflet-tooltip").last
    seen = []
    for i in range(paths.count()):
        paths.nth(i).dispatch_event("mouseover")
        try:
            tooltip.wait_for(timeout=3000)
        except PlaywrightTimeout:
            continue
        seen.append(tooltip.inner_text())
        if "镇" + PAYLOAD in seen[-1]:
            return seen[-1]
    return " | ".join(seen)


def _assert_inert(page: Any) -> None:
    assert page.evaluate(PLANTED) == 0, "a planted name became an <img> element"
    assert page.evaluate("window.__xss") is None, "a planted name ran a script"


def test_chain_graph_tooltip_shows_cluster_and_person_names_as_text(
    live_server: Any, browser_page: Any, planted: dict[str, Any]
) -> None:
    page = browser_page
    _login(page, live_server, "xss-investigator")
    page.goto(f"{live_server.url}/tracing/chains/?case={planted['case'].pk}")
    page.locator("[data-testid=chain-graph][data-rendered='1']").wait_for()
    index = page.evaluate(
        "() => window.fangkongChainGraph.getOption().series[0].data"
        ".findIndex(n => n.raw.kind === 'case')"
    )
    page.evaluate(
        "i => window.fangkongChainGraph.dispatchAction("
        "{type: 'showTip', seriesIndex: 0, dataIndex: i})",
        index,
    )
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('[data-testid=chain-graph] div'))"
        ".some(d => d.textContent.includes('聚集<img'))"
    )
    tooltip_text = page.evaluate(
        "() => Array.from(document.querySelectorAll('[data-testid=chain-graph] div'))"
        ".map(d => d.textContent).find(t => t.includes('聚集<img'))"
    )
    assert "聚集" + PAYLOAD in tooltip_text
    _assert_inert(page)


def test_case_map_tooltips_and_popups_show_jurisdiction_and_place_names_as_text(
    live_server: Any, browser_page: Any, planted: dict[str, Any]
) -> None:
    page = browser_page
    _login(page, live_server, "xss-investigator")
    page.goto(f"{live_server.url}/tracing/cases/{planted['case'].pk}/map/")
    page.locator("[data-testid=case-map][data-stops='1']").wait_for()
    # The outline's tooltip (a jurisdiction's name): the planted town fills the view
    # around the stop, so hover near the map's bottom-right corner.
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('[data-testid=case-map] path'))"
        ".some(p => p.getAttribute('d') !== 'M0 0')"
    )
    assert "镇" + PAYLOAD in _outline_tooltip(page)
    # The stop's popup (the place's name).
    page.locator(".stop-marker").first.click()
    assert "店" + PAYLOAD in page.locator(".leaflet-popup-content").inner_text()
    _assert_inert(page)


def test_dashboard_map_shows_jurisdiction_names_as_text(
    live_server: Any, browser_page: Any, planted: dict[str, Any]
) -> None:
    page = browser_page
    _login(page, live_server, "xss-command")
    page.goto(f"{live_server.url}/")
    page.locator("#zone-map[data-features='2']").wait_for()
    # Hover every town until the tooltip names the planted one.
    texts = _hover_tooltips(page, page.locator("#zone-map .leaflet-overlay-pane path"))
    assert any("镇" + PAYLOAD in t for t in texts), texts
    _assert_inert(page)


def test_maps_build_names_as_nodes_never_as_html(
    live_server: Any, browser_page: Any, planted: dict[str, Any]
) -> None:
    """Tooltips, popups and the unlocated list of the case map, and the dashboard's
    tooltips, are DOM nodes: no planted name goes through innerHTML, even escaped."""
    ItineraryStop.objects.filter(place=None).update(address="路" + PAYLOAD)
    page = browser_page
    page.add_init_script(HTML_WRITES)
    _login(page, live_server, "xss-investigator")
    page.goto(f"{live_server.url}/tracing/cases/{planted['case'].pk}/map/")
    page.locator("[data-testid=case-map][data-stops='1']").wait_for()
    page.locator(".stop-marker").first.click()
    popup = page.locator(".leaflet-popup-content")
    assert popup.locator("strong").inner_text() == "1. 店" + PAYLOAD
    unlocated = page.locator("[data-unlocated] li").all_inner_texts()
    assert any(t.startswith("2. 路" + PAYLOAD + " · ") for t in unlocated), unlocated
    assert page.evaluate("window.__htmlWrites") == []
    assert "镇" + PAYLOAD in _outline_tooltip(page)
    assert page.evaluate("window.__htmlWrites") == []
    _assert_inert(page)

    page.goto(f"{live_server.url}/")
    page.locator("#zone-map[data-features='2']").wait_for()
    texts = _hover_tooltips(page, page.locator("#zone-map .leaflet-overlay-pane path"))
    assert any("镇" + PAYLOAD in t for t in texts), texts
    assert page.evaluate("window.__htmlWrites") == []
    _assert_inert(page)
