"""The Content-Security-Policy does not break the product: every page of the app, opened
in a real browser (Debian chromium) as several roles on a drill city with a played
outbreak, raises no CSP violation and no script error.

Each role opens every entry of its navigation (web/navigation.py, read from the page's
own menu) and, from each of those pages, the first link of every other kind of page it
offers (detail pages: a case, a push list, a round, a box ...), one per URL shape. The
staff account also opens the Django admin (index, a change list, a change form) and the
API docs (/api/docs, Swagger UI); the login pages are opened before any login.
Violations are caught by a `securitypolicyviolation` listener installed before any page
script runs, and by the console.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from playwright.sync_api import Error as PlaywrightError

from fangkong.accounts.models import User
from fangkong.drill.city import drill_city_build
from fangkong.drill.outbreak import drill_outbreak

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = ["command", "investigator", "town-wuzhen", "community", "sampler", "lab", "admin"]
# Links a walk must not follow: they change state, download files or leave the app.
SKIP = re.compile(r"/accounts/logout|/i18n/|export|\.xlsx|\.csv|/download|/sw\.js|/api/(?!docs)")
LISTENER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " blocked " + e.blockedURI + " at " +
                    e.sourceFile + ":" + e.lineNumber);
});
"""
MAX_PAGES_PER_ROLE = 60
# FANGKONG_WALK_SCREENSHOTS=dir: also save a screenshot of every page (to look at them).
SCREENSHOTS = os.environ.get("FANGKONG_WALK_SCREENSHOTS", "")
# Markup the policy forbids but only reports when it runs (an onchange fires on a change):
# found in the page as served, before anything is clicked.
INLINE_CODE = """() => {
  const found = [];
  document.querySelectorAll("*").forEach((el) => {
    for (const attr of el.attributes) {
      if (attr.name.startsWith("on")) found.push(el.tagName + " " + attr.name);
      if (/^\\s*javascript:/i.test(attr.value)) found.push(el.tagName + " javascript: URL");
    }
  });
  document.querySelectorAll("script:not([src])").forEach((s) => {
    if (!/json/.test(s.type)) found.push("inline <script>");
  });
  return found;
}"""


@pytest.fixture
def outbreak_city(settings: Any) -> None:
    drill_city_build(population=12000, days=2, seed=11)
    drill_outbreak(through_day=2)
    call_command("demo_users", verbosity=0)
    User.objects.filter(username="admin").update(is_staff=True, is_superuser=True)


def _log_in(page: Any, live_server: Any, username: str) -> None:
    page.context.clear_cookies()
    client = Client()
    client.force_login(User.objects.get(username=username))
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def _shape(path: str) -> str:
    return re.sub(r"\d+", "#", path)


def _open(page: Any, url: str, problems: list[str]) -> list[str]:
    """Open a page, let its scripts and htmx requests run, and record every CSP violation
    and script error; return the same-origin links it offers."""
    response = page.goto(url)
    assert response is not None and response.status < 500, f"{url}: {response and response.status}"
    # A page that polls never goes idle: its first load is done by then all the same.
    with contextlib.suppress(PlaywrightError):
        page.wait_for_load_state("networkidle", timeout=5000)
    page.wait_for_timeout(200)
    for violation in page.evaluate("() => window.__csp || []"):
        problems.append(f"{url}: {violation}")
    for inline in page.evaluate(INLINE_CODE):
        problems.append(f"{url}: inline code: {inline}")
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('a[href]'))"
        ".map(a => a.href).filter(h => h.startsWith(location.origin))"
    )


def test_every_page_runs_under_the_policy_without_a_violation(
    live_server: Any, outbreak_city: None
) -> None:
    from playwright.sync_api import sync_playwright

    from fangkong.testkit.fixtures import BROWSER_ARGS

    problems: list[str] = []
    visited: dict[str, list[str]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        context = browser.new_context(locale="zh-CN")
        context.add_init_script(LISTENER)
        page = context.new_page()
        page.set_default_timeout(20000)
        page.on(
            "console",
            lambda m: (
                problems.append(f"{page.url}: console: {m.text}")
                if "Content Security Policy" in m.text or "Content-Security-Policy" in m.text
                else None
            ),
        )
        page.on("pageerror", lambda e: problems.append(f"{page.url}: script error: {e}"))
        page.on("dialog", lambda d: d.dismiss())
        try:
            # Before any login: the login pages (the app's and the admin's).
            for path in ("/accounts/login/", "/admin/login/"):
                _open(page, live_server.url + path, problems)
                visited.setdefault("anonymous", []).append(path)
            for username in ROLES:
                _log_in(page, live_server, username)
                seen: set[str] = set()
                pages: list[str] = []
                links = _open(page, live_server.url + "/", problems)
                if username == ROLES[0]:
                    # The policy is enforced, and both the listener and the console see
                    # a violation (this one is planted, so its reports are dropped).
                    before = len(problems)
                    seen_before = page.evaluate("() => window.__csp.length")
                    page.evaluate(
                        "() => { const s = document.createElement('script');"
                        " s.textContent = 'window.__ran = 1'; document.head.appendChild(s); }"
                    )
                    page.wait_for_function("n => window.__csp.length === n + 1", arg=seen_before)
                    page.wait_for_timeout(300)
                    assert page.evaluate("() => window.__ran") is None
                    assert len(problems) > before
                    del problems[before:]
                nav = page.evaluate(
                    "() => Array.from(document.querySelectorAll('[data-testid=main-nav] a'))"
                    ".map(a => a.href)"
                )
                assert nav, f"{username} sees no navigation"
                queue = [*nav]
                if username == "admin":
                    admin_pk = User.objects.get(username="admin").pk
                    queue += [
                        live_server.url + "/admin/",
                        live_server.url + "/admin/accounts/user/",
                        live_server.url + f"/admin/accounts/user/{admin_pk}/change/",
                        live_server.url + "/api/docs",
                    ]
                seen.add(_shape("/"))
                # Nav pages first, then one detail page per URL shape they link to.
                while queue and len(pages) < MAX_PAGES_PER_ROLE:
                    url = queue.pop(0)
                    parts = urlsplit(url)
                    shape = _shape(parts.path) + ("?" if parts.query else "")
                    if shape in seen or SKIP.search(parts.path):
                        continue
                    seen.add(shape)
                    pages.append(parts.path + ("?" + parts.query if parts.query else ""))
                    links = _open(page, url, problems)
                    queue += [link.split("#")[0] for link in links]
                    if SCREENSHOTS:
                        name = re.sub(r"[^\w]+", "_", f"{username}{parts.path}{parts.query}")
                        page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)
                visited[username] = pages
        finally:
            context.close()
            browser.close()
    print("pages opened:", json.dumps(visited, indent=1))  # shown with -s
    assert not problems, "\n".join(problems)
    # The walk did open the app, detail pages included.
    every = [p for pages in visited.values() for p in pages]
    assert len(every) > 40, visited
    assert any(re.search(r"/tracing/cases/\d+/", p) for p in every), visited
    assert any(re.search(r"/testing/rounds/\d+/", p) for p in every), visited
    assert "/api/docs" in visited["admin"] and "/admin/" in visited["admin"]
    assert "/testing/sampling/" in visited["sampler"]
