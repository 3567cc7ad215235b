"""In a real browser: command records an inspection with one failed item; the site's staff
find its rectification in their menu and complete it."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from fangkong.quarantine.choices import RectificationStatus
from fangkong.quarantine.models import Rectification
from fangkong.testkit import quarantine_inspections as kit
from fangkong.testkit.shell import nav_click


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
def test_inspection_with_a_failed_item_then_the_site_rectifies_it(
    transactional_db: None, live_server: Any, browser_page: Any, tree: Any, command_user: Any
) -> None:
    site = kit.site(tree.community_a, "乌镇隔离酒店")
    staff = kit.site_staff(site, display_name="张护士长")
    errors: list[str] = []
    browser_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    browser_page.on("pageerror", lambda e: errors.append(str(e)))
    page = browser_page

    _login(page, live_server, command_user)
    page.goto(live_server.url + "/")
    nav_click(page, "inspections")
    page.get_by_test_id("inspection-new-link").click()
    page.get_by_test_id("inspection-site-pick").locator("select").select_option(str(site.pk))
    page.get_by_test_id("inspection-site-pick").locator("button").click()
    page.get_by_test_id("fail-B01").check()
    page.get_by_test_id("note-B01").fill("3 楼 2 间房卫生间共用")
    page.get_by_test_id("all-pass").click()
    assert page.get_by_test_id("fail-B01").is_checked()
    assert page.get_by_test_id("pass-A02").is_checked()
    page.get_by_test_id("owner-account").select_option(str(staff.pk))
    page.get_by_test_id("inspection-submit").click()

    failed = page.locator('[data-testid="finding-row"][data-code="B01"]')
    failed.wait_for()
    assert "3 楼 2 间房卫生间共用" in failed.inner_text()
    assert "张护士长" in failed.inner_text()
    assert "不符合 1 项" in page.get_by_test_id("inspection-meta").inner_text()

    _login(page, live_server, staff)
    page.goto(live_server.url + "/")
    nav_click(page, "site_rectifications")
    row = page.locator('[data-testid="rectification-row"][data-code="B01"]')
    row.wait_for()
    row.get_by_test_id("rectification-note").fill("已改为单人单间，独立卫生间")
    row.get_by_test_id("rectification-complete").click()
    page.locator(".flash").first.wait_for()
    status = page.locator('[data-testid="rectification-row"][data-code="B01"]').get_by_test_id(
        "rectification-status"
    )
    assert status.inner_text() == "已整改"
    rect = Rectification.objects.get()
    assert rect.status == RectificationStatus.DONE
    assert rect.done_note == "已改为单人单间，独立卫生间"
    assert errors == []
