"""In a real browser: a town user's bell counts up when a list is pushed to their town
(the page polls; no reload), the notification opens the list and is read from then on;
at 390×844 the bell is in the header too."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from fangkong.notices import selectors
from fangkong.testkit.worlds.pushes import build_world
from fangkong.tracing.services import pushes as push_services


def _login(page: Any, live_server: Any, user: Any) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


@pytest.mark.browser
def test_a_town_user_sees_the_count_rise_after_a_push_and_opens_it(
    transactional_db: None,
    live_server: Any,
    browser_page: Any,
    tree: Any,
    make_user: Any,
    settings: Any,
) -> None:
    settings.FANGKONG_NOTICE_POLL_SECONDS = 1
    world = build_world(tree, make_user)
    page = browser_page
    _login(page, live_server, world.town_a)
    page.goto(live_server.url + reverse("notices:inbox"))
    count = page.get_by_test_id("notice-count")
    assert count.is_hidden()
    assert page.get_by_test_id("inbox-empty").is_visible()
    page.evaluate("() => { window.notReloaded = true; }")

    pushes = push_services.pushes_create_for_case(actor=world.investigator, case=world.case)
    push = next(p for p in pushes if p.jurisdiction_path == world.tree.town_a.path)

    page.wait_for_function(
        "() => document.querySelector('[data-testid=notice-count]').textContent === '1'"
        " && !document.querySelector('[data-testid=notice-count]').hidden",
        timeout=10000,
    )
    assert page.evaluate("() => window.notReloaded") is True
    bell = page.get_by_test_id("notice-bell")
    assert bell.get_attribute("aria-label") == "消息通知：1 条未读"

    bell.click()
    notice = page.get_by_test_id("notice")
    assert notice.get_attribute("data-unread") == "1"
    assert push.number in notice.inner_text()
    notice.get_by_test_id("notice-open").click()
    page.wait_for_url(f"**{reverse('tracing:push_detail', args=[push.pk])}")
    assert push.number in page.locator("h1").inner_text()
    assert page.get_by_test_id("notice-count").is_hidden()
    assert selectors.unread_count(user=world.town_a) == 0
    # the other town's bell stays quiet
    assert selectors.unread_count(user=world.town_b) == 1  # its own list, not A's


@pytest.mark.browser
def test_the_bell_is_in_the_phone_header_and_marks_all_read(
    transactional_db: None, live_server: Any, browser_page: Any, tree: Any, make_user: Any
) -> None:
    from fangkong.accounts.roles import Role
    from fangkong.testkit import notices

    user = make_user(Role.TOWN_STAFF, tree.town_a, "town-a")
    notices.notifications(user, 3)
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    _login(page, live_server, user)
    page.goto(live_server.url + reverse("notices:inbox"))
    bell = page.get_by_test_id("notice-bell")
    box = bell.bounding_box()
    assert box is not None and box["y"] < 120 and box["x"] + box["width"] <= 390
    assert page.get_by_test_id("notice-count").inner_text() == "3"
    page.get_by_test_id("mark-all-read").click()
    page.wait_for_selector("[data-testid=notice][data-unread='1']", state="detached")
    assert page.get_by_test_id("notice-count").is_hidden()
    assert selectors.unread_count(user=user) == 0
