"""In a real browser: command opens the daily report from the navigation, sees the
printable report, generates the Word document and downloads it."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from fangkong.command.services.figures import figures_refresh
from fangkong.testkit.reports import docx_document, docx_table, table_by_label
from fangkong.testkit.shell import nav_click
from fangkong.testkit.worlds.pushes import build_world


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
def test_command_downloads_the_daily_report(
    transactional_db: None, live_server: Any, browser_page: Any, tree: Any, make_user: Any
) -> None:
    world = build_world(tree, make_user)
    figures_refresh()  # the dashboard's figures of today (the figures job's work)
    _login(browser_page, live_server, world.command)

    browser_page.goto(live_server.url + "/")
    nav_click(browser_page, "daily_report")
    report = browser_page.get_by_test_id("daily-report")
    report.wait_for()
    assert (
        "桐乡市新冠肺炎疫情防控工作日报" in browser_page.get_by_test_id("report-title").inner_text()
    )
    assert world.case.number in report.inner_text()

    browser_page.get_by_test_id("report-generate").click()
    link = browser_page.get_by_test_id("report-download")
    link.wait_for()
    with browser_page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.endswith(".docx")
    with open(download.path(), "rb") as saved:
        doc = docx_document(io.BytesIO(saved.read()).getvalue())
    assert doc.paragraphs[0].text == "桐乡市新冠肺炎疫情防控工作日报"
    summary = table_by_label(docx_table(doc, "项目"))
    assert summary["病例合计"][0] == "2"  # both cases were reported today
