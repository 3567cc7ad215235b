"""In a real browser: sign in on the login page, land on `next`, sign out."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from fangkong.accounts import services
from fangkong.accounts.roles import Role


@pytest.mark.browser
def test_login_and_logout_in_the_browser(
    transactional_db: None, live_server: Any, browser_page: Any, tree: Any
) -> None:
    services.user_create(
        username="zhang", password="pw-Fangkong-2022", role=Role.COMMAND, jurisdiction=tree.city
    )
    page = browser_page
    page.goto(live_server.url + reverse("accounts:audit"))
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "zhang")
    page.fill("#id_password", "wrong-password")
    page.click("button[type=submit]")
    assert "用户名或密码错误" in page.inner_text("[data-testid=login-error]")
    page.fill("#id_password", "pw-Fangkong-2022")
    page.click("button[type=submit]")
    page.wait_for_url("**/accounts/audit/**")
    rows = page.inner_text("[data-testid=audit-table]")
    assert "登录成功" in rows and "登录失败" in rows
    # the filter offers the actions by their words
    page.select_option("[data-testid=audit-action]", label="登录失败")
    page.click("[data-testid=audit-filter] button[type=submit]")
    page.wait_for_url("**action=login.failure**")
    labels = page.locator("[data-testid=audit-action-label]").all_inner_texts()
    assert labels and set(labels) == {"登录失败"}
    page.click("form[action='/accounts/logout/'] button")
    page.wait_for_url("**/accounts/login/**")
    page.goto(live_server.url + reverse("accounts:tokens"))
    assert "/accounts/login/" in page.url
