"""Browser: the chain graph page draws a canvas with ECharts for a small chain; the case
map draws numbered stops with Leaflet."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from fangkong.accounts.roles import Role
from fangkong.testkit import areas, people, tracing
from fangkong.testkit.clock import TZ as SH
from fangkong.tracing.services.chains import case_link_create


@pytest.mark.browser
def test_chain_graph_draws_a_canvas(
    live_server: Any, browser_page: Any, tree: Any, make_user: Any
) -> None:
    investigator = make_user(Role.INVESTIGATOR, tree.city, "investigator-b")
    a = tracing.case_in(tree.community_a, "赵大")
    b = tracing.case_in(tree.community_a, "钱二")
    case_link_create(actor=investigator, infector=a, infectee=b)
    for name in ("李密", "周密", "吴密"):
        tracing.contact(people.person(tree.community_a, name), case=b)
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "investigator-b")
    page.fill("input[name=password]", "pw-Fangkong-2022")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/tracing/chains/?case={b.pk}")
    graph = page.locator("[data-testid=chain-graph]")
    graph.locator("canvas").first.wait_for()
    assert graph.get_attribute("data-rendered") == "1"
    assert graph.get_attribute("data-nodes") == "5"
    # The case's three close contacts are drawn as one counted node ...
    series = page.evaluate(
        "() => window.fangkongChainGraph.getOption().series[0].data.map(n => n.raw.kind)"
    )
    assert sorted(series) == ["case", "case", "close"]
    assert graph.get_attribute("data-drawn") == "3"
    box = graph.locator("canvas").first.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 200
    # ... which a click expands into the three persons.
    page.wait_for_timeout(1500)  # the force layout settles
    at = page.evaluate(
        """() => { const c = window.fangkongChainGraph;
          const d = c.getModel().getSeriesByIndex(0).getData();
          for (let i = 0; i < d.count(); i++) {
            const raw = d.getRawDataItem(i).raw;
            if (raw.aggregate) {
              return [raw.count, c.convertToPixel({seriesIndex: 0}, d.getItemLayout(i))];
            }
          } return null; }"""
    )
    assert at is not None and at[0] == 3
    page.mouse.click(box["x"] + at[1][0], box["y"] + at[1][1])
    page.wait_for_function(
        "() => document.querySelector('[data-testid=chain-graph]').dataset.drawn === '5'"
    )


@pytest.mark.browser
def test_case_map_draws_numbered_stops(
    live_server: Any, browser_page: Any, tree: Any, make_user: Any
) -> None:
    make_user(Role.INVESTIGATOR, tree.city, "investigator-m")
    case = tracing.case_in(tree.community_a)
    hotel = areas.place(tree.community_a, "venue", "酒店", venue_code="M1", lat=30.74, lon=120.49)
    market = areas.place(
        tree.community_a, "venue", "菜市场", venue_code="M2", lat=30.75, lon=120.50
    )
    tracing.stop(case, hotel, dt.datetime(2022, 7, 3, 8, 0, tzinfo=SH))
    tracing.stop(case, market, dt.datetime(2022, 7, 3, 12, 0, tzinfo=SH))
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "investigator-m")
    page.fill("input[name=password]", "pw-Fangkong-2022")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/tracing/cases/{case.pk}/map/")
    page.locator("[data-testid=case-map][data-stops='2']").wait_for()
    assert page.locator(".stop-marker").all_inner_texts() == ["1", "2"]
    page.locator(".stop-marker").first.click()
    assert "酒店" in page.locator(".leaflet-popup-content").inner_text()
