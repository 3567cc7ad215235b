"""Cases API: create, read (scoped), lifecycle, itinerary; errors as {code, ...}."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.accounts.models import AuditEvent
from fangkong.testkit import tracing
from fangkong.testkit.clock import on
from fangkong.tracing.models import Case, ItineraryStop

pytestmark = pytest.mark.django_db
BASE = "/api/tracing/cases"


def post(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def as_user(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def test_create_and_read(client: Client, investigator: Any, person_a: Any) -> None:
    api = as_user(client, investigator)
    sampled = timezone.localdate() - dt.timedelta(days=1)

    response = post(
        api,
        BASE,
        {
            "person_id": person_a.pk,
            "kind": "asymptomatic",
            "first_positive_sampled_on": sampled.isoformat(),
            "reporting_unit": "桐乡市疾控中心",
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("TX") and body["number"].endswith("-0001")
    assert (body["person_name_masked"], body["ruleset_version"]) == ("张*", "v9")
    assert body["lookback_start"] == (sampled - dt.timedelta(days=4)).isoformat()
    assert body["status"] == "reported" and body["overdue"] is False
    assert "张三" not in response.content.decode()
    detail = api.get(f"{BASE}/{body['id']}").json()
    assert (detail["id"], detail["investigation"], detail["stops"]) == (body["id"], None, [])
    assert detail["timeline"][0]["kind"] == "reported"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"kind": "mild"}, 422, "invalid_input"),
        ({"first_positive_sampled_on": "2999-01-01"}, 400, "date_in_future"),
        ({"kind": "confirmed", "onset_date": "2999-01-01"}, 400, "date_in_future"),
        ({"reported_at": "2022-07-01T10:00:00"}, 400, "naive_datetime"),
        ({"person_id": 999999}, 404, "not_found"),
    ],
)
def test_bad_input_is_4xx_with_a_code_and_writes_nothing(
    client: Client, investigator: Any, person_a: Any, change: dict, status: int, code: str
) -> None:
    api = as_user(client, investigator)
    body = {
        "person_id": person_a.pk,
        "kind": "asymptomatic",
        "first_positive_sampled_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
        **change,
    }
    response = post(api, BASE, body)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert Case.objects.count() == 0
    assert not AuditEvent.objects.filter(action="case.create").exists()


def test_duplicate_case_is_409(client: Client, investigator: Any, person_a: Any) -> None:
    tracing.reported_case(person_a, actor=investigator)
    response = post(
        as_user(client, investigator),
        BASE,
        {
            "person_id": person_a.pk,
            "kind": "confirmed",
            "first_positive_sampled_on": timezone.localdate().isoformat(),
        },
    )
    assert (response.status_code, response.json()["code"]) == (409, "case_exists")


def test_scoping(
    client: Client,
    investigator: Any,
    town_a_user: Any,
    lab_user: Any,
    person_a: Any,
    person_b: Any,
    tree: Any,
) -> None:
    case_a = tracing.reported_case(person_a, actor=investigator)
    case_b = tracing.reported_case(person_b, actor=investigator)

    town = as_user(Client(), town_a_user)
    assert [i["id"] for i in town.get(BASE).json()["items"]] == [case_a.pk]
    assert town.get(f"{BASE}/{case_b.pk}").status_code == 404
    assert town.get(f"{BASE}/{case_b.pk}/stops").status_code == 404
    assert post(town, f"{BASE}/{case_b.pk}/start-investigation").status_code == 404
    assert town.get(f"{BASE}?town_id={tree.town_b.pk}").json()["items"] == []
    # town staff may read their town's case but not manage it
    refused = post(town, f"{BASE}/{case_a.pk}/start-investigation")
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")

    lab = as_user(Client(), lab_user)
    assert lab.get(BASE).status_code == 403
    assert lab.get(f"{BASE}/{case_a.pk}").status_code == 403

    inv = as_user(client, investigator)
    assert {i["id"] for i in inv.get(BASE).json()["items"]} == {case_a.pk, case_b.pk}
    assert inv.get(f"{BASE}?town_id={tree.town_b.pk}").json()["items"][0]["id"] == case_b.pk
    assert Case.objects.get(pk=case_a.pk).status == "reported"


def test_list_filters_and_pages(
    client: Client, investigator: Any, person_a: Any, person_b: Any
) -> None:
    late = tracing.reported_case(
        person_a, actor=investigator, reported_at=timezone.now() - dt.timedelta(hours=6)
    )
    fresh = tracing.reported_case(person_b, actor=investigator)
    api = as_user(client, investigator)

    overdue = api.get(f"{BASE}?overdue=true").json()["items"]
    assert [(i["id"], i["overdue"]) for i in overdue] == [(late.pk, True)]
    assert [i["id"] for i in api.get(f"{BASE}/overdue").json()["items"]] == [late.pk]
    first = api.get(f"{BASE}?size=1").json()
    assert [i["id"] for i in first["items"]] == [fresh.pk]
    second = api.get(f"{BASE}?size=1&cursor={first['next_cursor']}").json()
    assert [i["id"] for i in second["items"]] == [late.pk]
    assert api.get(f"{BASE}?status=bogus").status_code == 422
    bad_cursor = api.get(f"{BASE}?cursor=%%%")
    assert (bad_cursor.status_code, bad_cursor.json()["code"]) == (400, "invalid_cursor")


def test_lifecycle_and_itinerary(
    client: Client, investigator: Any, person_a: Any, places: Any
) -> None:
    case = tracing.reported_case(person_a, actor=investigator)
    api = as_user(client, investigator)
    url = f"{BASE}/{case.pk}"
    day = case.lookback_start + dt.timedelta(days=1)
    tracing.scans(person_a, [(places["hotel"], on(day, 8)), (places["hotel"], on(day, 8, 30))])

    early = post(api, f"{url}/complete-report")
    assert (early.status_code, early.json()["code"]) == (409, "case_transition_invalid")
    assert post(api, f"{url}/start-investigation").json()["status"] == "investigating"
    assert post(api, f"{url}/core-facts", {"symptoms": "无"}).json()["core_facts_done_at"]

    proposed = post(api, f"{url}/propose-itinerary").json()
    assert proposed["proposed"] == 1
    assert proposed["stops"][0]["place_name"] == "乌镇大酒店"

    added = post(
        api,
        f"{url}/stops",
        {
            "address": "家中",
            "start": on(day, 19).isoformat(),
            "end": on(day, 23).isoformat(),
            "companions": "丈夫",
        },
    )
    assert added.status_code == 201, added.content
    stop_id = added.json()["id"]
    outside = post(
        api,
        f"{url}/stops",
        {
            "address": "家中",
            "start": on(day - dt.timedelta(days=3), 9).isoformat(),
            "end": on(day - dt.timedelta(days=3), 10).isoformat(),
        },
    )
    assert (outside.status_code, outside.json()["code"]) == (400, "stop_outside_window")
    no_place = post(
        api, f"{url}/stops", {"start": on(day, 9).isoformat(), "end": on(day, 10).isoformat()}
    )
    assert no_place.json()["code"] == "stop_needs_place"
    unknown_place = post(
        api,
        f"{url}/stops",
        {"place_id": 999999, "start": on(day, 9).isoformat(), "end": on(day, 10).isoformat()},
    )
    assert (unknown_place.status_code, unknown_place.json()["code"]) == (400, "unknown_place")
    updated = api.put(
        f"{url}/stops/{stop_id}",
        data=json.dumps(
            {
                "address": "家中（楼上）",
                "start": on(day, 20).isoformat(),
                "end": on(day, 23).isoformat(),
            }
        ),
        content_type="application/json",
    )
    assert updated.json()["address"] == "家中（楼上）"
    assert api.delete(f"{url}/stops/{stop_id}").status_code == 204
    assert api.delete(f"{url}/stops/{stop_id}").status_code == 404
    assert len(api.get(f"{url}/stops").json()["stops"]) == 1

    not_confirmed = post(api, f"{url}/complete-report")
    assert (not_confirmed.status_code, not_confirmed.json()["code"]) == (
        409,
        "itinerary_not_confirmed",
    )
    confirmed = post(api, f"{url}/confirm-itinerary").json()
    assert confirmed["itinerary_confirmed_at"] and all(s["confirmed"] for s in confirmed["stops"])
    assert (
        post(api, f"{url}/complete-report", {"interview_notes": "已访谈"}).json()["status"]
        == "investigated"
    )
    assert post(api, f"{url}/close", {"reason": "治愈出院"}).json()["status"] == "closed"
    again = post(api, f"{url}/close", {"reason": "治愈出院"})
    assert (again.status_code, again.json()["code"]) == (409, "case_transition_invalid")


def test_confirm_empty_itinerary_is_409(client: Client, investigator: Any, person_a: Any) -> None:
    case = tracing.reported_case(person_a, actor=investigator)
    response = post(as_user(client, investigator), f"{BASE}/{case.pk}/confirm-itinerary")
    assert (response.status_code, response.json()["code"]) == (409, "itinerary_empty")
    assert ItineraryStop.objects.count() == 0


def test_openapi_documents_the_case_endpoints(client: Client, investigator: Any) -> None:
    spec = as_user(client, investigator).get("/api/openapi.json").json()
    paths = spec["paths"]
    assert "/api/tracing/cases/{case_id}/propose-itinerary" in paths
    assert "CaseDetailOut" in spec["components"]["schemas"]
