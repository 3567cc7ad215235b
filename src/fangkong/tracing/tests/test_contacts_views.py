"""Contacts pages: the case fragment, find and add, list, detail; scoping."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from fangkong.accounts.roles import Role
from fangkong.testkit import areas, people, tracing
from fangkong.testkit.clock import at
from fangkong.tracing.models import Contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(tree: Any) -> Any:
    venue = areas.place(tree.community_a, venue_kind="restaurant")
    c = tracing.case(people.person(tree.community_a, "王芳"))
    tracing.stop(c, venue, at(4, 10), at(4, 11), confirmed=True)
    tracing.scan(people.person(tree.community_a, "李强"), venue, at(4, 10, 10))
    tracing.scan(people.person(tree.community_b, "赵敏"), venue, at(4, 11, 5))
    return c


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_fragment_find_and_rerender(investigator: Any, case: Any) -> None:
    client = client_for(investigator)
    empty = client.get(reverse("tracing:case_contacts", args=[case.pk]))
    assert empty.status_code == 200
    assert 'data-testid="find-contacts"' in empty.content.decode()
    assert b"contact-row" not in empty.content
    found = client.post(
        reverse("tracing:case_find_contacts", args=[case.pk]), HTTP_HX_REQUEST="true"
    )
    body = found.content.decode()
    assert found.status_code == 200
    assert body.count('data-testid="contact-row"') == 2
    assert "李*" in body and "李强" not in body  # masked
    assert "密切接触者" in body and "时空伴随者" in body


def test_fragment_bad_tolerance_is_400(investigator: Any, case: Any) -> None:
    response = client_for(investigator).post(
        reverse("tracing:case_find_contacts", args=[case.pk]),
        {"tolerance_minutes": "-3"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert Contact.objects.count() == 0


def test_add_contact_form(investigator: Any, case: Any, tree: Any) -> None:
    client = client_for(investigator)
    url = reverse("tracing:case_add_contact", args=[case.pk])
    form = {
        "name": "冯七",
        "id_kind": "ric",
        "id_number": people.ric(31),
        "jurisdiction": str(tree.community_b.pk),
        "classification": "close",
        "exposed_on": "2022-07-03",
    }
    ok = client.post(url, form, HTTP_HX_REQUEST="true")
    assert ok.status_code == 200
    assert ok.content.decode().count('data-testid="contact-row"') == 1
    bad = client.post(url, {**form, "exposed_on": "not a date"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 400
    assert 'data-testid="contacts-error"' in bad.content.decode()
    assert Contact.objects.count() == 1


def test_list_and_detail_pages(investigator: Any, case: Any) -> None:
    client = client_for(investigator)
    client.post(reverse("tracing:case_find_contacts", args=[case.pk]), HTTP_HX_REQUEST="true")
    listing = client.get(reverse("tracing:contact_list"))
    assert listing.status_code == 200
    assert listing.content.decode().count('data-testid="contact-row"') == 2
    contact = Contact.objects.get(classification="close")
    detail = client.get(reverse("tracing:contact_detail", args=[contact.pk]))
    body = detail.content.decode()
    assert detail.status_code == 200
    assert 'data-testid="exposure-row"' in body
    assert "(v9)" in body
    assert case.number in body
    assert 'data-testid="find-secondary"' in body
    found = client.post(reverse("tracing:contact_find_secondary", args=[contact.pk]))
    assert found.status_code == 302


def test_pages_are_scoped(investigator: Any, case: Any, tree: Any, make_user: Any) -> None:
    client_for(investigator).post(
        reverse("tracing:case_find_contacts", args=[case.pk]), HTTP_HX_REQUEST="true"
    )
    town_b = client_for(make_user(Role.TOWN_STAFF, tree.town_b))
    listing = town_b.get(reverse("tracing:contact_list")).content.decode()
    assert listing.count('data-testid="contact-row"') == 1
    assert "赵*" in listing
    a_contact = Contact.objects.get(jurisdiction_path__startswith=tree.town_a.path)
    assert town_b.get(reverse("tracing:contact_detail", args=[a_contact.pk])).status_code == 404
    assert town_b.get(reverse("tracing:case_contacts", args=[case.pk])).status_code == 404
    lab = client_for(make_user(Role.LAB, tree.city))
    assert lab.get(reverse("tracing:contact_list")).status_code == 403
    assert lab.post(reverse("tracing:case_find_contacts", args=[case.pk])).status_code == 403
    assert Contact.objects.count() == 2
