"""Contacts API: find, list, add, detail, secondary; scoping and bad input."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from fangkong.accounts.roles import Role
from fangkong.people.models import Person
from fangkong.testkit import areas, people, tracing
from fangkong.testkit.clock import at
from fangkong.tracing.models import Contact, Exposure

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(tree: Any) -> Any:
    venue = areas.place(tree.community_a, venue_kind="restaurant")
    person = people.person(tree.community_a, "王芳")
    c = tracing.case(person)
    tracing.stop(c, venue, at(4, 10), at(4, 11), confirmed=True)
    tracing.scan(people.person(tree.community_a, "李强"), venue, at(4, 10, 10))
    tracing.scan(people.person(tree.community_b, "赵敏"), venue, at(4, 10, 20))
    return c


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_find_then_list_and_detail(investigator: Any, case: Any) -> None:
    client = client_for(investigator)
    found = client.post(
        f"/api/tracing/cases/{case.pk}/find-contacts", {}, content_type="application/json"
    )
    assert found.status_code == 200, found.content
    assert found.json()["by_class"] == {"close": 2}
    listed = client.get(f"/api/tracing/cases/{case.pk}/contacts").json()["items"]
    assert len(listed) == 2
    assert {c["name_masked"][0] for c in listed} == {"李", "赵"}
    assert all("*" in c["name_masked"] for c in listed)
    assert listed[0]["exposures"][0]["kind"] == "co_presence"
    assert listed[0]["ruleset_version"] == "v9"
    page = client.get("/api/tracing/contacts?classification=close").json()
    assert len(page["items"]) == 2
    detail = client.get(f"/api/tracing/contacts/{listed[0]['id']}").json()
    assert detail["exposures"][0]["source_case_number"] == case.number


def test_add_manual_contact(investigator: Any, case: Any, tree: Any) -> None:
    client = client_for(investigator)
    body = {
        "name": "冯七",
        "id_number": people.ric(21),
        "jurisdiction_id": tree.community_b.pk,
        "exposed_on": "2022-07-03",
    }
    first = client.post(
        f"/api/tracing/cases/{case.pk}/contacts", body, content_type="application/json"
    )
    assert first.status_code == 201, first.content
    again = client.post(
        f"/api/tracing/cases/{case.pk}/contacts", body, content_type="application/json"
    )
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert Person.objects.filter(name="冯七").count() == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"classification": "secondary"}, 422, "invalid_input"),
        ({"exposed_on": "2999-01-01"}, 400, "invalid_exposure_date"),
        ({"id_number": "330483199001011234"}, 400, "id_bad_checksum"),
        ({"exposed_on": "yesterday"}, 422, "invalid_input"),
    ],
)
def test_add_manual_bad_input_writes_nothing(
    investigator: Any, case: Any, tree: Any, body: dict, status: int, code: str
) -> None:
    payload = {
        "name": "冯七",
        "id_number": people.ric(22),
        "jurisdiction_id": tree.community_b.pk,
        "exposed_on": "2022-07-03",
        **body,
    }
    persons = Person.objects.count()
    response = client_for(investigator).post(
        f"/api/tracing/cases/{case.pk}/contacts", payload, content_type="application/json"
    )
    assert response.status_code == status
    assert response.json()["code"] == code
    assert Person.objects.count() == persons
    assert Contact.objects.count() == 0


def test_bad_tolerance_is_422(investigator: Any, case: Any) -> None:
    response = client_for(investigator).post(
        f"/api/tracing/cases/{case.pk}/find-contacts",
        {"tolerance_minutes": -1},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert Contact.objects.count() == 0


def test_bad_filter_is_400(investigator: Any) -> None:
    response = client_for(investigator).get("/api/tracing/contacts?classification=nope")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_classification"


def test_scoping_town_sees_only_its_contacts(
    investigator: Any, case: Any, tree: Any, make_user: Any
) -> None:
    client_for(investigator).post(
        f"/api/tracing/cases/{case.pk}/find-contacts", {}, content_type="application/json"
    )
    a_contact = Contact.objects.get(jurisdiction_path__startswith=tree.town_a.path)
    b_contact = Contact.objects.get(jurisdiction_path__startswith=tree.town_b.path)
    town_b = client_for(make_user(Role.TOWN_STAFF, tree.town_b))
    items = town_b.get("/api/tracing/contacts").json()["items"]
    assert [c["id"] for c in items] == [b_contact.pk]
    assert town_b.get(f"/api/tracing/contacts/{a_contact.pk}").status_code == 404
    assert town_b.get(f"/api/tracing/contacts/{b_contact.pk}").status_code == 200
    # the case lives in town A: town B cannot open it, nor find or add contacts for it
    assert town_b.get(f"/api/tracing/cases/{case.pk}/contacts").status_code == 404
    assert (
        town_b.post(
            f"/api/tracing/cases/{case.pk}/find-contacts", {}, content_type="application/json"
        ).status_code
        == 403
    )


def test_lab_is_refused(case: Any, tree: Any, make_user: Any) -> None:
    lab = client_for(make_user(Role.LAB, tree.city))
    assert lab.get("/api/tracing/contacts").status_code == 403
    assert lab.get(f"/api/tracing/cases/{case.pk}/contacts").status_code == 403
    response = lab.post(
        f"/api/tracing/cases/{case.pk}/find-contacts", {}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert Contact.objects.count() == 0


def test_find_secondary(investigator: Any, case: Any, tree: Any) -> None:
    client = client_for(investigator)
    client.post(f"/api/tracing/cases/{case.pk}/find-contacts", {}, content_type="application/json")
    close = Contact.objects.filter(classification="close").order_by("pk").first()
    assert close is not None
    restaurant = areas.place(tree.community_b, venue_kind="restaurant")
    evening = [(restaurant, at(4, 18 + h // 2, 30 * (h % 2))) for h in range(9)]
    tracing.scans(Person.objects.get(pk=close.person_id), evening)
    diner = people.person(tree.community_b)
    tracing.scans(diner, evening)  # the whole evening at the close contact's table
    response = client.post(f"/api/tracing/contacts/{close.pk}/find-secondary")
    assert response.status_code == 200, response.content
    assert response.json()["by_class"]["secondary"] == 1  # the other close contact stays close
    assert Exposure.objects.get(contact__person=diner).source_contact_id == close.pk
    # a co-presence contact is not a close contact: 409
    secondary = Contact.objects.get(person=diner)
    refused = client.post(f"/api/tracing/contacts/{secondary.pk}/find-secondary")
    assert refused.status_code == 409
    assert refused.json()["code"] == "not_close_contact"
