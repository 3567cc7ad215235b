"""In a real browser: town staff create a round for 乌镇镇, see the planner, ask the
pool-size advisor (htmx, in place) and open the round."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from fangkong.testing.models import Round, RoundStatus
from fangkong.testkit.worlds.rounds import build_world


@pytest.mark.browser
def test_create_a_round_for_wuzhen_and_use_planner_and_advisor(
    transactional_db: None, live_server: Any, browser_page: Any, tree: Any, make_user: Any
) -> None:
    world = build_world(tree, make_user)
    client = Client()
    client.force_login(world.town_a_user)
    browser_page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = browser_page
    page.goto(live_server.url + reverse("testing:round_list"))
    page.get_by_test_id("round-create-link").click()
    page.get_by_test_id("round-name").fill("乌镇镇第一轮全员核酸")
    page.get_by_test_id("round-start").fill("2022-07-10T06:00")
    page.locator('[data-testid=scope-town][data-name="乌镇镇"]').check()
    page.get_by_test_id("round-submit").click()

    page.get_by_test_id("planner").wait_for()
    row = page.locator('[data-testid=planner-row][data-town="乌镇镇"]')
    assert row.locator('[data-figure="population"]').inner_text() == "15"
    assert row.locator('[data-figure="tubes-1"]').inner_text() == "7"
    assert page.get_by_test_id("best-k").inner_text() == "11"

    page.get_by_test_id("prevalence").fill("5")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=best-k]').textContent.trim() === '5'"
    )
    assert page.get_by_test_id("tests-per-person").inner_text() == "0.4262"

    page.get_by_test_id("round-open").click()
    page.locator('[data-testid=round-status][data-status="open"]').wait_for()
    rnd = Round.objects.get(name="乌镇镇第一轮全员核酸")
    assert rnd.status == RoundStatus.OPEN and rnd.target_count == 15
    assert page.get_by_test_id("round-targets").inner_text() == "15"
