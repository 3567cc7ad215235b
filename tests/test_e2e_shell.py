"""The page shell's behaviours that replaced inline handlers (web/static/web/shell.js),
in a real browser (Debian chromium) under the Content-Security-Policy: a select that
submits its form, a form that asks before it reveals, the print button."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from fangkong.accounts.models import AuditEvent
from fangkong.testkit.worlds.pushes import build_world
from fangkong.tracing.models import VerificationPush
from fangkong.tracing.services import pushes as push_services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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


def test_selects_submit_their_form_on_change(
    live_server: Any, browser_page: Any, command_user: Any
) -> None:
    page = browser_page
    _login(page, live_server, command_user)
    page.goto(f"{live_server.url}/areas/jurisdictions/")
    with page.expect_navigation():
        page.select_option("select[name=depth]", "3")
    assert "depth=3" in page.url
    # The language switch in the top bar.
    with page.expect_navigation():
        page.select_option("[data-testid=language-form] select", "en")
    page.wait_for_load_state()
    assert page.evaluate("() => document.documentElement.lang") == "en"
    assert "depth=3" in page.url
    page.screenshot(path="var/screenshots/jurisdictions-en-desktop.png")


def test_a_revealing_export_asks_first_and_does_nothing_when_declined(
    live_server: Any, browser_page: Any, tree: Any, make_user: Any
) -> None:
    world = build_world(tree, make_user)
    push_services.pushes_create_for_case(actor=world.investigator, case=world.case)
    push = VerificationPush.objects.filter(jurisdiction_path=tree.town_a.path).get()
    page = browser_page
    _login(page, live_server, world.investigator)
    page.goto(f"{live_server.url}/tracing/pushes/{push.pk}/")
    exports = AuditEvent.objects.filter(action__contains="export").count()
    questions: list[str] = []

    def decline(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", decline)
    page.get_by_test_id("export-revealed").click()
    page.wait_for_timeout(500)
    assert questions and "审计" in questions[0]
    assert AuditEvent.objects.filter(action__contains="export").count() == exports

    # Accepted, the export runs as a job: the page shows its result, then the file downloads.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("export-revealed").click()
    page.get_by_test_id("export-result").wait_for()
    with page.expect_download() as download:
        page.get_by_test_id("job-download").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    assert AuditEvent.objects.filter(action__contains="export").count() == exports + 1
    page.screenshot(path="var/screenshots/push-detail-desktop.png")


def test_the_print_button_prints(live_server: Any, browser_page: Any, command_user: Any) -> None:
    page = browser_page
    _login(page, live_server, command_user)
    page.goto(f"{live_server.url}/areas/jurisdictions/")
    # A button with data-print anywhere on a page calls window.print (assist requests).
    page.evaluate(
        "() => { window.print = () => { window.__printed = true; };"
        " const b = document.createElement('button'); b.setAttribute('data-print', '');"
        " b.id = 'p'; document.body.appendChild(b); }"
    )
    page.click("#p")
    assert page.evaluate("() => window.__printed") is True


def test_htmx_keeps_no_page_snapshots_in_browser_storage(
    live_server: Any, browser_page: Any, command_user: Any
) -> None:
    """htmx would save the page (with its personal data) in sessionStorage before an
    hx-push-url swap; historyCacheSize 0 keeps nothing there, and going back reloads."""
    page = browser_page
    _login(page, live_server, command_user)
    page.goto(f"{live_server.url}/areas/places/")
    page.fill("input[name=q]", "no-such-place")
    with page.expect_request(lambda r: "q=no-such-place" in r.url):
        page.click("form[role=search] button[type=submit]")
    page.wait_for_url("**q=no-such-place**")
    page.wait_for_load_state("networkidle")
    # (htmx keeps only the current path, "htmx-current-path-for-history".)
    assert "htmx-history-cache" not in page.evaluate("() => Object.keys(sessionStorage)")
    assert page.evaluate("() => Object.keys(localStorage)") == []
    page.go_back()
    page.wait_for_load_state()
    assert "q=no-such-place" not in page.url
    assert page.locator("h1").inner_text() == "场所"
