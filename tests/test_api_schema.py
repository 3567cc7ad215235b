"""The API as a whole: OpenAPI published, one error shape, authentication required."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_openapi_lists_every_apps_endpoints(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for expected in (
        "/api/accounts/me",
        "/api/people/persons",
        "/api/people/persons/{person_id}/reveal",
        "/api/areas/zones",
        "/api/areas/jurisdictions",
        "/api/areas/places",
        "/api/protocol/rulesets",
    ):
        assert any(p.startswith(expected) for p in paths), expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/people/persons", "/api/areas/zones", "/api/accounts/audit", "/api/accounts/me"]
)
def test_anonymous_gets_401_in_the_one_error_shape(client, path):
    response = client.get(path)
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"code", "message", "detail"}
    assert body["code"] == "not_authenticated"


@pytest.mark.django_db
def test_bad_json_body_is_a_4xx_with_a_code(client, command_user):
    client.force_login(command_user)
    response = client.post("/api/people/persons", data="{not json", content_type="application/json")
    assert 400 <= response.status_code < 500
    assert "code" in response.json()


@pytest.mark.django_db
def test_api_docs_page_loads_nothing_from_outside(client, command_user):
    client.force_login(command_user)
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui-bundle.js" in html
    assert "cdn." not in html and "unpkg" not in html and "https://" not in html
