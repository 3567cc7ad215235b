"""Bad input that got past the endpoints' own checks: a 4xx with a stable code, never a 500.

Through real HTTP (Django's test client, the whole middleware stack), on the API and on
the pages: multipart without a boundary, a body over DATA_UPLOAD_MAX_MEMORY_SIZE, ids too
large for a 64-bit column, SQLite's "database is locked".
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

TOO_LARGE = 2**63  # one past the largest id a 64-bit column holds
NO_BOUNDARY = "multipart/form-data"  # the boundary parameter is missing


def _bearer(world: Any, username: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {world.tokens[username]}"}


def _error(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert set(body) == {"code", "message", "detail"}, body
    return body


# --- multipart without a boundary ---------------------------------------------------


@pytest.mark.parametrize(
    ("path", "username"),
    [
        ("/api/tracing/pushes/{push}/import", "town-wuzhen"),
        ("/api/testing/results/import", "lab"),
        ("/api/tracing/scan-imports", "command"),
    ],
)
def test_upload_without_a_multipart_boundary_is_400_multipart_invalid(
    api_world: Any, path: str, username: str
) -> None:
    client = Client(raise_request_exception=False)
    url = path.format(push=api_world.ids["push_id"][0])

    response = client.post(
        url, data=b"--x\r\nfile\r\n--x--", content_type=NO_BOUNDARY, **_bearer(api_world, username)
    )

    assert response.status_code == 400
    assert _error(response)["code"] == "multipart_invalid"


def test_page_post_without_a_multipart_boundary_is_a_400_page(db: None) -> None:
    """The CSRF check reads a POST's form before any view runs; it no longer 500s."""
    client = Client(raise_request_exception=False)

    response = client.post(reverse("accounts:login"), data=b"--x--", content_type=NO_BOUNDARY)

    assert response.status_code == 400
    assert 'data-error-code="multipart_invalid"' in response.content.decode()


# --- a body over DATA_UPLOAD_MAX_MEMORY_SIZE -----------------------------------------


def test_sampling_sync_body_over_the_upload_limit_is_413(api_world: Any, settings: Any) -> None:
    from fangkong.testing.models import Tube

    client = Client(raise_request_exception=False)
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    body = json.dumps({"tubes": [], "padding": padding})
    tubes_before = Tube.objects.count()

    response = client.post(
        "/api/testing/sampling/sync",
        data=body,
        content_type="application/json",
        **_bearer(api_world, "sampler"),
    )

    assert response.status_code == 413
    assert _error(response)["code"] == "request_too_large"
    assert Tube.objects.count() == tubes_before


