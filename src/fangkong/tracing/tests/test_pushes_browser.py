"""In a real browser: a town's list counts down, a person is marked controlled in place,
and marking the last pending person shows the list done without a reload."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from fangkong.testkit.worlds.pushes import build_world
from fangkong.tracing.models import ContactStatus, PushItem
from fangkong.tracing.services import pushes as services


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
def test_town_user_marks_a_person_controlled_in_place(
    transactional_db: None, live_server: Any, browser_page: Any, tree: Any, make_user: Any
) -> None:
    world = build_world(tree, make_user)
    services.pushes_create_for_case(actor=world.investigator, case=world.case)
    item = PushItem.objects.get(contact=world.contacts["a1"])
    _login(browser_page, live_server, world.town_a)

    browser_page.goto(live_server.url + reverse("tracing:push_list"))
    countdown = browser_page.locator("time.countdown").first
    # The countdown reads as words, in whole minutes (the deadline is hours away).
    assert re.fullmatch(r"剩余 \d+小时(\d+分)?", countdown.inner_text())
    browser_page.get_by_test_id("push-row").get_by_role("link").click()

    row = browser_page.locator(f'tr[data-item="{item.pk}"]')
    row.get_by_test_id("mark-status").select_option("centralised")
    row.get_by_test_id("mark-submit").click()

    browser_page.locator(f'tr[data-item="{item.pk}"][data-status="centralised"]').wait_for()
    assert "已集中隔离" in browser_page.locator(f'tr[data-item="{item.pk}"]').inner_text()
    world.contacts["a1"].refresh_from_db()
    assert world.contacts["a1"].status == ContactStatus.CONTROLLED


@pytest.mark.browser
def test_marking_the_last_pending_person_shows_the_list_done_without_reload(
    transactional_db: None, live_server: Any, browser_page: Any, tree: Any, make_user: Any
) -> None:
    world = build_world(tree, make_user)
    services.pushes_create_for_case(actor=world.investigator, case=world.case)
    for key in ("a1", "a2"):
        item = PushItem.objects.get(contact=world.contacts[key])
        services.push_item_mark(actor=world.town_a, item=item, status="home")
    last = PushItem.objects.get(contact=world.contacts["a3"])
    _login(browser_page, live_server, world.town_a)
    page = browser_page
    page.goto(live_server.url + reverse("tracing:push_detail", args=[last.push_id]))

    summary = page.get_by_test_id("push-summary")
    assert summary.get_attribute("data-status") == "open"
    assert "待核查" in page.get_by_test_id("push-status").inner_text()
    assert page.locator('[data-figure="pending"] .kpi-value').inner_text() == "1"
    assert page.get_by_test_id("countdown").is_visible()
    page.evaluate("() => { window.notReloaded = true; }")

    row = page.locator(f'tr[data-item="{last.pk}"]')
    row.get_by_test_id("mark-status").select_option("hospital")
    row.get_by_test_id("mark-submit").click()

    page.locator('[data-testid="push-summary"][data-status="done"]').wait_for()
    assert page.evaluate("() => window.notReloaded === true")  # swapped in place
    assert "已完成" in page.get_by_test_id("push-status").inner_text()
    assert page.locator('[data-figure="pending"] .kpi-value').inner_text() == "0"
    assert page.locator('[data-figure="hospital"] .kpi-value').inner_text() == "1"
    assert page.get_by_test_id("countdown").count() == 0
    assert "100%" in summary.inner_text()


_PLACEHOLDER_FITS = """(el) => {
  const style = getComputedStyle(el);
  const ctx = document.createElement("canvas").getContext("2d");
  ctx.font = style.font;
  const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return ctx.measureText(el.placeholder).width <= room;
}"""


@pytest.mark.browser
def test_a_list_answered_with_a_person_not_found_says_so_on_a_phone_and_a_desk(
    transactional_db: None, live_server: Any, browser_page: Any, tree: Any, make_user: Any
) -> None:
    world = build_world(tree, make_user)
    services.pushes_create_for_case(actor=world.investigator, case=world.case)
    for key in ("a1", "a2"):
        item = PushItem.objects.get(contact=world.contacts[key])
        services.push_item_mark(actor=world.town_a, item=item, status="home")
    last = PushItem.objects.get(contact=world.contacts["a3"])
    _login(browser_page, live_server, world.town_a)
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + reverse("tracing:push_detail", args=[last.push_id]))

    note = page.locator(f'tr[data-item="{last.pk}"] [data-testid="mark-note"]')
    assert note.evaluate(_PLACEHOLDER_FITS), note.get_attribute("placeholder")
    assert "不在本市须填所在地区" in (note.get_attribute("title") or "")
    row = page.locator(f'tr[data-item="{last.pk}"]')
    row.get_by_test_id("mark-status").select_option("not_found")
    row.get_by_test_id("mark-submit").click()

    page.locator('[data-testid="push-summary"][data-status="done"]').wait_for()
    status = page.get_by_test_id("push-status").inner_text()
    assert "已反馈完毕" in status and "1 人未找到" in status and "已完成" not in status
    warn = page.locator("#push-summary .progress-warn")
    assert warn.evaluate("(el) => el.getBoundingClientRect().width") > 0  # not all green

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + reverse("tracing:push_list"))
    row_status = page.get_by_test_id("push-row-status").first.inner_text()
    assert "已反馈完毕" in row_status and "1 人未找到" in row_status
    page.goto(live_server.url + reverse("tracing:push_detail", args=[last.push_id]))
    assert page.get_by_test_id("mark-note").first.evaluate(_PLACEHOLDER_FITS)
