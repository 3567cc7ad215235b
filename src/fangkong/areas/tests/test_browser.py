"""In a real browser: the zone page's action forms update the panel in place (htmx)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from fangkong.areas.models import ZoneTransition
from fangkong.areas.tests.conftest import day


@pytest.mark.browser
def test_downgrade_refusal_then_case_escalation_in_place(
    transactional_db: None, live_server: Any, browser_page: Any, make_zone: Any, manager: Any
) -> None:
    zone = make_zone(level="controlled")
    client = Client()
    client.force_login(manager)
    browser_page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    browser_page.goto(live_server.url + reverse("areas:zone_detail", args=[zone.pk]))
    assert browser_page.get_by_test_id("zone-level").inner_text() == "管控区"

    form = browser_page.get_by_test_id("form-downgrade")
    form.locator("input[name=on_date]").fill(day(1).isoformat())
    form.locator("input[name=reason]").fill("试降级")
    form.get_by_role("button").click()
    alert = browser_page.locator("[data-error-code=zone_downgrade_not_eligible]")
    alert.wait_for()
    assert "不满足降级条件" in alert.inner_text()

    form = browser_page.get_by_test_id("form-record_case")
    form.locator("input[name=on_date]").fill(day(2).isoformat())
    form.locator("input[name=reason]").fill("新增阳性")
    form.get_by_role("button").click()
    browser_page.wait_for_function(
        "() => document.querySelector('[data-testid=zone-level]').innerText === '封控区'"
    )
    assert "新增阳性" in browser_page.get_by_test_id("zone-history").inner_text()
    assert ZoneTransition.objects.filter(zone=zone, action="escalate").count() == 1


@pytest.mark.browser
def test_zone_page_shows_the_case_reported_at_home_and_the_rule_set_in_words(
    transactional_db: None, live_server: Any, browser_page: Any, make_zone: Any, manager: Any
) -> None:
    # A case reported by tracing for a person living in the sealed community.
    from fangkong.testkit import people, tracing
    from fangkong.testkit.clock import on

    zone = make_zone()
    tracing.case(
        people.person(zone.members.get().jurisdiction),
        sampled_on=day(1),
        reported_at=on(day(1), 9, 30),
    )
    client = Client()
    client.force_login(manager)
    browser_page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    browser_page.goto(live_server.url + reverse("areas:zone_detail", args=[zone.pk]))

    assert browser_page.get_by_test_id("zone-last-case").inner_text() == day(1).isoformat()
    ruleset = browser_page.get_by_test_id("zone-ruleset")
    assert ruleset.inner_text() == "新型冠状病毒肺炎防控方案（第九版）"
    assert "病例" in browser_page.get_by_test_id("zone-history").inner_text()
    ruleset.get_by_role("link").click()
    browser_page.wait_for_url("**/protocol/**")
    assert "第九版" in browser_page.locator("h1").inner_text()
