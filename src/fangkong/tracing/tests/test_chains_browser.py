"""Browser: the chain graph page draws a canvas with ECharts for a small chain."""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.accounts.roles import Role
from fangkong.tracing.services.chains import case_link_create

from .conftest_chains import make_case, make_contact, make_person


@pytest.mark.browser
def test_chain_graph_draws_a_canvas(
    live_server: Any, browser_page: Any, tree: Any, make_user: Any
) -> None:
    investigator = make_user(Role.INVESTIGATOR, tree.city, "investigator-b")
    a = make_case(tree.community_a, "赵大")
    b = make_case(tree.community_a, "钱二")
    case_link_create(actor=investigator, infector=a, infectee=b)
    make_contact(make_person(tree.community_a, "李密"), source_case=b)
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
    assert graph.get_attribute("data-nodes") == "3"
    series = page.evaluate(
        "() => window.fangkongChainGraph.getOption().series[0].data.map(n => n.raw.kind)"
    )
    assert sorted(series) == ["case", "case", "close"]
    box = graph.locator("canvas").first.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 200
