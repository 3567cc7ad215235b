"""The tracing flow end to end in a real browser (Debian chromium via Playwright).

An investigator reports a case for a registered person, accepts the itinerary proposed
from her venue scans, finds her contacts and pushes them to the towns; the staff of the
town where a contact lives open their list and mark the person controlled; the case page
shows the contact controlled.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from fangkong.accounts.roles import Role
from fangkong.accounts.services import user_create
from fangkong.areas.services.areas import place_create
from fangkong.people.rules import ric_checksum
from fangkong.people.services import person_create
from fangkong.scans.services import scans_bulk_insert
from fangkong.tracing.models import Contact, ContactStatus, PushItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-Fangkong-2022"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _ric(body: str) -> str:
    return body + ric_checksum(body)


@pytest.fixture
def world(tree: Any, settings: Any) -> dict[str, Any]:
    admin = user_create(
        username="e2e-admin", password=PASSWORD, role=Role.ADMIN, jurisdiction=tree.city
    )
    user_create(
        username="e2e-investigator",
        password=PASSWORD,
        role=Role.INVESTIGATOR,
        jurisdiction=tree.city,
    )
    user_create(
        username="e2e-town-b", password=PASSWORD, role=Role.TOWN_STAFF, jurisdiction=tree.town_b
    )
    case_person = person_create(
        actor=admin,
        name="张小红",
        id_kind="ric",
        id_number=_ric("33048319920305212"),
        jurisdiction=tree.community_a,
    )
    contact_person = person_create(
        actor=admin,
        name="李大伟",
        id_kind="ric",
        id_number=_ric("33048319880716331"),
        jurisdiction=tree.community_b,
    )
    market = place_create(
        actor=admin,
        kind="venue",
        name="乌镇面馆",
        jurisdiction=tree.community_a,
        venue_code="E2E0001",
        # a small enclosed venue: the rule set makes 15 minutes together a close contact
        venue_kind="restaurant",
    )
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    noon = dt.datetime.combine(yesterday, dt.time(12, 0), tzinfo=SHANGHAI)
    scans_bulk_insert(
        [
            (case_person.pk, market.pk, noon, yesterday, market.jurisdiction_path),
            (
                contact_person.pk,
                market.pk,
                noon + dt.timedelta(minutes=5),
                yesterday,
                market.jurisdiction_path,
            ),
        ]
    )
    return {"case_person": case_person, "contact_person": contact_person}


def _login(page: Any, live_server: Any, username: str) -> None:
    # Leave the previous page first: a request still in flight from it (htmx) could set
    # a new CSRF cookie after the login form was served, and the login would be refused.
    page.goto("about:blank")
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_case_to_contacts_to_town_feedback(live_server: Any, browser_page: Any, world: Any):
    page = browser_page

    # The investigator reports the case.
    _login(page, live_server, "e2e-investigator")
    page.goto(f"{live_server.url}/tracing/cases/new/")
    page.get_by_test_id("case-person-search").fill("张")
    page.get_by_test_id("case-person-search").press("Enter")
    page.get_by_test_id("case-person-results").wait_for()
    page.get_by_test_id("case-submit").click()
    page.get_by_test_id("case-number").wait_for()
    case_url = page.url

    # ... accepts the itinerary proposed from her scans ...
    page.get_by_test_id("itinerary-propose").click()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=itinerary-stop]').length === 1"
    )
    assert "乌镇面馆" in page.get_by_test_id("itinerary-stops").inner_text()
    page.get_by_test_id("itinerary-confirm").click()
    page.get_by_test_id("itinerary-confirmed").wait_for()

    # ... finds the contacts: the diner is a close contact ...
    page.get_by_test_id("find-contacts").click()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=contact-row]').length === 1"
    )
    assert "李*伟" in page.get_by_test_id("contact-table").inner_text()
    contact = Contact.objects.get(person=world["contact_person"])
    assert contact.classification == "close"

    # ... and pushes them to the town where the contact lives.
    page.get_by_test_id("push-contacts").click()
    page.get_by_test_id("push-created").wait_for()
    item = PushItem.objects.get(contact=contact)
    assert item.push.jurisdiction_path == "330483101"

    # The town's staff open their list and mark the person controlled.
    _login(page, live_server, "e2e-town-b")
    page.goto(f"{live_server.url}/tracing/pushes/")
    page.get_by_test_id("push-row").first.locator("a").first.click()
    page.get_by_test_id("push-items").wait_for()
    row = page.locator(f"[data-testid=push-item][data-item='{item.pk}']")
    row.get_by_test_id("mark-status").select_option("centralised")
    row.get_by_test_id("mark-submit").click()
    page.wait_for_function(
        f"() => document.querySelector(\"[data-item='{item.pk}']\").dataset.status"
        " === 'centralised'"
    )
    assert Contact.objects.get(pk=contact.pk).status == ContactStatus.CONTROLLED

    # Another town's staff cannot open the case; the investigator sees the contact controlled.
    response = page.goto(case_url)
    assert response is not None and response.status == 404
    _login(page, live_server, "e2e-investigator")
    page.goto(case_url)
    page.get_by_test_id("contact-table").wait_for()
    assert "已管控" in page.get_by_test_id("contact-table").inner_text()
