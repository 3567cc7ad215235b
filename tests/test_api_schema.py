"""The API as a whole: OpenAPI published, one error shape, authentication required."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fangkong.core.apitypes import LOCAL_TIME_PATTERN


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


# --- The published schema: valid, one name per component, errors documented ----------


def _published() -> dict:
    from fangkong.api import api

    return api.get_openapi_schema()


def test_published_schema_is_valid_openapi_3_1_and_every_operation_loads():
    import schemathesis
    from schemathesis.core.result import Ok

    schema = schemathesis.openapi.from_dict(_published())

    schema.validate()  # against the OpenAPI 3.1 meta-schema
    operations = list(schema.get_all_operations())
    assert len(operations) > 100
    assert all(isinstance(result, Ok) for result in operations)


def test_two_schemas_under_one_name_refuse_to_publish():
    from django.core.exceptions import ImproperlyConfigured
    from ninja import Router, Schema

    from fangkong.api import FangkongAPI

    def counts_a() -> type[Schema]:
        class CountsOut(Schema):
            target: int

        return CountsOut

    def counts_b() -> type[Schema]:
        class CountsOut(Schema):
            pending: int

        return CountsOut

    first, second = Router(), Router()
    a, b = counts_a(), counts_b()

    @first.get("/a", response=a)
    def get_a(request):
        return {"target": 1}

    @second.get("/b", response=b)
    def get_b(request):
        return {"pending": 1}

    api = FangkongAPI(urls_namespace="clash-test")
    api.add_router("/first", first)
    api.add_router("/second", second)

    with pytest.raises(ImproperlyConfigured, match="CountsOut"):
        api.get_openapi_schema(path_prefix="/")


def test_components_that_were_published_twice_now_have_one_shape_each():
    components = _published()["components"]["schemas"]

    # /accounts/me's jurisdiction and the areas' jurisdictions were both JurisdictionOut;
    # the push counts and the coverage counts were both CountsOut.
    assert "MeJurisdictionOut" in components and "JurisdictionOut" in components
    assert set(components["MeJurisdictionOut"]["properties"]) == {"id", "name", "path"}
    assert "level" in components["JurisdictionOut"]["properties"]
    assert "pending" in components["CountsOut"]["properties"]
    assert "untested" in components["CoverageCountsOut"]["properties"]
    # One error shape, defined once.
    assert set(components["ErrorOut"]["properties"]) == {"code", "message", "detail"}
    assert not any(name.startswith("ErrorOut") and name != "ErrorOut" for name in components)


def test_every_operation_documents_its_error_answers_with_the_one_error_shape():
    schema = _published()
    error_ref = {"$ref": "#/components/schemas/ErrorOut"}

    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            responses = {int(status): answer for status, answer in operation["responses"].items()}
            expected = {400, 404, 503}
            if operation.get("security"):
                expected |= {401, 403, 429}
            if method in {"post", "put", "patch", "delete"}:
                expected.add(409)
            if "requestBody" in operation:
                expected |= {413, 422}
            assert expected <= set(responses), (method, path, sorted(responses))
            for status in expected:
                assert responses[status]["content"]["application/json"]["schema"] == error_ref
            assert "Retry-After" in responses[503]["headers"]


def test_no_time_is_published_as_format_time():
    """JSON Schema's `format: time` is an RFC 3339 time with an offset; ours are local."""
    text = json.dumps(_published())

    assert '"format": "time"' not in text
    point = _published()["components"]["schemas"]["PointOut"]["properties"]["opens_at"]
    assert {"type": "string", "pattern": LOCAL_TIME_PATTERN} in point["anyOf"]


def test_pool_advice_publishes_its_curve_as_pairs_of_numbers():
    advice = _published()["components"]["schemas"]["AdviceOut"]["properties"]["curve"]

    assert advice["items"] == {
        "type": "array",
        "items": {"type": "number"},
        "minItems": 2,
        "maxItems": 2,
    }


# --- Every list is a keyset page ---------------------------------------------------------

# GET operations whose answer may be a bare JSON array, each with the reason it is not a
# list of records to page through. None today: every list is a `Page`.
NOT_A_LIST_OF_RECORDS: dict[str, str] = {}