def test_page_form_over_the_upload_limit_is_a_413_page(db: None, settings: Any) -> None:
    client = Client(raise_request_exception=False)
    body = "username=a&password=" + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)

    response = client.post(
        reverse("accounts:login"), data=body, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 413
    assert 'data-error-code="request_too_large"' in response.content.decode()


# --- ids too large for the database ---------------------------------------------------


def _too_large_requests(world: Any) -> list[tuple[str, str, dict[str, Any] | None, str, int]]:
    """(method, url, body, username, expected status) for every edge that names a row id."""
    stock = world.ids["stock_id"][0]
    opened = "2022-07-06T08:00:00+08:00"
    return [
        # Query and body ids are refused at the edge (RowId), before any query is sent.
        ("get", f"/api/areas/jurisdictions?parent={TOO_LARGE}", None, "command", 422),
        ("get", f"/api/areas/places?jurisdiction={TOO_LARGE}", None, "command", 422),
        ("get", f"/api/testing/supplies?place_id={TOO_LARGE}", None, "command", 422),
        (
            "post",
            "/api/areas/zones",
            {
                "name": "测试区",
                "level": "controlled",
                "jurisdiction_id": TOO_LARGE,
                "started_on": "2022-07-05",
                "reason": "测试",
            },
            "command",
            422,
        ),
        (
            "post",
            "/api/testing/rounds",
            {"name": "第九轮", "jurisdiction_ids": [TOO_LARGE], "starts_at": opened},
            "command",
            422,
        ),
        (
            "post",
            f"/api/testing/supplies/{stock}/transfer",
            {"quantity": 1, "to_place_id": TOO_LARGE},
            "command",
            422,
        ),
        ("post", "/api/testing/points", {"place_id": TOO_LARGE}, "command", 422),
        (
            "post",
            "/api/testing/sampling/sync",
            {
                "tubes": [
                    {
                        "barcode": "BIG00000001",
                        "round": TOO_LARGE,
                        "pool_size": 1,
                        "opened_at": opened,
                        "samples": [],
                    }
                ]
            },
            "sampler",
            422,
        ),
        # A path id that matches no row is simply not found.
        ("get", f"/api/areas/zones/{TOO_LARGE}", None, "command", 404),
        ("get", f"/api/testing/rounds/{TOO_LARGE}", None, "command", 404),
    ]


@pytest.mark.parametrize("index", range(10))
def test_ids_too_large_for_the_database_are_refused_with_a_code(api_world: Any, index: int) -> None:
    from fangkong.testing.models import Tube

    method, url, body, username, status = _too_large_requests(api_world)[index]
    client = Client(raise_request_exception=False)
    extra = _bearer(api_world, username)
    tubes_before = Tube.objects.count()

    if method == "get":
        response = client.get(url, **extra)
    else:
        response = client.post(url, data=json.dumps(body), content_type="application/json", **extra)

    assert response.status_code == status, (url, response.content[:300])
    assert _error(response)["code"] == {422: "invalid_input", 404: "not_found"}[status]
    assert Tube.objects.count() == tubes_before


def test_a_number_the_database_cannot_hold_is_400_number_out_of_range(
    api_world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The safety net behind the edge: whatever reaches the database with a number too
    large (SQLite raises OverflowError) answers 400 `number_out_of_range`."""
    from fangkong.testing.services import supplies

    def overflow(*args: Any, **kwargs: Any) -> Any:
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    monkeypatch.setattr(supplies, "supply_count", overflow)
    client = Client(raise_request_exception=False)

    response = client.post(
        f"/api/testing/supplies/{api_world.ids['stock_id'][0]}/count",
        data=json.dumps({"quantity": 5}),
        content_type="application/json",
        **_bearer(api_world, "command"),
    )

    assert response.status_code == 400
    assert _error(response)["code"] == "number_out_of_range"


@pytest.mark.postgres
def test_postgres_numeric_value_out_of_range_is_number_out_of_range(db: None) -> None:
    """PostgreSQL refuses a number past a bigint column's range with a DataError (22003)."""
    from django.db import DataError, connection, transaction

    from fangkong.core.errors import translate

    with pytest.raises(DataError) as raised, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT %s::numeric::bigint", [str(TOO_LARGE)])

    refusal = translate(raised.value)
    assert refusal is not None
    assert (refusal.status, refusal.code) == (400, "number_out_of_range")


# --- SQLite's write lock taken: 503 database_busy, with Retry-After -------------------


def _locked(*args: Any, **kwargs: Any) -> Any:
    raise OperationalError("database is locked")


def test_a_write_that_finds_the_database_locked_is_503_with_retry_after(
    api_world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fangkong.testing.services import supplies

    monkeypatch.setattr(supplies, "supply_count", _locked)
    client = Client(raise_request_exception=False)
    stock = api_world.ids["stock_id"][0]

    response = client.post(
        f"/api/testing/supplies/{stock}/count",
        data=json.dumps({"quantity": 5}),
        content_type="application/json",
        **_bearer(api_world, "command"),
    )

    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert _error(response)["code"] == "database_busy"


def test_another_operational_error_stays_a_500_in_the_error_shape(
    api_world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the lock is a retryable refusal; a broken database is a server error."""
    from fangkong.testing.services import supplies

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("no such table: testing_supplystock")

    monkeypatch.setattr(supplies, "supply_count", broken)
    client = Client(raise_request_exception=False)
    stock = api_world.ids["stock_id"][0]

    response = client.post(
        f"/api/testing/supplies/{stock}/count",
        data=json.dumps({"quantity": 5}),
        content_type="application/json",
        **_bearer(api_world, "command"),
    )

    assert response.status_code == 500
    assert _error(response)["code"] == "server_error"


# --- paths no route matches ------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/testing/rounds/-1", "/api/testing/rounds/abc", "/api/no-such-thing"]
)
def test_api_paths_no_route_matches_are_404_in_the_error_shape(api_world: Any, path: str) -> None:
    client = Client()

    response = client.get(path, **_bearer(api_world, "command"))

    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


# --- times of day --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opens_at", "status", "code"),
    [
        ("21:30:58+07:51", 400, "opening_hours_invalid"),  # the service: no offset
        ("07:00:00Z", 400, "opening_hours_invalid"),
        ("25:00", 422, "invalid_input"),  # not a time of day at all
    ],
)
def test_a_time_of_day_with_an_offset_or_out_of_range_is_refused(
    api_world: Any, opens_at: str, status: int, code: str
) -> None:
    from fangkong.testing.models import SamplingPoint

    point = SamplingPoint.objects.first()
    client = Client(raise_request_exception=False)

    response = client.put(
        f"/api/testing/points/{point.pk}",
        data=json.dumps(
            {"tables": 2, "samplers": 2, "opens_at": opens_at, "closes_at": "21:00:00"}
        ),
        content_type="application/json",
        **_bearer(api_world, "command"),
    )

    assert response.status_code == status, response.content[:300]
    assert _error(response)["code"] == code
    point.refresh_from_db()
    assert point.opens_at is None or point.opens_at.tzinfo is None


def test_a_local_time_of_day_is_accepted_and_answered_as_published(api_world: Any) -> None:
    from fangkong.core.apitypes import LOCAL_TIME_PATTERN
    from fangkong.testing.models import SamplingPoint

    point = SamplingPoint.objects.first()
    client = Client()

    response = client.put(
        f"/api/testing/points/{point.pk}",
        data=json.dumps({"tables": 2, "samplers": 2, "opens_at": "07:30", "closes_at": "20:00"}),
        content_type="application/json",
        **_bearer(api_world, "command"),
    )

    assert response.status_code == 200, response.content[:300]
    assert response.json()["opens_at"] == "07:30:00"
    assert re.match(LOCAL_TIME_PATTERN, response.json()["closes_at"])
