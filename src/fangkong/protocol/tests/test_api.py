"""The protocol API: rule sets, the rule set in force, computed dates; 401/403/4xx."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from fangkong.accounts.roles import Role
from fangkong.protocol.models import RuleSet

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(town_a_user: Any) -> Client:
    client = Client()
    client.force_login(town_a_user)
    return client


def post(client: Client, url: str, body: dict) -> Any:
    return client.post(url, body, content_type="application/json")


def test_list_and_detail(api: Client) -> None:
    response = api.get("/api/protocol/rulesets")
    assert response.status_code == 200
    versions = {r["version"]: r for r in response.json()["items"]}
    assert set(versions) == {"v8", "v9"}
    assert versions["v9"]["close_centralised_test_days"] == [1, 2, 3, 5, 7]
    assert versions["v9"]["based_on"] is None
    pk = versions["v8"]["id"]
    detail = api.get(f"/api/protocol/rulesets/{pk}").json()
    assert detail["close_centralised_days"] == 14
    assert detail["secondary_measure"] == "centralised"
    missing = api.get("/api/protocol/rulesets/99999")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


def test_in_force(api: Client) -> None:
    assert api.get("/api/protocol/in-force?on=2022-06-27").json()["version"] == "v8"
    assert api.get("/api/protocol/in-force?on=2022-06-28&path=330483102").json()["version"] == "v9"
    assert api.get("/api/protocol/in-force").json()["version"] == "v9"  # today


def test_in_force_bad_input(api: Client) -> None:
    bad_date = api.get("/api/protocol/in-force?on=2022-13-01")
    assert bad_date.status_code == 422
    assert bad_date.json()["code"] == "invalid_input"
    before = api.get("/api/protocol/in-force?on=2019-01-01")
    assert before.status_code == 404
    assert before.json()["code"] == "no_ruleset"
    bad_path = api.get("/api/protocol/in-force?path=33x")
    assert bad_path.status_code == 400
    assert bad_path.json()["code"] == "invalid_path"


def test_close_schedule(api: Client) -> None:
    response = post(
        api,
        "/api/protocol/schedule",
        {
            "kind": "close",
            "last_exposure_on": "2022-07-01",
            "path": "330483102",
            "on": "2022-07-02",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ruleset_version"] == "v9"
    assert body["end"] == {
        "value": "2022-07-08",
        "ruleset_version": "v9",
        "rule": "close_contact.centralised_end",
    }
    assert body["home_monitoring_end"]["value"] == "2022-07-11"
    assert [t["value"] for t in body["tests"]] == [
        "2022-07-02",
        "2022-07-03",
        "2022-07-04",
        "2022-07-06",
        "2022-07-08",
    ]
    assert [t["value"] for t in body["home_tests"]] == ["2022-07-11"]


def test_secondary_schedule_under_v8(api: Client) -> None:
    response = post(
        api,
        "/api/protocol/schedule",
        {"kind": "secondary", "last_exposure_on": "2022-06-01", "on": "2022-06-01"},
    )
    body = response.json()
    assert body["ruleset_version"] == "v8"
    assert body["measure"] == "centralised"
    assert body["end"]["value"] == "2022-06-08"
    assert body["home_monitoring_end"] is None
    assert [t["value"] for t in body["tests"]] == ["2022-06-02", "2022-06-05", "2022-06-08"]


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "close", "last_exposure_on": "2022-02-30"},
        {"kind": "close", "last_exposure_on": "yesterday"},
        {"kind": "close"},
        {"kind": "tertiary", "last_exposure_on": "2022-07-01"},
        {"kind": "close", "last_exposure_on": "2022-07-01", "path": "3304-83"},
    ],
)
def test_schedule_bad_input_is_422(api: Client, body: dict) -> None:
    response = post(api, "/api/protocol/schedule", body)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


def test_lookback(api: Client) -> None:
    symptomatic = post(
        api, "/api/protocol/lookback", {"onset_on": "2022-07-10", "on": "2022-07-11"}
    ).json()
    assert symptomatic["start"] == {
        "value": "2022-07-06",
        "ruleset_version": "v9",
        "rule": "contact_lookback.onset",
    }
    asymptomatic = post(
        api, "/api/protocol/lookback", {"first_positive_sampled_on": "2022-07-10"}
    ).json()
    assert asymptomatic["start"]["value"] == "2022-07-06"
    assert asymptomatic["start"]["rule"] == "contact_lookback.first_positive_sample"


def test_lookback_needs_a_date(api: Client) -> None:
    response = post(api, "/api/protocol/lookback", {"path": "330483"})
    assert response.status_code == 400
    assert response.json()["code"] == "lookback_needs_date"
    bad = post(api, "/api/protocol/lookback", {"onset_on": "10/07/2022"})
    assert bad.status_code == 422


ENDPOINTS = [
    ("get", "/api/protocol/rulesets", None),
    ("get", "/api/protocol/rulesets/{pk}", None),
    ("get", "/api/protocol/in-force", None),
    ("post", "/api/protocol/schedule", {"kind": "close", "last_exposure_on": "2022-07-01"}),
    ("post", "/api/protocol/lookback", {"onset_on": "2022-07-10"}),
]


@pytest.mark.parametrize(("method", "url", "body"), ENDPOINTS)
def test_anonymous_gets_401(method: str, url: str, body: dict | None) -> None:
    pk = RuleSet.objects.get(version="v9").pk
    client = Client()
    url = url.format(pk=pk)
    response = client.get(url) if method == "get" else post(client, url, body or {})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(("method", "url", "body"), ENDPOINTS)
def test_role_without_ruleset_view_gets_403(
    make_user: Any, tree: Any, method: str, url: str, body: dict | None
) -> None:
    pk = RuleSet.objects.get(version="v9").pk
    client = Client()
    client.force_login(make_user(Role.LAB, tree.town_a))
    url = url.format(pk=pk)
    response = client.get(url) if method == "get" else post(client, url, body or {})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "v9" not in response.content.decode()


def test_rule_set_shows_who_is_close_and_risk_schedule(api: Client) -> None:
    v9 = api.get("/api/protocol/rulesets").json()["items"]
    found = next(r for r in v9 if r["version"] == "v9")
    assert "household" in found["always_close_exposure_kinds"]
    assert found["small_venue_close_minutes"] == 15 and found["venue_close_minutes"] == 240
    assert "market" in found["large_venue_kinds"] and found["risk_test_days"] == [1, 3]
    response = api.post(
        "/api/protocol/schedule",
        {"kind": "co_presence", "last_exposure_on": "2022-07-01", "on": "2022-07-02"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["end"]["value"] == "2022-07-04"
    assert body["end"]["rule"] == "risk_person.monitoring_end"
    assert [t["value"] for t in body["tests"]] == ["2022-07-02", "2022-07-04"]
