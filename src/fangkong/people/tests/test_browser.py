"""In a real browser: the 显示 button reveals the ID number in place and audits it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from fangkong.accounts.models import AuditEvent


@pytest.mark.browser
def test_reveal_button_swaps_in_the_clear_value(
    transactional_db: None, live_server: Any, browser_page: Any, people: Any, town_a_user: Any
) -> None:
    client = Client()
    client.force_login(town_a_user)
    browser_page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    browser_page.goto(live_server.url + reverse("people:list") + "?q=zs")
    browser_page.get_by_role("link", name="张*").click()
    assert browser_page.get_by_test_id("masked-id_number").inner_text() == people.a.id_masked
    assert people.a_id not in browser_page.content()

    browser_page.get_by_test_id("reveal-id_number").click()

    revealed = browser_page.get_by_test_id("revealed-id_number")
    revealed.wait_for()
    assert revealed.inner_text() == people.a_id
    assert browser_page.get_by_test_id("reveal-id_number").count() == 0
    assert AuditEvent.objects.filter(action="person.reveal", field="id_number").count() == 1


@pytest.mark.browser
def test_search_form_posts_a_full_id_number_as_an_audited_lookup(
    transactional_db: None, live_server: Any, browser_page: Any, people: Any, town_a_user: Any
) -> None:
    client = Client()
    client.force_login(town_a_user)
    browser_page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    requests: list[str] = []
    browser_page.on("request", lambda request: requests.append(request.url))
    browser_page.goto(live_server.url + reverse("people:list"))

    browser_page.get_by_test_id("person-search").fill(people.a_id)
    with browser_page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith(reverse("people:list"))
    ) as answer:
        browser_page.get_by_test_id("person-search").press("Enter")

    assert answer.value.status == 200
    browser_page.get_by_role("link", name="张*").wait_for()
    assert browser_page.get_by_test_id("person-row").count() == 1
    assert not any(people.a_id in url for url in [*requests, browser_page.url])
    event = AuditEvent.objects.get(action="person.lookup")
    assert (event.actor_id, event.detail["outcome"]) == (town_a_user.pk, "hit")


@pytest.mark.browser
def test_export_after_a_search_exports_what_the_search_shows(
    transactional_db: None,
    live_server: Any,
    browser_page: Any,
    people: Any,
    person_maker: Any,
    tree: Any,
    town_a_user: Any,
) -> None:
    # Given two persons in the town's community and a search that shows one of them
    person_maker(tree.community_a, "王五")
    client = Client()
    client.force_login(town_a_user)
    browser_page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    browser_page.goto(live_server.url + reverse("people:list"))
    assert browser_page.get_by_test_id("person-row").count() == 2
    browser_page.get_by_test_id("person-search").fill("张")
    browser_page.get_by_test_id("person-search").press("Enter")
    browser_page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=person-row]').length === 1"
    )

    # When the user exports from the page the search left
    with browser_page.expect_download() as download:
        browser_page.get_by_test_id("person-export").click()

    # Then the file holds the one person the search showed, not the whole town
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "张*" in text
    assert "王*" not in text

    # And the search is in the address: from a person, Back shows the search again
    assert browser_page.url.endswith(reverse("people:list") + "?q=%E5%BC%A0")
    browser_page.get_by_role("link", name="张*").click()
    browser_page.get_by_test_id("masked-id_number").wait_for()
    browser_page.go_back()
    browser_page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=person-row]').length === 1"
    )
    assert browser_page.get_by_test_id("person-search").input_value() == "张"
    browser_page.reload()
    assert browser_page.get_by_test_id("person-row").count() == 1
    assert browser_page.get_by_test_id("person-search").input_value() == "张"
