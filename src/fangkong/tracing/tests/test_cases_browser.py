"""In a real browser: an investigator reports a case for a person, proposes the
itinerary from her venue scans and confirms it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fangkong.testkit import tracing
from fangkong.testkit.clock import on
from fangkong.tracing.models import Case, ItineraryStop


@pytest.mark.browser
def test_report_case_and_accept_the_itinerary_from_scans(
    transactional_db: None,
    live_server: Any,
    browser_page: Any,
    investigator: Any,
    person_a: Any,
    places: Any,
) -> None:
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    tracing.scans(
        person_a, [(places["hotel"], on(yesterday, 8)), (places["market"], on(yesterday, 12))]
    )
    client = Client()
    client.force_login(investigator)
    browser_page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = browser_page
    page.goto(live_server.url + reverse("tracing:case_create"))
    page.get_by_test_id("case-person-search").fill("张")
    page.get_by_test_id("case-person-search").press("Enter")
    page.get_by_test_id("case-person-results").wait_for()
    # htmx swapped the fragment in: still one page, one top bar.
    assert page.locator("header.topbar").count() == 1
    page.get_by_test_id("case-submit").click()

    page.get_by_test_id("case-number").wait_for()
    case = Case.objects.get(person=person_a)
    assert case.number in page.get_by_test_id("case-number").inner_text()

    page.get_by_test_id("itinerary-propose").click()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=itinerary-stop]').length === 2"
    )
    page.get_by_test_id("itinerary-confirm").click()
    page.get_by_test_id("itinerary-confirmed").wait_for()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=case-timeline] [data-kind=itinerary]') !== null"
    )

    assert ItineraryStop.objects.filter(investigation__case=case, confirmed=True).count() == 2
    assert "乌镇大酒店" in page.get_by_test_id("itinerary-stops").inner_text()


@pytest.mark.browser
def test_report_a_case_without_javascript(
    transactional_db: None,
    live_server: Any,
    browser_page: Any,
    investigator: Any,
    person_a: Any,
) -> None:
    """The search form posts to a whole page (not the htmx fragment) when scripts are off,
    and the case is reported from it."""
    client = Client()
    client.force_login(investigator)
    context = browser_page.context.browser.new_context(locale="zh-CN", java_script_enabled=False)
    try:
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
        page = context.new_page()
        page.set_default_timeout(15000)
        page.goto(live_server.url + reverse("tracing:case_create"))
        page.get_by_test_id("case-person-search").fill("张")
        page.get_by_test_id("case-person-search").press("Enter")
        page.get_by_test_id("case-person-results").wait_for()

        assert page.url == live_server.url + reverse("tracing:case_create")
        assert page.get_by_test_id("main-nav").count() == 1
        assert page.get_by_test_id("case-person-search").input_value() == "张"
        page.get_by_test_id("case-submit").click()
        page.get_by_test_id("case-number").wait_for()
    finally:
        context.close()

    assert Case.objects.get(person=person_a).number


def _logged_in(browser_page: Any, live_server: Any, user: Any) -> Any:
    client = Client()
    client.force_login(user)
    browser_page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return browser_page


@pytest.mark.browser
def test_a_refused_report_keeps_the_person_chosen_through_the_htmx_search(
    transactional_db: None,
    live_server: Any,
    browser_page: Any,
    investigator: Any,
    person_a: Any,
) -> None:
    """The htmx search swaps only the results (the hidden q stays empty): a refusal (here an
    onset date on an asymptomatic case) comes back with the person still chosen, and the
    case is then reported from that page."""
    page = _logged_in(browser_page, live_server, investigator)
    page.goto(live_server.url + reverse("tracing:case_create"))
    page.get_by_test_id("case-person-search").fill("张")
    page.get_by_test_id("case-person-search").press("Enter")
    page.get_by_test_id("case-person-results").wait_for()
    onset = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    page.locator("#case-onset").fill(onset)
    page.locator("#case-unit").fill("桐乡市疾控中心")
    page.get_by_test_id("case-submit").click()

    page.get_by_test_id("case-error").wait_for()
    radio = page.locator(f'input[name="person"][value="{person_a.pk}"]')
    assert radio.is_checked()
    assert "请先查找并选择人员" not in page.content()
    assert page.locator("#case-onset").input_value() == onset
    assert page.locator("#case-unit").input_value() == "桐乡市疾控中心"
    assert not Case.objects.exists()

    page.locator("#case-onset").fill("")
    page.get_by_test_id("case-submit").click()
    page.get_by_test_id("case-number").wait_for()
    assert Case.objects.get(person=person_a).reporting_unit == "桐乡市疾控中心"


@pytest.mark.browser
def test_a_tolerance_that_is_not_a_number_is_refused_in_the_contacts_section(
    transactional_db: None,
    live_server: Any,
    browser_page: Any,
    investigator: Any,
    person_a: Any,
) -> None:
    """What is typed reaches the page (a number input would send "abc" as empty and the
    search would run with the default): the section says the tolerance is invalid."""
    case = tracing.reported_case(person_a, actor=investigator)
    page = _logged_in(browser_page, live_server, investigator)
    page.goto(live_server.url + reverse("tracing:case_detail", args=[case.pk]))
    page.get_by_test_id("contact-tolerance").fill("abc")
    page.get_by_test_id("find-contacts").click()

    error = page.get_by_test_id("contacts-error")
    error.wait_for()
    assert error.get_attribute("data-code") == "invalid_tolerance"
    assert page.get_by_test_id("contact-tolerance").input_value() == "abc"
