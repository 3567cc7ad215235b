"""In a real browser: a town places a case's close contacts with one button, sees them
on the site board, arranges a transfer; no console errors. With FANGKONG_SHOTS=<dir> the
pages are also photographed (desktop and phone)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from fangkong.quarantine.models import Placement
from fangkong.testkit import people as kit_people
from fangkong.testkit import quarantine as kit
from fangkong.testkit import tracing as kit_tracing

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
    if not SHOTS:
        return
    os.makedirs(SHOTS, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=f"{SHOTS}/{name}-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=f"{SHOTS}/{name}-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.browser
def test_town_places_a_cases_contacts_and_arranges_a_transfer(
    transactional_db: None, live_server: Any, browser_page: Any, tree: Any, town_a_user: Any
) -> None:
    site = kit.site_with_rooms(tree.town_a, rooms=10, floors=2, accessible_per_floor=1)
    kit.more_rooms(site, building="2", rooms=4, kind="multi", beds=3)
    case = kit_tracing.reported_case(kit_people.person(tree.community_b, "病例乙"))
    home = kit_people.household(tree.community_a)
    for name in ("王小明", "王小红"):
        kit.close_contact(tree.community_a, case=case, name=name, household=home)
    for name in ("李建国", "赵丽", "孙悦"):
        kit.close_contact(tree.community_a, case=case, name=name)
    page = browser_page
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _login(page, live_server, town_a_user)

    page.goto(f"{live_server.url}/quarantine/bulk/")
    page.fill("input[name=case]", case.number)
    page.click("[data-testid=choose-case] button")
    page.wait_for_selector("[data-testid=place-all]")
    _shot(page, "bulk-before")
    page.click("[data-testid=place-all]")
    page.wait_for_selector("[data-testid=placed-count]")
    assert page.inner_text("[data-testid=placed-count]") == "5"
    _shot(page, "bulk-result")
    assert Placement.objects.filter(room__isnull=False).values("room").distinct().count() == 4

    page.goto(f"{live_server.url}/quarantine/sites/{site.pk}/")
    # Placed but not arrived yet: the rooms are held (已预留), not occupied.
    assert page.locator("li.room.room-reserved").count() == 4
    assert page.locator("li.room.room-occupied").count() == 0
    _shot(page, "site-board")
    page.goto(f"{live_server.url}/quarantine/sites/")
    page.wait_for_selector("[data-testid=forecast]")
    _shot(page, "site-list")
    page.goto(f"{live_server.url}/quarantine/placements/")
    _shot(page, "placement-list")

    placement = Placement.objects.order_by("pk").first()
    assert placement is not None
    page.goto(f"{live_server.url}/quarantine/placements/{placement.pk}/")
    assert "依据：" in page.inner_text("[data-testid=ruleset]")
    page.fill("[data-testid=transfer-form] input[name=vehicle]", "浙F·12345")
    page.click("[data-testid=transfer-form] button")
    page.wait_for_selector("text=已安排转运")
    _shot(page, "placement-detail")
    page.goto(f"{live_server.url}/quarantine/transfers/")
    page.click("[data-testid=transfer-list] button")
    page.wait_for_selector("text=已出发")
    _shot(page, "transfer-list")
    assert errors == []


@pytest.mark.browser
def test_command_adds_rooms_and_sets_a_state_on_the_board(
    transactional_db: None, live_server: Any, browser_page: Any, tree: Any, command_user: Any
) -> None:
    site = kit.site_with_rooms(tree.town_a, rooms=6)
    kit.placed_contact(tree.community_a, site=site, name="钱多多")
    page = browser_page
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _login(page, live_server, command_user)
    page.goto(f"{live_server.url}/quarantine/sites/{site.pk}/")
    # The room forms once each, after the board (not above the page header).
    assert page.locator("[data-testid=room-state]").count() == 1
    assert page.locator("[data-testid=rooms-create]").count() == 1
    assert page.locator("head form").count() == 0 and "<" not in page.title()
    after_board = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=room-state],"
        " [data-testid=rooms-create]')].every(f => [...document.querySelectorAll("
        "'.page-head, section.floor')].every(b => b.compareDocumentPosition(f) & 4))"
    )
    assert after_board
    page.fill("[data-testid=rooms-create] input[name=building]", "2")
    page.fill("[data-testid=rooms-create] input[name=rooms_per_floor]", "4")
    page.click("[data-testid=rooms-create] button")
    page.wait_for_selector("text=已新建 4 间房")
    assert page.locator("li.room").count() == 10
    page.select_option("[data-testid=room-state] select[name=state]", "out_of_service")
    page.click("[data-testid=room-state] button")
    page.wait_for_selector("text=已变更房间状态")
    assert page.locator("li.room.room-out_of_service").count() == 1
    _shot(page, "site-board-command")
    page.goto(f"{live_server.url}/quarantine/sites/")
    assert page.locator("[data-testid=reserve-city]").count() == 1
    _shot(page, "site-list-command")
    assert errors == []
