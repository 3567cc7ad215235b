"""In a real browser: a community worker opens her community's untested list, and the
round dashboard draws its ECharts charts."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from fangkong.testkit import testing
from fangkong.testkit.shell import nav_click
from fangkong.testkit.worlds.coverage import build_world


def _login(page: Any, live_server: Any, user: Any) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


@pytest.mark.browser
def test_community_worker_opens_her_untested_list_and_the_dashboard(
    transactional_db: None, live_server: Any, browser_page: Any, tree: Any, make_user: Any
) -> None:
    world = build_world(tree, make_user)
    _login(browser_page, live_server, world.users["worker_a"])

    browser_page.goto(live_server.url + "/")
    nav_click(browser_page, "coverage")
    browser_page.get_by_test_id("own-untested").first.click()

    rows = browser_page.get_by_test_id("untested-list").locator("tbody tr")
    rows.first.wait_for()
    assert rows.count() == 3
    text = browser_page.get_by_test_id("untested-list").inner_text()
    assert "赵*华" in text and "赵丽华" not in text
    assert "虹桥村" in browser_page.get_by_test_id("community-name").inner_text()
    assert "未采样 3 人" in browser_page.get_by_test_id("untested-counts").inner_text()

    browser_page.goto(
        live_server.url + reverse("testing:coverage_dashboard", args=[world.round.pk])
    )
    browser_page.wait_for_function(
        "() => document.documentElement.dataset.coverageCharts === 'drawn'"
    )
    assert browser_page.locator("#coverage-town-chart canvas").count() == 1
    assert browser_page.locator("#coverage-hour-chart canvas").count() == 1
    table = browser_page.get_by_test_id("coverage-table").inner_text()
    assert "乌镇镇" in table and "濮院镇" not in table  # her town only
    sampled = browser_page.locator('#coverage-live [data-figure="sampled"] .kpi-value')
    assert sampled.inner_text() == "3"

    # A resident is sampled; the next poll (fired here at once) shows it, charts redrawn.
    testing.tube(world.round, testing.point(tree.town_a), [world.persons["a4"]])
    cache.clear()
    browser_page.evaluate(
        "() => { const live = document.getElementById('coverage-live');"
        " return htmx.ajax('GET', live.getAttribute('hx-get'),"
        " {target: live, swap: 'outerHTML'}); }"
    )
    browser_page.wait_for_function(
        "() => document.querySelector('#coverage-live [data-figure=\"sampled\"] .kpi-value')"
        ".textContent.trim() === '4'"
    )
    browser_page.wait_for_function(
        "() => Number(document.documentElement.dataset.coverageDraws) >= 2"
    )
    bars = browser_page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('coverage-town-chart'))"
        ".getOption().series[1].data"
    )
    assert bars == [4]
