"""The sampling API over real HTTP: token (devices) and session + CSRF (the page)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from fangkong.accounts.roles import Role
from fangkong.accounts.services import token_create, user_create
from fangkong.core.errors import NotFound
from fangkong.testing.models import Sample, Tube
from fangkong.testing.services.sampling import SampleIn, TubeIn, sampling_sync
from fangkong.testkit import testing
from fangkong.testkit.worlds.sampling import PASSWORD, World, build_world

pytestmark = pytest.mark.django_db

SYNC = "/api/testing/sampling/sync"
CONTEXT = "/api/testing/sampling/context"


@pytest.fixture
def world(tree: Any) -> World:
    return build_world(tree, persons=12)


def payload(tubes: list[TubeIn], point: int | None = None) -> dict[str, Any]:
    def sample(s: SampleIn) -> dict[str, Any]:
        return {
            "client_uuid": str(s.client_uuid),
            "id_number": s.id_number,
            "sampled_at": s.sampled_at.isoformat(),
            "name": s.name,
            "phone": s.phone,
        }

    return {
        "point": point,
        "tubes": [
            {
                "barcode": t.barcode,
                "round": t.round_id,
                "pool_size": t.pool_size,
                "opened_at": t.opened_at.isoformat(),
                "closed_at": t.closed_at.isoformat() if t.closed_at else None,
                "samples": [sample(s) for s in t.samples],
            }
            for t in tubes
        ],
    }


def _bearer(world: World) -> str:
    _, plaintext = token_create(actor=world.admin, user=world.sampler, name="采样手机")
    return f"Bearer {plaintext}"


def test_a_device_with_a_token_syncs_and_a_retry_adds_nothing(world: World) -> None:
    client = Client()
    body = json.dumps(payload(world.tubes_of(world.persons[:12])))
    auth = _bearer(world)

    first = client.post(SYNC, body, content_type="application/json", HTTP_AUTHORIZATION=auth)
    retry = client.post(SYNC, body, content_type="application/json", HTTP_AUTHORIZATION=auth)

    assert first.status_code == 200, first.content
    assert first.json()["stored"] == 12 and first.json()["duplicates"] == 0
    assert [t["state"] for t in first.json()["tubes"]] == ["closed", "open"]
    assert retry.status_code == 200
    assert retry.json()["stored"] == 0 and retry.json()["duplicates"] == 12
    assert {s["status"] for s in retry.json()["samples"]} == {"duplicate"}
    assert Sample.objects.count() == 12


def test_per_item_errors_come_back_with_their_codes(world: World) -> None:
    client = Client()
    bad = world.sample(ric="330483199001011230")
    tubes = [world.tube([world.sample(world.persons[0]), bad])]

    response = client.post(
        SYNC, payload(tubes), content_type="application/json", HTTP_AUTHORIZATION=_bearer(world)
    )

    assert response.status_code == 200
    data = response.json()
    assert data["stored"] == 1 and data["errors"] == 1
    assert data["samples"][1]["key"] == str(bad.client_uuid)
    assert data["samples"][1]["code"] == "id_bad_checksum"
    assert data["samples"][1]["message"]


def test_the_page_session_needs_the_csrf_token(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.sampler)
    body = payload([world.tube([world.sample(world.persons[0])])])

    refused = client.post(SYNC, body, content_type="application/json")
    page = client.get("/testing/sampling/")
    token = (
        page.cookies["csrftoken"].value
        if "csrftoken" in page.cookies
        else client.cookies["csrftoken"].value
    )
    accepted = client.post(SYNC, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)

    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["stored"] == 1


def test_anonymous_is_401(world: World) -> None:
    response = Client().post(SYNC, payload([]), content_type="application/json")

    assert response.status_code == 401
    assert not Tube.objects.exists()


def test_a_role_without_the_capability_gets_403(world: World, make_user: Any) -> None:
    client = Client()
    client.force_login(make_user(Role.TOWN_STAFF, world.tree.town_a))

    sync = client.post(
        SYNC,
        payload([world.tube([world.sample(world.persons[0])])]),
        content_type="application/json",
    )
    context = client.get(CONTEXT)

    assert sync.status_code == 403 and sync.json()["code"] == "permission_denied"
    assert context.status_code == 403
    assert not Sample.objects.exists()


def test_a_sampler_of_another_point_gets_404(world: World, tree: Any) -> None:
    other_point = testing.point(tree.community_b)
    other = user_create(
        username="sampler-b",
        password=PASSWORD,
        role=Role.SAMPLER,
        jurisdiction=tree.community_b,
        place=other_point.place,
    )
    client = Client()
    client.force_login(other)

    sync = client.post(
        SYNC,
        payload([world.tube([world.sample(world.persons[0])])], point=world.point.pk),
        content_type="application/json",
    )
    context = client.get(CONTEXT, {"point": world.point.pk})
    # Its own point: the round of 乌镇镇 does not cover 濮院镇, so the tube is refused.
    own = client.post(
        SYNC,
        payload([world.tube([world.sample(world.persons[0])])]),
        content_type="application/json",
    )

    assert sync.status_code == 404 and sync.json()["code"] == "not_found"
    assert context.status_code == 404
    assert own.status_code == 200 and own.json()["tubes"][0]["code"] == "round_not_found"
    assert not Sample.objects.exists()


def test_the_context_lists_the_open_rounds_and_pool_sizes_of_the_point(
    world: World, tree: Any
) -> None:
    testing.planned_round(tree.town_a, name="计划中的轮次")
    testing.open_round(tree.town_b, name="濮院镇轮次")
    client = Client()
    client.force_login(world.sampler)

    data = client.get(CONTEXT).json()

    assert data["point"]["id"] == world.point.pk
    assert [r["name"] for r in data["rounds"]] == [world.round.name]
    assert data["rounds"][0]["pool_sizes"] == [1, 10, 20]
    assert data["rounds"][0]["default_pool_size"] == 10  # the targets' pooling
    assert data["totals"] == {"tubes": 0, "tubes_open": 0, "samples": 0}


def test_a_malformed_batch_is_422_and_stores_nothing(world: World) -> None:
    client = Client()
    body = payload([world.tube([world.sample(world.persons[0])])])
    body["tubes"][0]["samples"][0]["client_uuid"] = "not-a-uuid"

    response = client.post(
        SYNC, body, content_type="application/json", HTTP_AUTHORIZATION=_bearer(world)
    )

    assert response.status_code == 422 and response.json()["code"] == "invalid_input"
    assert not Tube.objects.exists()


def test_a_tube_is_closed_by_hand_through_the_api(world: World) -> None:
    client = Client()
    auth = _bearer(world)
    tube = world.tube([world.sample(world.persons[0])])
    client.post(SYNC, payload([tube]), content_type="application/json", HTTP_AUTHORIZATION=auth)

    closed = client.post(
        f"/api/testing/sampling/tubes/{tube.barcode}/close",
        {},
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )
    again = client.post(
        f"/api/testing/sampling/tubes/{tube.barcode}/close",
        {},
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )

    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    assert again.status_code == 409 and again.json()["code"] == "tube_closed"


def test_a_sampler_creates_the_phone_token_on_the_tokens_page_and_syncs_with_it(
    world: World, make_user: Any
) -> None:
    # The sampler, signed in on the web, creates a token for the phone app.
    page = Client()
    assert page.login(username=world.sampler.username, password=PASSWORD)
    created = page.post("/accounts/tokens/", {"name": "采样手机"})
    assert created.status_code == 200
    plaintext = created.context["plaintext"]
    assert plaintext.startswith("fk_")

    phone = Client()
    auth = f"Bearer {plaintext}"
    context = phone.get(CONTEXT, HTTP_AUTHORIZATION=auth)
    body = json.dumps(payload(world.tubes_of(world.persons[:2])))
    synced = phone.post(SYNC, body, content_type="application/json", HTTP_AUTHORIZATION=auth)

    assert context.status_code == 200 and context.json()["point"]["id"] == world.point.pk
    assert synced.status_code == 200 and synced.json()["stored"] == 2
    assert set(Sample.objects.values_list("sampler_id", flat=True)) == {world.sampler.pk}
    # Their own tokens only; and a community worker has no tokens page.
    other = make_user(Role.SAMPLER, world.tree.community_a)
    with pytest.raises(NotFound):
        token_create(actor=world.sampler, user=other, name="别人的手机")
    worker = Client()
    worker.force_login(make_user(Role.COMMUNITY_WORKER, world.tree.community_a))
    assert worker.get("/accounts/tokens/").status_code == 403


def test_a_tube_opened_on_a_second_phone_shows_the_servers_count(
    world: World, tree: Any, make_user: Any
) -> None:
    """Another phone opening a tube the server holds learns how many are in it; a sampler
    of another point and a role without the capability learn nothing."""
    tube = world.tube([world.sample(p) for p in world.persons[:3]], pool_size=10)
    mine = Client()
    mine.force_login(world.sampler)
    sampling_sync(actor=world.sampler, tubes=[tube])
    other_point = testing.point(tree.community_b)
    other = user_create(
        username="sampler-b2",
        password=PASSWORD,
        role=Role.SAMPLER,
        jurisdiction=tree.community_b,
        place=other_point.place,
    )
    theirs = Client()
    theirs.force_login(other)
    staff = Client()
    staff.force_login(make_user(Role.TOWN_STAFF, world.tree.town_a))
    url = f"/api/testing/sampling/tubes/{tube.barcode.lower()}"

    own = mine.get(url)
    unknown = mine.get("/api/testing/sampling/tubes/NEW-TUBE-1")
    foreign = theirs.get(url)
    foreign_named = theirs.get(url, {"point": world.point.pk})
    refused = staff.get(url)

    assert own.status_code == 200
    assert own.json() == {
        "barcode": tube.barcode,
        "known": True,
        "round": world.round.pk,
        "pool_size": 10,
        "state": "open",
        "samples": 3,
    }
    # Unknown, and another point's tube, answer alike: nothing about other points.
    blank = {"known": False, "round": None, "pool_size": None, "state": "", "samples": 0}
    assert unknown.status_code == 200
    assert unknown.json() == {"barcode": "NEW-TUBE-1", **blank}
    assert foreign.status_code == 200 and foreign.json() == {"barcode": tube.barcode, **blank}
    assert foreign_named.status_code == 404 and foreign_named.json()["code"] == "not_found"
    assert refused.status_code == 403
