"""In a real browser: the supplies page's one form — pick a stock from the table, receive
into it — and a sampler seeing her point's supplying warehouse, labelled."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from fangkong.testing.models import SupplyKind
from fangkong.testing.selectors import supplies as selectors
from fangkong.testing.services import supplies as services
from fangkong.testkit import areas, people, testing
from fangkong.testkit.clock import at

COUNTED = at(9, 12)  # counted the day before the round's samples


def _login(page: Any, live_server: Any, user: Any) -> None:
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
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
def test_pick_a_stock_receive_into_it_and_the_sampler_sees_her_warehouse(
    transactional_db: None,
    live_server: Any,
    browser_page: Any,
    tree: Any,
    town_a_user: Any,
    town_b_user: Any,
) -> None:
    warehouse = areas.place(tree.town_a, "warehouse", "乌镇物资仓库")
    swabs = services.supply_stock_create(
        actor=town_a_user,
        place=warehouse,
        kind=SupplyKind.SWAB,
        quantity=50,
        low_threshold=10,
        now=COUNTED,
    )
    services.supply_stock_create(
        actor=town_a_user, place=warehouse, kind=SupplyKind.TUBE_10, quantity=20, now=COUNTED
    )
    services.supply_stock_create(
        actor=town_b_user,
        place=areas.place(tree.town_b, "warehouse", "濮院物资仓库"),
        kind=SupplyKind.SWAB,
        quantity=50,
        now=COUNTED,
    )
    point = testing.point(tree.community_a)
    rnd = testing.open_round(tree.town_a)
    testing.tube(rnd, point, people.population([tree.community_a] * 4), pool_size=10)
    page = browser_page

    _login(page, live_server, town_a_user)
    page.goto(f"{live_server.url}/testing/supplies/")
    cell = page.locator(f"[data-testid=supply-row][data-stock='{swabs.pk}']")
    assert cell.locator("[data-figure=consumed]").inner_text() == "4"  # the point's 4 samples
    assert cell.locator("[data-figure=on_hand]").inner_text() == "46"
    assert page.locator("form[data-testid=supply-move]").count() == 1
    cell.locator("[data-testid=supply-pick]").click()
    page.wait_for_function(
        f"() => document.querySelector('select[name=stock]').value === '{swabs.pk}'"
    )
    page.select_option("select[name=action]", "receive")
    page.fill("form[data-testid=supply-move] input[name=quantity]", "30")
    page.fill("form[data-testid=supply-move] input[name=reason]", "夜间到货")
    page.click("form[data-testid=supply-move] button[type=submit]")
    page.wait_for_load_state()
    assert cell.locator("[data-figure=on_hand]").inner_text() == "76"
    assert selectors.stock_get(user=town_a_user, pk=swabs.pk).on_hand == 76  # type: ignore[attr-defined]
    assert "濮院物资仓库" not in page.content()

    _login(page, live_server, testing.sampler(point))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/testing/supplies/")
    assert page.locator("[data-testid=supplier-label]").is_visible()
    assert page.locator("[data-testid=supply-point-note]").is_visible()
    assert "乌镇物资仓库" in page.content() and "濮院物资仓库" not in page.content()
    assert page.locator("form[data-testid=supply-move]").count() == 0  # sampler only views
