"""In a real browser (issue 13, zones in operation): command draws a zone from the
checklist (searching it) and from the map (clicking a community), and confirms the
downgrade the system proposes."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from fangkong.areas.models import Zone, ZoneMember
from fangkong.areas.services import zones as zone_services
from fangkong.areas.services.areas import jurisdiction_set_geometry
from fangkong.areas.tests.conftest import DAY0, day
from fangkong.testkit.actors import actor_or_admin

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[120.5, 30.6], [120.6, 30.6], [120.6, 30.7], [120.5, 30.7], [120.5, 30.6]]],
}


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


def _fill_and_submit(page: Any, name: str) -> None:
    page.fill("input[name=name]", name)
    page.select_option("select[name=level]", "controlled")
    page.fill("input[name=started_on]", DAY0.isoformat())
    page.fill("textarea[name=reason]", "发现阳性")
    page.get_by_role("button", name="划定").click()
    page.wait_for_url("**/areas/zones/*/")


@pytest.mark.browser
def test_draw_a_zone_from_the_checklist_and_from_the_map(
    transactional_db: None,
    live_server: Any,
    browser_page: Any,
    manager: Any,
    tree: Any,
    ruleset: Any,
) -> None:
    jurisdiction_set_geometry(
        actor=actor_or_admin(None), jurisdiction=tree.community_a, geojson=SQUARE
    )
    page = browser_page
    _login(page, live_server, manager)

    # From the checklist: search it, tick the community the search shows.
    page.goto(live_server.url + reverse("areas:zone_create"))
    page.get_by_test_id("member-filter").fill("永越")
    option = page.locator("label.member-option:visible", has_text="永越村")
    assert option.count() == 1
    assert page.locator("label.member-option:visible", has_text="虹桥村").count() == 0
    option.locator("input").check()
    assert "已选 1 处" in page.locator("[data-picked-count]").inner_text()
    _fill_and_submit(page, "永越村管控区")
    zone = Zone.objects.get(name="永越村管控区")
    assert list(ZoneMember.objects.filter(zone=zone).values_list("jurisdiction", flat=True)) == [
        tree.community_b.pk
    ]

    # From the map: click the community's polygon; its box in the checklist is ticked.
    page.goto(live_server.url + reverse("areas:zone_create"))
    page.wait_for_selector("[data-testid=zone-pick-map][data-features='1']")
    page.locator("[data-testid=zone-pick-map] path.leaflet-interactive").first.click()
    box = page.locator(f"input[name=member_jurisdictions][value='{tree.community_a.pk}']")
    assert box.is_checked()
    assert page.get_by_test_id("zone-pick-map").get_attribute("data-picked") == "1"
    _fill_and_submit(page, "虹桥村管控区")
    zone = Zone.objects.get(name="虹桥村管控区")
    assert list(ZoneMember.objects.filter(zone=zone).values_list("jurisdiction", flat=True)) == [
        tree.community_a.pk
    ]


@pytest.mark.browser
def test_command_confirms_a_proposal_from_the_list(
    transactional_db: None, live_server: Any, browser_page: Any, make_zone: Any, manager: Any
) -> None:
    zone = make_zone()
    for n in range(1, 8):
        zone = zone_services.zone_close_day(zone=zone, day=day(n))
    zone_services.zone_record_screening(
        actor=manager, zone=zone, on_date=day(7), all_negative=True, reason="第7天全员筛查"
    )
    page = browser_page
    _login(page, live_server, manager)
    page.goto(live_server.url + reverse("areas:zone_list"))
    page.get_by_test_id("zone-proposals").get_by_role("link", name="虹桥村封控区").click()
    card = page.get_by_test_id("zone-proposal")
    assert "系统建议：降级为管控区" in card.inner_text()
    card.get_by_role("button", name="确认降级").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=zone-level]').innerText === '管控区'"
    )
    assert page.get_by_test_id("zone-proposal").count() == 0
    assert "确认系统降级建议" in page.get_by_test_id("zone-history").inner_text()
    zone.refresh_from_db()
    assert (zone.level, zone.downgrade_proposed_on) == ("controlled", None)
