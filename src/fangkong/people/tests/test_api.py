"""People API: masked output, create-or-get, reveal, households, input validation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from fangkong.accounts.models import AuditEvent
from fangkong.people.models import Person

from .conftest import make_ric


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def a_client(client: Client, town_a_user: Any) -> Client:
    client.force_login(town_a_user)
    return client


def test_list_is_masked(a_client: Client, people: Any) -> None:
    response = a_client.get("/api/people/persons")
    assert response.status_code == 200
    body = response.json()
    assert [i["id"] for i in body["items"]] == [people.a.pk]
    item = body["items"][0]
    assert (item["name_masked"], item["id_masked"], item["phone_masked"]) == (
        "张*",
        "330483********" + people.a_id[-4:],
        "138****5678",
    )
    assert people.a_id not in response.content.decode()
    assert "张三" not in response.content.decode()
    assert body["next_cursor"] is None


def test_list_keyset_pages(a_client: Client, tree: Any, person_maker: Any) -> None:
    made = [person_maker(tree.community_a, f"王{i}") for i in range(5)]
    first = a_client.get("/api/people/persons?size=2").json()
    assert [i["id"] for i in first["items"]] == [made[4].pk, made[3].pk]
    second = a_client.get(f"/api/people/persons?size=2&cursor={first['next_cursor']}").json()
    assert [i["id"] for i in second["items"]] == [made[2].pk, made[1].pk]
    third = a_client.get(f"/api/people/persons?size=2&cursor={second['next_cursor']}").json()
    assert ([i["id"] for i in third["items"]], third["next_cursor"]) == ([made[0].pk], None)


def test_list_bad_paging_is_4xx(a_client: Client) -> None:
    assert a_client.get("/api/people/persons?size=0").status_code == 422
    assert a_client.get("/api/people/persons?size=201").status_code == 422
    response = a_client.get("/api/people/persons?cursor=%%%")
    assert (response.status_code, response.json()["code"]) == (400, "invalid_cursor")


def test_list_query_count(
    a_client: Client, tree: Any, person_maker: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(30):
        person_maker(tree.community_a, f"王{i}")
    with django_assert_max_num_queries(4):
        response = a_client.get("/api/people/persons?size=50")
    assert len(response.json()["items"]) == 30


def test_get_one(a_client: Client, people: Any) -> None:
    body = a_client.get(f"/api/people/persons/{people.a.pk}").json()
    assert (body["id"], body["jurisdiction_name"], body["birth_year"]) == (
        people.a.pk,
        "虹桥村",
        1985,
    )
    assert a_client.get("/api/people/persons/999999").status_code == 404


def test_create_then_get_existing(a_client: Client, tree: Any) -> None:
    body = {
        "name": "赵六",
        "id_kind": "ric",
        "id_number": make_ric(61),
        "jurisdiction_id": tree.grid_a.pk,
    }
    created = post(a_client, "/api/people/persons", body)
    assert created.status_code == 201
    again = post(a_client, "/api/people/persons", {**body, "name": "赵六六"})
    assert again.status_code == 200
    assert again.json()["id"] == created.json()["id"]
    assert again.json()["name_masked"] == "赵*"
    assert Person.objects.count() == 1


def test_create_existing_outside_scope_is_409_without_detail(
    a_client: Client, people: Any, tree: Any
) -> None:
    body = {
        "name": "李四",
        "id_kind": "ric",
        "id_number": people.b_id,
        "jurisdiction_id": tree.community_a.pk,
    }
    response = post(a_client, "/api/people/persons", body)
    assert response.status_code == 409
    assert (response.json()["code"], response.json()["detail"]) == ("person_exists", {})


@pytest.mark.parametrize(
    ("patch", "status", "code"),
    [
        ({"id_number": "110105194912310021"}, 400, "id_bad_checksum"),
        ({"id_number": "330483199002300011"}, 400, "id_bad_birth_date"),
        ({"id_number": "12345"}, 400, "id_wrong_length"),
        ({"phone": "123"}, 400, "phone_invalid"),
        ({"name": "张" * 65}, 422, "invalid_input"),
        ({"id_number": "1" * 41}, 422, "invalid_input"),
        ({"phone": "1" * 21}, 422, "invalid_input"),
        ({"id_kind": "visa"}, 422, "invalid_input"),
        ({"name": ""}, 422, "invalid_input"),
    ],
)
def test_create_bad_input(
    a_client: Client, tree: Any, patch: dict[str, Any], status: int, code: str
) -> None:
    body = {
        "name": "赵六",
        "id_kind": "ric",
        "id_number": make_ric(61),
        "jurisdiction_id": tree.grid_a.pk,
    }
    response = post(a_client, "/api/people/persons", {**body, **patch})
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert Person.objects.count() == 0


def test_create_in_a_town_is_refused(a_client: Client, tree: Any) -> None:
    body = {"name": "赵六", "id_kind": "none", "jurisdiction_id": tree.town_a.pk}
    response = post(a_client, "/api/people/persons", body)
    assert (response.status_code, response.json()["code"]) == (400, "jurisdiction_level_invalid")


def test_reveal(a_client: Client, people: Any, town_a_user: Any) -> None:
    response = post(a_client, f"/api/people/persons/{people.a.pk}/reveal", {"field": "phone"})
    assert response.status_code == 200
    assert response.json() == {"field": "phone", "value": people.a_phone}
    event = AuditEvent.objects.get(action="person.reveal")
    assert (event.actor, event.field) == (town_a_user, "phone")
    bad = post(a_client, f"/api/people/persons/{people.a.pk}/reveal", {"field": "name"})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_input")
    assert AuditEvent.objects.filter(action="person.reveal").count() == 1


def test_households(a_client: Client, tree: Any, people: Any) -> None:
    created = post(
        a_client,
        "/api/people/households",
        {"address": "虹桥村8号", "community_id": tree.community_a.pk},
    )
    assert created.status_code == 201
    hid = created.json()["id"]
    added = post(a_client, f"/api/people/households/{hid}/members", {"person_id": people.a.pk})
    assert added.status_code == 200 and added.json()["household_id"] == hid
    detail = a_client.get(f"/api/people/households/{hid}").json()
    assert [m["id"] for m in detail["members"]] == [people.a.pk]
    listing = a_client.get("/api/people/households").json()
    assert [h["id"] for h in listing["items"]] == [hid]
    too_long = post(
        a_client,
        "/api/people/households",
        {"address": "x" * 301, "community_id": tree.community_a.pk},
    )
    assert (too_long.status_code, too_long.json()["code"]) == (422, "invalid_input")


def test_anonymous_is_401(client: Client, people: Any) -> None:
    assert client.get("/api/people/persons").status_code == 401
    assert client.get(f"/api/people/persons/{people.a.pk}").status_code == 401
