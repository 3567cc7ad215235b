"""The case page in a real browser (issue 11): what the investigator acts on comes first
(the push button within the first two screens), the contacts come last and load page by
page as they scroll into view; a contact is reported as a case from its row, with the
person already chosen, and the new case is linked to the case it was a contact of.
"""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.accounts.roles import Role
from fangkong.testkit import areas, people, tracing
from fangkong.testkit.actors import actor_or_admin
from fangkong.testkit.clock import at
from fangkong.tracing.models import CaseLink, Contact
from fangkong.tracing.services.contacts import contacts_find_for_case
from fangkong.tracing.views import contacts as contact_views

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-Fangkong-2022"
SCREEN = {"width": 1280, "height": 900}


@pytest.fixture
def world(tree: Any, make_user: Any, settings: Any, monkeypatch: Any) -> dict[str, Any]:
    """A case with five contacts (three close, two co-presence), shown two to a page."""
    monkeypatch.setattr(contact_views, "CASE_CONTACTS_PAGE", 2)
    investigator = make_user(Role.INVESTIGATOR, tree.city, "e2e-case-investigator")
    venue = areas.place(tree.community_a, "venue", "乌镇面馆", venue_kind="restaurant")
    case = tracing.case(people.person(tree.community_a, "王芳"))
    tracing.stop(case, venue, at(4, 10), at(4, 12), confirmed=True)
    for i, minute in enumerate([0, 5, 10]):
        near = people.person(tree.community_a, f"甲{i}")
        tracing.scans(near, [(venue, at(4, 10, minute)), (venue, at(4, 11, minute))])
    for i in range(2):
        tracing.scan(people.person(tree.community_b, f"乙{i}"), venue, at(4, 12, 10))
    contacts_find_for_case(actor=actor_or_admin(None), case=case)
    return {"case": case, "investigator": investigator}


def _login(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_case_page_order_paged_contacts_and_contact_to_case(
    live_server: Any, browser_page: Any, world: Any
) -> None:
    page = browser_page
    page.set_viewport_size(SCREEN)
    case = world["case"]
    _login(page, live_server, "e2e-case-investigator")
    page.goto(f"{live_server.url}/tracing/cases/{case.pk}/")

    # 流调进展: the fields are wide and the button sits on its own row, on a desk and a phone.
    for width, least in ((1280, 600), (390, 300)):
        page.set_viewport_size({"width": width, "height": SCREEN["height"]})
        field = page.locator("#cf-vaccination").bounding_box()
        button = page.get_by_test_id("case-core-facts").bounding_box()
        assert field is not None and button is not None
        assert field["width"] >= least
        assert button["y"] >= field["y"] + field["height"]
    page.set_viewport_size(SCREEN)

    # The push button is within the first two screens, above the itinerary and contacts.
    push = page.get_by_test_id("push-contacts")
    push.wait_for()
    push_box = push.bounding_box()
    assert push_box is not None and push_box["y"] < 2 * SCREEN["height"]
    itinerary_y = page.locator("#case-itinerary").bounding_box()["y"]
    contacts = page.get_by_test_id("case-contacts")
    contacts.wait_for()
    assert push_box["y"] < itinerary_y < contacts.bounding_box()["y"]
    assert "共 5 人" in page.get_by_test_id("contact-total").inner_text()
    assert "{#" not in page.inner_text("body")

    # The contacts come a page at a time as they scroll into view, until all are there.
    # (the "more" row replaces itself when revealed, so scroll the page, not the row)
    page.get_by_test_id("contact-table").scroll_into_view_if_needed()
    rows = page.locator("[data-testid=contact-row]")
    for _ in range(10):
        if rows.count() == 5:
            break
        page.mouse.wheel(0, 2000)
        page.wait_for_timeout(300)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=contact-row]').length === 5"
    )
    assert page.locator("[data-testid=contacts-more]").count() == 0
    assert "乌镇面馆" in page.get_by_test_id("contact-table").inner_text()

    # A close contact reported as a case from its row: the person is already chosen.
    close_row = page.locator("[data-testid=contact-row]", has_text="密切接触者").first
    name = close_row.locator("td").first.inner_text()
    close_row.get_by_test_id("contact-to-case").click()
    page.get_by_test_id("case-from-contact").wait_for()
    assert case.number in page.get_by_test_id("case-from-contact").inner_text()
    assert page.locator("[data-testid=case-person-results]").count() == 0  # shown, not searched
    assert (page.get_by_test_id("case-person-fixed-id").get_attribute("value") or "").isdigit()
    page.get_by_test_id("case-submit").click()
    page.get_by_test_id("case-number").wait_for()
    assert page.get_by_test_id("case-person").inner_text() == name

    # The new case is linked to the case its person was a contact of.
    link = CaseLink.objects.get(infector=case)
    contact = Contact.objects.get(person_id=link.infectee.person_id)
    assert contact.status == "became_case"
    page.get_by_test_id("case-chain").wait_for()
    assert case.number in page.get_by_test_id("case-chain").inner_text()
