"""In a real browser: a town's staff submit the day's report on a phone (390×844);
command reads the towns side by side and turns a problem into a task in one action."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from fangkong.command.models import Task, TownReport


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
def test_a_town_reports_on_a_phone_and_command_makes_a_task_of_a_problem(
    transactional_db: None,
    live_server: Any,
    browser_page: Any,
    tree: Any,
    town_a_user: Any,
    command_user: Any,
) -> None:
    from fangkong.testkit.fixtures import shipped_rule_sets_ensure

    shipped_rule_sets_ensure()
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_viewport_size({"width": 390, "height": 844})
    _login(page, live_server, town_a_user)
    page.goto(live_server.url + "/command/town-reports/")
    page.get_by_test_id("town-report-fill").click()
    page.fill("#progress", "完成全员核酸采样 2.1 万人，密接 6 人均已转运。")
    page.fill("#problems", "隔离点房间紧张\n夜间转运车辆不足")
    page.select_option("select[name=need_kind_1]", "supplies")
    page.fill("input[name=need_item_1]", "防护服")
    page.fill("input[name=need_quantity_1]", "500")
    page.fill("input[name=need_unit_1]", "套")
    button = page.get_by_test_id("town-report-submit")
    box = button.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390  # nothing cut on the phone
    button.click()
    page.wait_for_url("**/submit/?saved=1")
    assert TownReport.objects.get().problems.count() == 2
    # No page wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.set_viewport_size({"width": 1366, "height": 900})
    _login(page, live_server, command_user)
    page.goto(live_server.url + "/command/town-reports/")
    cards = page.get_by_test_id("town-report")
    assert cards.count() == 2
    card = page.locator(f'[data-town="{tree.town_a.path}"]')
    assert card.get_attribute("data-state") in ("submitted", "late")
    card.get_by_test_id("problem-to-task").first.click()
    page.get_by_test_id("problem-task-submit").click()
    page.wait_for_url("**/command/town-reports/?day=*")
    task = Task.objects.get()
    assert task.source_type == "town_report_problem"
    assert (
        page.locator(f'[data-town="{tree.town_a.path}"]').get_by_test_id("problem-task").count()
        == 1
    )
    assert errors == []
