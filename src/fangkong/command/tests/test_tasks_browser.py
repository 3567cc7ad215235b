"""In a real browser: command dispatches a task to a town (from the menu, checkboxes, a
deadline); the town's staff find it in their task list, accept it and reply on a phone-
sized screen; command sees the reply."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from fangkong.command.choices import AssignmentStatus
from fangkong.command.models import Assignment
from fangkong.notices.models import Notification
from fangkong.testkit import command as kit
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
def test_command_dispatches_a_task_the_town_accepts_and_replies(
    transactional_db: None,
    live_server: Any,
    browser_page: Any,
    tree: Any,
    command_user: Any,
    town_a_user: Any,
) -> None:
    kit.departments_ensure()
    errors: list[str] = []
    browser_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    browser_page.on("pageerror", lambda e: errors.append(str(e)))
    page = browser_page

    _login(page, live_server, command_user)
    page.goto(live_server.url + "/")
    nav_click(page, "tasks")
    page.get_by_test_id("task-new-link").click()
    page.get_by_test_id("task-title").fill("对虹桥村开展入户排查")
    page.get_by_test_id("task-body").fill("请于今日 18 时前完成入户排查并回复。")
    page.get_by_test_id("priority-extra_urgent").check()
    deadline = timezone.localtime(timezone.now() + dt.timedelta(hours=5))
    page.get_by_test_id("task-deadline").fill(deadline.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_test_id(f"town-{tree.town_a.path}").check()
    page.get_by_test_id("task-submit").click()
    page.get_by_test_id("task-parts").wait_for()
    assert "乌镇镇" in page.get_by_test_id("task-parts").inner_text()
    assert Notification.objects.filter(user=town_a_user, kind="task.new").count() == 1

    page.set_viewport_size({"width": 390, "height": 844})
    _login(page, live_server, town_a_user)
    page.goto(live_server.url + "/command/tasks/")
    page.locator('[data-testid="task-row"] a').first.click()
    page.get_by_test_id("part-accept").click()
    page.get_by_test_id("part-reply-text").fill("已完成入户排查 126 户，未发现异常。")
    page.get_by_test_id("part-reply-submit").click()
    reply = page.get_by_test_id("part-reply")
    reply.wait_for()
    assert "126 户" in reply.inner_text()
    part = Assignment.objects.get(jurisdiction_path=tree.town_a.path)
    assert part.status == AssignmentStatus.REPLIED

    page.set_viewport_size({"width": 1366, "height": 900})
    _login(page, live_server, command_user)
    page.goto(live_server.url + f"/command/tasks/{part.task_id}/")
    page.get_by_test_id("part-close").click()
    page.locator('[data-testid="task-part"][data-status="done"]').wait_for()
    assert errors == []
