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
def test_full_chain_graph_spreads_over_the_canvas_and_legend_is_complete(
    live_server: Any, browser_page: Any, tree: Any, make_user: Any
) -> None:
    """The whole view: three cases, each with its close and other contacts as counted
    groups, spread over the canvas (not a cluster in its middle), no node under another
    node's label, and the legend names the grey groups and the diamond."""
    investigator = make_user(Role.INVESTIGATOR, tree.city, "investigator-f")
    cases = [tracing.case_in(tree.community_a, name) for name in ("孙一", "孙二", "孙三")]
    case_link_create(actor=investigator, infector=cases[0], infectee=cases[1])
    for i, case in enumerate(cases):
        for j in range(2):
            person = people.person(tree.community_a, f"密{i}{j}")
            tracing.contact(person, case=case)
            tracing.contact(
                people.person(tree.community_b, f"伴{i}{j}"), case=case, classification="general"
            )
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "investigator-f")
    page.fill("input[name=password]", "pw-Fangkong-2022")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/tracing/chains/")
    graph = page.locator("[data-testid=chain-graph]")
    graph.locator("canvas").first.wait_for()
    assert graph.get_attribute("data-drawn") == "9"  # 3 cases + 3 x (close, other)
    positions = """() => { const c = window.fangkongChainGraph;
          const d = c.getModel().getSeriesByIndex(0).getData(); const out = [];
          for (let i = 0; i < d.count(); i++) {
            const p = c.convertToPixel({seriesIndex: 0}, d.getItemLayout(i));
            const size = d.getRawDataItem(i).symbolSize;
            out.push({x: p[0], y: p[1], r: size / 2, name: d.getRawDataItem(i).name});
          } return out; }"""
    # The force layout animates frame by frame (fewer frames on a loaded machine): wait
    # until it has settled, nodes moving less than a pixel in half a second.
    drawn = page.evaluate(positions)
    for _ in range(40):
        page.wait_for_timeout(500)
        now = page.evaluate(positions)
        pairs = zip(drawn, now, strict=True)
        moved = max(abs(a["x"] - b["x"]) + abs(a["y"] - b["y"]) for a, b in pairs)
        drawn = now
        if moved < 1:
            break
    box = graph.bounding_box()
    assert box is not None
    xs = [n["x"] for n in drawn]
    ys = [n["y"] for n in drawn]
    assert max(xs) - min(xs) > 0.35 * box["width"]  # it was about a quarter
    assert max(ys) - min(ys) > 0.35 * box["height"]
    label_height, label_half_width = 20, 45  # the label below a node: 11 px text, 3 px gap
    for a in drawn:
        label = (a["x"] - label_half_width, a["y"] + a["r"], a["x"] + label_half_width)
        for b in drawn:
            if a is b:
                continue
            apart = ((a["x"] - b["x"]) ** 2 + (a["y"] - b["y"]) ** 2) ** 0.5
            assert apart > a["r"] + b["r"], (a["name"], b["name"])
            # b's symbol does not cross a's label
            hits = (
                label[0] < b["x"] + b["r"]
                and b["x"] - b["r"] < label[2]
                and label[1] < b["y"] + b["r"]
                and b["y"] - b["r"] < label[1] + label_height
            )
            assert not hits, (a["name"], b["name"])
    legend = page.locator("ul.legend").inner_text()
    assert "其他接触者" in legend and "菱形" in legend


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
