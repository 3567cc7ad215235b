"""In a real browser: site staff check in a placed contact, record two health checks,
record the scheduled tests' samples; the results arrive negative through the lab's
import; the staff release and open the certificate; a community worker records the
home check-in of the person handed over for home monitoring."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from fangkong.quarantine.models import Placement, PlacementTest
from fangkong.testkit import quarantine as qkit
from fangkong.testkit import quarantine_care as kit
from fangkong.testkit import testing as tkit

SHOTS = os.environ.get("FANGKONG_SHOTS", "")


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


def _shot(page: Any, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


@pytest.mark.browser
def test_site_staff_care_for_a_contact_to_release_and_community_checks_in(
    transactional_db: None, live_server: Any, browser_page: Any, tree: Any
) -> None:
    site = qkit.site_with_rooms(tree.community_a, rooms=3)
    placement = kit.placed_since(site, days_ago=8)
    lab = tkit.lab(tree.city)
    staff = kit.site_staff(site)
    errors: list[str] = []
    page = browser_page
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_viewport_size({"width": 390, "height": 844})
    _login(page, live_server, staff)
    day = f"{live_server.url}/quarantine/site/day/"
    page.goto(day)
    _shot(page, "site_day_arrivals_phone")
    page.locator("[data-testid=arrival-row] [data-testid=check-in]").click()
    row = page.locator("[data-testid=check-row]")
    row.wait_for()
    for slot, temperature in (("am", "36.5"), ("pm", "36.6")):
        form = page.locator("[data-testid=check-row] form")
        form.locator("select[name=slot]").select_option(slot)
        form.locator("[data-testid=temperature]").fill(temperature)
        form.locator("[data-testid=record-check]").click()
        page.locator(".flash").first.wait_for()
    assert page.locator("[data-testid=check-row] .badge-ok").count() == 2
    scheduled = PlacementTest.objects.filter(placement=placement).count()
    assert scheduled >= 1
    for n in range(scheduled):
        test_row = page.locator("[data-testid=test-row]").first
        test_row.locator("[data-testid=barcode]").fill(f"gl-browser-{n}")
        test_row.locator("[data-testid=record-sample]").click()
        page.wait_for_function(
            "n => document.querySelectorAll('[data-testid=test-row]').length === n",
            arg=scheduled - n - 1,
        )
    _shot(page, "site_day_phone")
    # The lab receives the site's box and imports the results (the real import).
    tests = list(PlacementTest.objects.filter(placement=placement))
    assert all(t.tube_id for t in tests)
    kit.site_results(dict.fromkeys(tests, "negative"), lab=lab)
    page.goto(day)
    page.locator("[data-testid=release-row] [data-testid=release]").click()
    page.locator("[data-testid=certificate]").wait_for()
    placement.refresh_from_db()
    assert placement.status == "released"
    number = page.locator("[data-testid=certificate-number]").inner_text()
    assert number == placement.certificate_number
    page.set_viewport_size({"width": 1280, "height": 900})
    _shot(page, "certificate_desktop")
    if SHOTS:
        page.pdf(path=f"{SHOTS}/certificate.pdf", format="A4")
    # The community worker of the person's community: the home monitoring that follows.
    follow = Placement.objects.get(follows=placement)
    worker = kit.community_worker(tree.community_a)
    _login(page, live_server, worker)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/quarantine/home/")
    home_row = page.locator("[data-testid=home-row]")
    home_row.wait_for()
    home_row.locator("[data-testid=home-temperature]").fill("36.4")
    home_row.locator("[data-testid=home-checkin]").click()
    page.locator("[data-testid=checked-today]").wait_for()
    _shot(page, "home_list_phone")
    assert follow.home_checkins.count() == 1
    assert not errors, errors


@pytest.mark.browser
def test_a_fever_raises_an_alert_the_staff_handle(
    transactional_db: None, live_server: Any, browser_page: Any, tree: Any
) -> None:
    site = qkit.site_with_rooms(tree.community_a, rooms=2)
    placement = kit.checked_in(qkit.placed_contact(tree.community_a, site=site))
    errors: list[str] = []
    page = browser_page
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _login(page, live_server, kit.site_staff(site))
    page.goto(f"{live_server.url}/quarantine/site/day/")
    form = page.locator("[data-testid=check-row] form")
    form.locator("[data-testid=temperature]").fill("38.2")
    form.locator("summary").click()
    form.locator("input[value=cough]").check()
    form.locator("[data-testid=record-check]").click()
    page.locator("[data-testid=site-alerts]").wait_for()
    _shot(page, "site_day_alert_desktop")
    page.goto(f"{live_server.url}/quarantine/alerts/")
    row = page.locator("[data-testid=alert-row]")
    row.locator("input[name=outcome]").fill("已联系定点医院")
    row.locator("button[type=submit]").click()
    page.locator(".flash").first.wait_for()
    _shot(page, "alert_list_desktop")
    assert placement.alerts.get().state == "handled"
    assert not errors, errors


@pytest.mark.browser
def test_a_demo_sized_site_day_shows_first_rows_and_pages_a_section(
    transactional_db: None, live_server: Any, browser_page: Any, tree: Any
) -> None:
    site = qkit.site_with_rooms(tree.community_a, rooms=1)
    kit.placed_bulk(site, 330)
    kit.placed_bulk(site, 40, status="planned", with_test=False)
    errors: list[str] = []
    page = browser_page
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _login(page, live_server, kit.site_staff(site))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/quarantine/site/day/")
    assert page.locator("[data-testid=check-row]").count() == 20
    _shot(page, "site_day_demo_desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    _shot(page, "site_day_demo_phone")
    page.locator("[data-testid=more-checks]").click()
    page.wait_for_url("**/site/day/checks/")
    assert page.locator("[data-testid=check-row]").count() == 50
    assert "330" in page.locator("[data-testid=list-total]").inner_text()
    _shot(page, "site_day_checks_phone")
    first = page.locator("[data-testid=check-row]").first
    first.locator("[data-testid=temperature]").fill("36.6")
    first.locator("[data-testid=record-check]").click()
    page.wait_for_url("**/site/day/checks/")
    assert errors == []
