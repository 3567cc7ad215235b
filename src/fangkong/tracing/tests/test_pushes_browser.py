"""In a real browser: a town's list counts down, and a person is marked controlled in place."""

from __future__ import annotations

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
    browser_page.wait_for_function(
        "() => document.querySelector('time.countdown').textContent.includes(':')"
    )
    assert "剩余" in countdown.inner_text()
    browser_page.get_by_test_id("push-row").get_by_role("link").click()

    row = browser_page.locator(f'tr[data-item="{item.pk}"]')
    row.get_by_test_id("mark-status").select_option("centralised")
    row.get_by_test_id("mark-submit").click()

    browser_page.locator(f'tr[data-item="{item.pk}"][data-status="centralised"]').wait_for()
    assert "已集中隔离" in browser_page.locator(f'tr[data-item="{item.pk}"]').inner_text()
    world.contacts["a1"].refresh_from_db()
    assert world.contacts["a1"].status == ContactStatus.CONTROLLED
