"""In a real browser: command opens the overdue board from the menu and follows an
overdue item to the page where it is done."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fangkong.testkit import people, tracing
from fangkong.testkit import quarantine_inspections as inspections
from fangkong.testkit.command_town_reports import town_report
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
def test_command_opens_the_board_and_an_overdue_item(
    transactional_db: None,
    live_server: Any,
    browser_page: Any,
    tree: Any,
    command_user: Any,
    make_user: Any,
) -> None:
    # Today's towns' reports are in: after 18:00 a missing one would join the count.
    for town in (tree.town_a, tree.town_b):
        town_report(make_user("town_staff", town), now=timezone.now())
    person = people.person(tree.community_a, name="赵一鸣", actor=command_user)
    reported = timezone.now() - dt.timedelta(hours=30)
    case = tracing.reported_case(person, actor=command_user, reported_at=reported)
    site = inspections.site(tree.community_a, "乌镇隔离酒店")
    found = inspections.inspection(
        site, failed={"B01": "卫生间共用"}, now=timezone.now() - dt.timedelta(days=2)
    )
    rectification = found.findings.get(passed=False).rectification
    errors: list[str] = []
    browser_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    browser_page.on("pageerror", lambda e: errors.append(str(e)))
    page = browser_page

    _login(page, live_server, command_user)
    page.goto(live_server.url + "/")
    nav_click(page, "overdue")
    page.get_by_test_id("overdue-total").wait_for()
    assert page.url.endswith(reverse("command:overdue"))
    assert page.get_by_test_id("overdue-total").inner_text() == "2"
    groups = page.get_by_test_id("overdue-group")
    assert groups.count() == 2
    case_row = page.locator(f'[data-kind="tracing.case"][data-key="{case.pk}"]')
    assert case.number in case_row.inner_text()

    case_row.get_by_test_id("overdue-item-link").click()
    page.wait_for_url(f"**{reverse('tracing:case_detail', kwargs={'pk': case.pk})}")
    assert case.number in page.locator("h1").inner_text()

    page.go_back()
    page.get_by_test_id("overdue-filter").locator('select[name="kind"]').select_option(
        "quarantine.rectification"
    )
    page.get_by_test_id("overdue-filter").locator("button").click()
    page.wait_for_url("**kind=quarantine.rectification**")
    assert page.get_by_test_id("overdue-item").count() == 1
    page.get_by_test_id("overdue-item-link").click()
    page.wait_for_url("**/rectifications/**")
    row = page.locator(f"#rectification-{rectification.pk}")
    assert row.is_visible() and "卫生间共用" in row.inner_text()
    assert errors == []