def _answer_schema(schema: dict, operation: dict) -> dict:
    """The 200 answer's JSON schema, with a top-level $ref resolved."""
    answer = operation["responses"].get(200) or operation["responses"].get("200") or {}
    body = answer.get("content", {}).get("application/json", {}).get("schema", {})
    ref = body.get("$ref", "")
    if ref:
        return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return body


def _is_array(body: dict) -> bool:
    variants = body.get("anyOf", []) + body.get("oneOf", []) + [body]
    return any(v.get("type") == "array" for v in variants)


def _is_page(body: dict) -> bool:
    properties = body.get("properties", {})
    return (
        properties.get("items", {}).get("type") == "array"
        and "next_cursor" in properties
        and {"items", "next_cursor"} <= set(body.get("required", []))
    )


def test_every_list_endpoint_is_a_keyset_page_that_takes_cursor_and_size():
    schema = _published()
    pages: list[str] = []

    for path, methods in schema["paths"].items():
        operation = methods.get("get")
        if operation is None:
            continue
        body = _answer_schema(schema, operation)
        if _is_array(body):
            assert path in NOT_A_LIST_OF_RECORDS, f"GET {path} answers a bare list, not a Page"
            continue
        if not _is_page(body):
            continue  # one record (perhaps with its own lines, as a push), not a list
        pages.append(path)
        params = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}
        assert {"cursor", "size"} <= set(params), (path, sorted(params))
        assert params["size"]["schema"]["maximum"] == 200, path
        cursor = params["cursor"]["schema"]
        assert any(v.get("type") == "string" for v in cursor.get("anyOf", [cursor])), path

    # The ten lists that were paged before and the fifteen that returned bare lists, and
    # quarantine's sites, site rooms, placements and transfers; and its care lists (site
    # arrivals, checks, tests, releases; alerts; home); and its inspections (checklist,
    # inspections, rectifications, staff roster); and command's tasks and departments.
    care = [
        p
        for p in pages
        if p.startswith("/api/quarantine/") and p.split("/")[3] in {"site", "alerts", "home"}
    ]
    assert len(pages) - len(care) == 29 + 4 + 2, sorted(pages)
    assert len(care) == 6, care
    for path in (
        "/api/accounts/tokens",
        "/api/areas/zones",
        "/api/testing/labs/turnaround",
        "/api/testing/rounds/{round_id}/coverage/hours",
        "/api/tracing/cases/{case_id}/contacts",
    ):
        assert path in pages


def test_each_page_is_one_component_named_for_its_items():
    components = _published()["components"]["schemas"]

    assert not [name for name in components if name.startswith("Page_")]
    for name in ("CaseOutPage", "ZoneOutPage", "AuditEventOutPage", "HourOutPage"):
        page = components[name]
        assert page["title"] == name
        item = page["properties"]["items"]["items"]["$ref"].rsplit("/", 1)[-1]
        assert name == f"{item}Page"
    # A page with more than its items keeps its own name.
    assert "community" in components["UntestedPage"]["properties"]


# --- Every operation says what it does -------------------------------------------------


def _operations() -> list[tuple[str, Any]]:
    """(router prefix + path, ninja Operation) for every operation of the API."""
    from fangkong.api import api

    found = []
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                found.append((f"{prefix}{path}", operation))
    return found


def test_every_operation_has_its_own_english_summary():
    operations = _operations()
    summaries = [op.summary for _, op in operations]

    assert len(operations) > 100
    for path, op in operations:
        generated = op.view_func.__name__.title().replace("_", " ")
        assert op.summary != generated, f"{path}: summary= is not set"
        assert op.summary.isascii() and op.summary[0].isupper(), (path, op.summary)
        assert not op.summary.endswith("."), (path, op.summary)
        assert len(op.summary) <= 80, (path, op.summary)
    duplicates = {s for s in summaries if summaries.count(s) > 1}
    assert not duplicates, duplicates


def test_the_published_schema_carries_the_summaries():
    schema = _published()
    published = [
        op.get("summary", "") for methods in schema["paths"].values() for op in methods.values()
    ]

    assert len(published) == len(_operations())
    assert all(published)
    assert "List risk zones" in published
