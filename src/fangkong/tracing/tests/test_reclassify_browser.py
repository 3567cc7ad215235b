"""Promote or demote a contact in a real browser: the 改判 form on the contact page, a
refusal without a reason, then the change with its reason and the recomputed dates."""

from __future__ import annotations

import os
from typing import Any

import pytest

from fangkong.accounts.roles import Role
from fangkong.testkit import areas, people, tracing
from fangkong.testkit.actors import actor_or_admin
from fangkong.testkit.clock import at
from fangkong.tracing.models import Contact
from fangkong.tracing.services.contacts import contacts_find_for_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-Fangkong-2022"
SHOTS = os.environ.get("FANGKONG_SCREENSHOTS", "")


def _shot(page: Any, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.fixture
def world(tree: Any, make_user: Any) -> dict[str, Any]:
    make_user(Role.INVESTIGATOR, tree.city, "e2e-reclassify")
    restaurant = areas.place(tree.community_a, "venue", "乌镇面馆", venue_kind="restaurant")
    market = areas.place(tree.community_a, "venue", "乌镇农贸市场", venue_kind="market")
    case = tracing.case(people.person(tree.community_a, "王芳"))
    tracing.stop(case, restaurant, at(4, 10), at(4, 11), confirmed=True)
    tracing.stop(case, market, at(4, 7), at(4, 9), confirmed=True)
    diner = people.person(tree.community_a, "李强")
    tracing.scan(diner, restaurant, at(4, 10, 20))
    tracing.scan(people.person(tree.community_b, "赵敏"), market, at(4, 7, 30))
    contacts_find_for_case(actor=actor_or_admin(None), case=case)
    return {"case": case, "contact": Contact.objects.get(person=diner)}


def _login(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_demote_a_close_contact_with_a_reason(
    live_server: Any, browser_page: Any, world: Any
) -> None:
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    _login(page, live_server, "e2e-reclassify")
    case = world["case"]
    page.goto(f"{live_server.url}/tracing/cases/{case.pk}/")
    page.get_by_test_id("contact-table").wait_for()
    counts = page.get_by_test_id("contact-counts").inner_text()
    assert "时空伴随者（风险人员） 1" in counts and "密切接触者 1" in counts
    page.get_by_test_id("case-contacts").scroll_into_view_if_needed()
    _shot(page, "case_contacts")
    contact = world["contact"]
    page.goto(f"{live_server.url}/tracing/contacts/{contact.pk}/")
    assert page.get_by_test_id("contact-class").inner_text() == "密切接触者"
    page.locator("[data-testid=reclassify] summary").click()
    page.get_by_test_id("reclassify-class").select_option("co_presence")
    _shot(page, "contact_reclassify_form")
    # the browser refuses an empty reason (required); the server would too
    page.get_by_test_id("reclassify-submit").click()
    assert Contact.objects.get(pk=contact.pk).classification == "close"
    page.get_by_test_id("reclassify-reason").fill("核实为隔壁桌，无交谈")
    page.get_by_test_id("reclassify-submit").click()
    page.get_by_test_id("reclassified").wait_for()
    assert page.get_by_test_id("contact-class").inner_text() == "时空伴随者（风险人员）"
    assert "核实为隔壁桌" in page.get_by_test_id("upgrade-reason").inner_text()
    assert page.get_by_test_id("quarantine-end").inner_text() == "—"
    _shot(page, "contact_reclassified")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "contact_reclassified_phone")
    saved = Contact.objects.get(pk=contact.pk)
    assert saved.classification == "co_presence"
    assert saved.monitoring_end_on is not None
