"""End-to-end flows of the foundation in a real browser (Debian chromium via Playwright).

Command: log in through the login page, see the dashboard map, open a person, reveal the
ID number, find that reveal in the audit log. Town staff: log in, fail to open another
town's person.
"""

from __future__ import annotations

import pytest

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.roles import Role
from fangkong.accounts.services import user_create
from fangkong.areas.services.areas import jurisdiction_set_geometry
from fangkong.people.rules import ric_checksum
from fangkong.people.services import person_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-Fangkong-2022"


def _square(lat: float, lon: float, d: float = 0.02) -> dict:
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture
def city(tree):
    admin = user_create(
        username="e2e-admin", password=PASSWORD, role=Role.ADMIN, jurisdiction=tree.city
    )
    jurisdiction_set_geometry(actor=admin, jurisdiction=tree.town_a, geojson=_square(30.74, 120.48))
    jurisdiction_set_geometry(actor=admin, jurisdiction=tree.town_b, geojson=_square(30.66, 120.62))
    body_a = "33048320010203123"
    body_b = "33048319950607456"
    person_a = person_create(
        actor=admin,
        name="张小三",
        id_kind="ric",
        id_number=body_a + ric_checksum(body_a),
        phone="13812345678",
        jurisdiction=tree.community_a,
    )
    person_b = person_create(
        actor=admin,
        name="李四",
        id_kind="ric",
        id_number=body_b + ric_checksum(body_b),
        phone="13912345678",
        jurisdiction=tree.community_b,
    )
    command = user_create(
        username="e2e-command", password=PASSWORD, role=Role.COMMAND, jurisdiction=tree.city
    )
    town_a = user_create(
        username="e2e-town-a", password=PASSWORD, role=Role.TOWN_STAFF, jurisdiction=tree.town_a
    )
    return {
        "person_a": person_a,
        "person_b": person_b,
        "id_a": body_a + ric_checksum(body_a),
        "command": command,
        "town_a": town_a,
    }


def _login(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_command_reveals_an_id_and_finds_it_in_the_audit_log(live_server, browser_page, city):
    page = browser_page
    _login(page, live_server, "e2e-command")

    # The dashboard with its map, drawn from local GeoJSON (no tile server).
    assert page.url.rstrip("/") == live_server.url
    page.wait_for_selector(".leaflet-container")
    page.wait_for_selector(".leaflet-overlay-pane path", state="attached")
    assert page.locator(".leaflet-overlay-pane path").count() >= 2

    # Open the person: the ID is masked until revealed.
    person = city["person_a"]
    page.goto(f"{live_server.url}/people/{person.pk}/")
    masked = page.locator("[data-testid=masked-id_number]")
    assert city["id_a"] not in page.content()
    assert "*" in masked.inner_text()

    page.click("[data-testid=reveal-id_number]")
    page.wait_for_selector(f"text={city['id_a']}")
    assert (
        AuditEvent.objects.filter(
            action="person.reveal",
            object_id=str(person.pk),
            field="id_number",
            actor_username="e2e-command",
        ).count()
        == 1
    )

    # The reveal is in the audit page.
    page.goto(f"{live_server.url}/accounts/audit/?action=person.reveal")
    row = page.locator("table tbody tr", has_text="查看完整证件号或手机号")
    assert row.count() == 1
    assert "e2e-command" in row.inner_text()
    assert "证件号码" in row.inner_text()


def test_town_staff_cannot_open_another_towns_person(live_server, browser_page, city):
    page = browser_page
    _login(page, live_server, "e2e-town-a")

    response = page.goto(f"{live_server.url}/people/{city['person_b'].pk}/")
    assert response is not None and response.status == 404
    assert "李" not in page.locator("main").inner_text()

    # Their own town's person opens.
    response = page.goto(f"{live_server.url}/people/{city['person_a'].pk}/")
    assert response is not None and response.status == 200

    # And the other town's person is not in their list either.
    page.goto(f"{live_server.url}/people/?q=ls")
    assert "李*" not in page.locator("main").inner_text()
