"""The sampler phone keeps no clear ID number once a sample is answered (stored or
refused), logs out only when nothing waits to be synced, and is empty after logout; the
sync gets a fresh CSRF token from the server (the cookie is HttpOnly). Real browser
(Debian chromium) at a phone's size, 390×844."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from fangkong.testing.models import Sample
from fangkong.testkit.worlds.sampling import build_world, new_ric

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

READ_DB = """async (name) => {
  const db = await new Promise((ok, ko) => {
    const r = indexedDB.open(name); r.onsuccess = () => ok(r.result); r.onerror = () => ko(r.error);
  });
  const tubes = await new Promise((ok) => {
    const r = db.transaction("tubes").objectStore("tubes").getAll();
    r.onsuccess = () => ok(r.result);
  });
  db.close();
  return tubes;
}"""
SAMPLER_DATABASES = """async () => (await indexedDB.databases())
  .map(d => d.name).filter(n => n.startsWith("fangkong-sampler-"))"""


@pytest.fixture
def phone() -> Any:
    from playwright.sync_api import sync_playwright

    from fangkong.testkit.fixtures import BROWSER_ARGS

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        context = browser.new_context(
            locale="zh-CN", viewport={"width": 390, "height": 844}, has_touch=True
        )
        page = context.new_page()
        page.set_default_timeout(15000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def _session(page: Any, live_server: Any, user: Any) -> None:
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


def _open_tube(page: Any, barcode: str) -> None:
    page.get_by_test_id("tube-barcode").fill(barcode)
    page.get_by_test_id("tube-open").click()
    page.get_by_test_id("current-barcode").filter(has_text=barcode).wait_for()


def _register(page: Any, number: str) -> None:
    page.get_by_test_id("person-id").fill(number)
    page.get_by_test_id("person-add").click()


def _wait(page: Any, key: str, value: int) -> None:
    page.wait_for_function(
        f"() => document.getElementById('sampler').dataset.{key} === '{value}'", timeout=30000
    )


def test_refused_and_synced_samples_leave_no_clear_id_and_logout_empties_the_phone(
    live_server: Any, phone: Any, tree: Any
) -> None:
    world = build_world(tree, persons=3)
    page = phone
    _session(page, live_server, world.sampler)
    page.goto(live_server.url + "/testing/sampling/")
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller")
    # Scripts cannot read the CSRF cookie.
    assert "csrftoken" not in page.evaluate("() => document.cookie")
    database = f"fangkong-sampler-{world.sampler.get_username()}-{world.point.pk}"

    # One person the server knows, one it refuses (not registered, not a walk-in).
    known, unknown = world.rics[world.persons[0].pk], new_ric()
    _open_tube(page, "PRIV-1")
    _register(page, known)
    _register(page, unknown)
    page.get_by_test_id("tube-close").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=error-count]').textContent === '1'",
        timeout=30000,
    )
    _wait(page, "synced", 1)
    assert Sample.objects.count() == 1

    tubes = page.evaluate(READ_DB, database)
    stored = json.dumps(tubes)
    assert known not in stored and unknown not in stored
    samples = {s["masked"]: s for t in tubes for s in t["samples"]}
    refused = samples[unknown[:6] + "********" + unknown[-4:]]
    assert refused["status"] == "error" and refused["id_number"] == "" and refused["phone"] == ""
    assert refused["code"] == "person_not_found" and refused["message"]
    assert all(s["id_number"] == "" for s in samples.values())
    page.screenshot(path="var/screenshots/sampler-refused-390.png", full_page=True)

    # Offline with a sample waiting: logout is refused in the page, nothing is cleared.
    page.context.set_offline(True)
    _open_tube(page, "PRIV-2")
    _register(page, world.rics[world.persons[1].pk])
    _wait(page, "pending", 1)
    page.get_by_test_id("logout").click()
    page.get_by_test_id("logout-refused").wait_for()
    assert "/testing/sampling/" in page.url
    assert page.evaluate(SAMPLER_DATABASES) == [database]
    page.screenshot(path="var/screenshots/sampler-logout-refused-390.png", full_page=True)

    # Online again: the sample syncs, and logout empties the phone.
    page.context.set_offline(False)
    _wait(page, "pending", 0)
    page.get_by_test_id("logout-refused").wait_for(state="detached")
    with page.expect_navigation():
        page.get_by_test_id("logout").click()
    page.wait_for_load_state()
    assert "/accounts/login/" in page.url
    assert page.evaluate(SAMPLER_DATABASES) == []
    assert page.evaluate("() => Object.keys(localStorage)") == []
    assert page.evaluate("async () => (await caches.keys()).length") == 0
    assert Sample.objects.count() == 2


def test_the_sync_recovers_from_a_stale_csrf_token(live_server: Any, phone: Any, tree: Any) -> None:
    world = build_world(tree, persons=2)
    page = phone
    _session(page, live_server, world.sampler)
    page.goto(live_server.url + "/testing/sampling/")
    _open_tube(page, "CSRF-1")
    _register(page, world.rics[world.persons[0].pk])
    _wait(page, "synced", 1)
    # A new session (the sampler logged in again elsewhere): the page's token is stale.
    page.context.clear_cookies()
    _session(page, live_server, world.sampler)
    _register(page, world.rics[world.persons[1].pk])
    _wait(page, "synced", 2)
    assert Sample.objects.count() == 2
