"""Bad input to the testing API is a 4xx with a stable code, never a 500: ids beyond the
database's 64-bit keys, times with an offset where a wall-clock time is meant, times
from year 1 or 9999, a sync body over the request limit."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from fangkong.areas.models import Place
from fangkong.testing.models import Sample, Tube
from fangkong.testing.services.rounds import round_close
from fangkong.testing.services.sampling import sampling_sync
from fangkong.testkit.clock import at
from fangkong.testkit.worlds.sampling import World, build_world

from .test_sampling_api import _bearer, payload

pytestmark = pytest.mark.django_db

TOO_BIG = 2**63
SYNC = "/api/testing/sampling/sync"


@pytest.fixture
def world(tree: Any) -> World:
    return build_world(tree, persons=4)


def _admin(world: World) -> Client:
    c = Client()
    c.force_login(world.admin)
    return c


def _json(c: Client, url: str, body: Any, **extra: Any) -> Any:
    return c.post(url, json.dumps(body), content_type="application/json", **extra)


def _invalid(response: Any, field: str) -> None:
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "invalid_input"
    assert any(field in e["loc"] for e in body["detail"]["errors"]), body


# --- ids beyond the database's keys --------------------------------------------------------


def test_sync_round_and_point_beyond_the_key_range_are_422(world: World) -> None:
    body = payload([world.tube([world.sample(world.persons[0])])])
    body["tubes"][0]["round"] = TOO_BIG
    _invalid(_json(Client(), SYNC, body, HTTP_AUTHORIZATION=_bearer(world)), "round")
    body = payload([world.tube([world.sample(world.persons[0])])], point=TOO_BIG)
    _invalid(_json(Client(), SYNC, body, HTTP_AUTHORIZATION=_bearer(world)), "point")
    assert not Tube.objects.exists()


def test_round_scope_ids_beyond_the_key_range_are_422(world: World) -> None:
    c = _admin(world)
    starts = "2022-07-10T08:00:00+08:00"
    for field in ("jurisdiction_ids", "zone_ids"):
        r = _json(c, "/api/testing/rounds", {"name": "大数", field: [TOO_BIG], "starts_at": starts})
        _invalid(r, field)


def test_round_page_with_a_scope_id_beyond_the_key_range_is_refused(world: World) -> None:
    page = _admin(world).post(
        "/testing/rounds/new/",
        {"name": "大数", "jurisdictions": [str(TOO_BIG)], "starts_at": "2022-07-10T08:00"},
    )
    assert page.status_code < 500
    assert "选择无效" in page.content.decode()


def test_place_ids_beyond_the_key_range_are_422(world: World) -> None:
    c = _admin(world)
    _invalid(_json(c, "/api/testing/points", {"place_id": TOO_BIG}), "place_id")
    _invalid(_json(c, "/api/testing/supplies", {"place_id": TOO_BIG, "kind": "swab"}), "place_id")
    transfer = {"quantity": 1, "to_place_id": TOO_BIG}
    _invalid(_json(c, "/api/testing/supplies/1/transfer", transfer), "to_place_id")
    _invalid(c.get(f"/api/testing/supplies?place_id={TOO_BIG}"), "place_id")
    _invalid(c.get(f"/api/testing/labs/turnaround?round_id={TOO_BIG}"), "round_id")


def test_path_ids_beyond_the_key_range_are_404(world: World) -> None:
    c = _admin(world)
    for url in (f"/api/testing/rounds/{TOO_BIG}", f"/api/testing/supplies/{TOO_BIG}"):
        assert c.get(url).status_code == 404


# --- times -------------------------------------------------------------------------------


def test_opening_hours_with_an_offset_are_refused(world: World, tree: Any) -> None:
    place = Place.objects.create(
        kind="sampling_point",
        name="新采样点",
        jurisdiction=tree.community_a,
        jurisdiction_path=tree.community_a.path,
    )
    body = {"place_id": place.pk, "opens_at": "07:00:00+08:00", "closes_at": "21:00:00+08:00"}
    r = _json(_admin(world), "/api/testing/points", body)
    assert r.status_code == 400, r.content
    assert r.json()["code"] == "opening_hours_invalid"
    assert r.json()["detail"]["field"] == "opens_at"


def test_tube_times_outside_the_round_or_the_clock_are_refused_per_tube(world: World) -> None:
    # Given a round closed at 18:00 on the 10th
    round_close(actor=world.admin, round=world.round, now=at(10, 18))
    p = world.persons
    ok = world.tube([world.sample(p[0])])
    far_future = dataclasses.replace(
        world.tube([world.sample(p[1])]), opened_at=dt.datetime(9999, 12, 31, tzinfo=dt.UTC)
    )
    year_one = dataclasses.replace(
        world.tube([world.sample(p[2])]),
        opened_at=dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14))),
    )
    closed_before_opened = dataclasses.replace(
        world.tube([world.sample(p[3])]), closed_at=at(10, 7)
    )

    # When a phone syncs them
    result = sampling_sync(
        actor=world.sampler, tubes=[ok, far_future, year_one, closed_before_opened]
    )

    # Then only the plausible tube is stored; the others are refused with their samples
    assert [t.code for t in result.tubes] == [
        "",
        "tube_time_invalid",
        "tube_time_invalid",
        "tube_time_invalid",
    ]
    assert [s.status for s in result.samples] == ["ok", "error", "error", "error"]
    assert list(Tube.objects.values_list("barcode", flat=True)) == [ok.barcode]
    assert Sample.objects.count() == 1


def test_sync_with_extreme_times_by_api_is_answered_per_item(world: World) -> None:
    body = payload([world.tube([world.sample(world.persons[0])])])
    body["tubes"][0]["samples"][0]["sampled_at"] = "0001-01-01T00:00:00+14:00"
    second = payload([world.tube([world.sample(world.persons[1])])])["tubes"][0]
    second["opened_at"] = "0001-01-01T00:00:00+14:00"
    third = payload([world.tube([world.sample(world.persons[2])])])["tubes"][0]
    third["opened_at"] = "9999-12-31T23:59:59-14:00"
    body["tubes"] += [second, third]

    r = _json(Client(), SYNC, body, HTTP_AUTHORIZATION=_bearer(world))

    assert r.status_code == 200, r.content
    data = r.json()
    assert [s["code"] for s in data["samples"]] == [
        "sampled_at_invalid",
        "tube_time_invalid",
        "tube_time_invalid",
    ]
    assert not Sample.objects.exists()


def test_sync_body_over_the_request_limit_is_a_4xx(world: World, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    body = payload([world.tube([world.sample(world.persons[0])])])
    body["padding"] = "x" * 150_000
    r = _json(Client(), SYNC, body, HTTP_AUTHORIZATION=_bearer(world))
    assert 400 <= r.status_code < 500
    assert not Tube.objects.exists()
