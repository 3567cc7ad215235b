"""Sampling points: register, edit, queue updates by the right people only; the API and
the list page."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.roles import Role
from fangkong.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from fangkong.testing.models import QueueStatus, SamplingPoint
from fangkong.testing.services import points as services
from fangkong.testkit import areas, testing

pytestmark = pytest.mark.django_db


def _sampler(make_user: Any, point: SamplingPoint) -> Any:
    user = make_user(Role.SAMPLER, point.place.jurisdiction)
    user.place = point.place
    user.save()
    return user


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_town_registers_a_point_over_a_sampling_point_place(tree: Any, town_a_user: Any) -> None:
    place = areas.place(tree.community_a, "sampling_point", "虹桥村采样点")

    point = services.point_register(
        actor=town_a_user,
        place=place,
        tables=3,
        samplers=6,
        opens_at=dt.time(7),
        closes_at=dt.time(21),
    )

    assert point.jurisdiction_path == tree.community_a.path
    assert (point.tables, point.samplers, point.queue_status) == (3, 6, QueueStatus.CLOSED)
    assert AuditEvent.objects.filter(action="point.register", object_id=str(point.pk)).exists()
    with pytest.raises(Conflict):
        services.point_register(actor=town_a_user, place=place)


def test_register_refuses_other_kinds_other_towns_and_samplers(
    tree: Any, town_a_user: Any, town_b_user: Any, make_user: Any
) -> None:
    venue = areas.place(tree.community_a, "venue", "超市")
    place = areas.place(tree.community_a, "sampling_point", "采样点")
    sampler = make_user(Role.SAMPLER, tree.community_a)
    worker = make_user(Role.COMMUNITY_WORKER, tree.community_a)

    with pytest.raises(DomainError) as kind:
        services.point_register(actor=town_a_user, place=venue)
    with pytest.raises(NotFound):
        services.point_register(actor=town_b_user, place=place)
    with pytest.raises(PermissionDenied):
        services.point_register(actor=sampler, place=place)
    with pytest.raises(PermissionDenied):
        services.point_register(actor=worker, place=place)
    with pytest.raises(DomainError) as hours:
        services.point_register(actor=town_a_user, place=place, opens_at=dt.time(7))

    assert kind.value.code == "place_not_sampling_point"
    assert hours.value.code == "opening_hours_incomplete"
    assert not SamplingPoint.objects.exists()


def test_edit_is_audited_with_the_changes(tree: Any, town_a_user: Any) -> None:
    point = testing.point(tree.community_a)

    services.point_update(
        actor=town_a_user, point=point, tables=4, samplers=8, opens_at=None, closes_at=None
    )

    point.refresh_from_db()
    event = AuditEvent.objects.get(action="point.update")
    assert (point.tables, point.samplers) == (4, 8)
    assert set(event.detail["changed"]) == {"tables", "samplers"}


def test_queue_by_own_sampler_town_and_command_only(
    tree: Any, town_a_user: Any, town_b_user: Any, command_user: Any, make_user: Any
) -> None:
    point = testing.point(tree.community_a)
    other = testing.point(tree.community_a)
    own_sampler = _sampler(make_user, point)
    other_sampler = _sampler(make_user, other)

    services.point_queue_update(actor=own_sampler, point=point, status="busy", length=40)
    services.point_queue_update(actor=town_a_user, point=point, status="normal", length=12)
    services.point_queue_update(actor=command_user, point=point, status="crowded", length=90)
    with pytest.raises(PermissionDenied) as not_yours:
        services.point_queue_update(actor=other_sampler, point=point, status="idle")
    with pytest.raises(NotFound):
        services.point_queue_update(actor=town_b_user, point=point, status="idle")
    with pytest.raises(DomainError) as bad:
        services.point_queue_update(actor=town_a_user, point=point, status="bogus")

    point.refresh_from_db()
    assert (point.queue_status, point.queue_length) == ("crowded", 90)
    assert point.queue_updated_by == command_user
    assert not_yours.value.code == "not_your_point"
    assert bad.value.code == "queue_status_invalid"
    assert AuditEvent.objects.filter(action="point.queue", object_id=str(point.pk)).count() == 3


def test_points_create_for_places_is_set_based_and_idempotent(tree: Any) -> None:
    for _ in range(3):
        areas.place(tree.community_a, "sampling_point")
    areas.place(tree.community_b, "sampling_point")
    areas.place(tree.community_a, "venue")

    first = services.points_create_for_places(path=tree.town_a.path)
    second = services.points_create_for_places(path=tree.town_a.path)

    assert (first, second) == (3, 0)
    assert SamplingPoint.objects.count() == 3


def test_api_list_is_scoped_and_queue_updates(
    tree: Any, town_a_user: Any, town_b_user: Any, make_user: Any
) -> None:
    a_point = testing.point(tree.community_a)
    b_point = testing.point(tree.community_b)
    sampler = _client(_sampler(make_user, a_point))
    a, b = _client(town_a_user), _client(town_b_user)

    a_list = {p["id"] for p in a.get("/api/testing/points").json()["items"]}
    b_detail = b.get(f"/api/testing/points/{a_point.pk}")
    b_queue = b.post(
        f"/api/testing/points/{a_point.pk}/queue",
        {"status": "busy"},
        content_type="application/json",
    )
    ok = sampler.post(
        f"/api/testing/points/{a_point.pk}/queue",
        {"status": "busy", "length": 30},
        content_type="application/json",
    )
    bad = sampler.post(
        f"/api/testing/points/{a_point.pk}/queue", {"status": "x"}, content_type="application/json"
    )

    assert a_list == {a_point.pk} and b_point.pk not in a_list
    assert b_detail.status_code == 404 and b_queue.status_code == 404
    assert ok.status_code == 200 and ok.json()["queue_length"] == 30
    assert bad.status_code == 422


def test_api_register_and_update(tree: Any, town_a_user: Any, make_user: Any) -> None:
    place = areas.place(tree.community_a, "sampling_point")
    client = _client(town_a_user)
    lab = _client(make_user(Role.LAB, tree.town_a))

    created = client.post(
        "/api/testing/points",
        {
            "place_id": place.pk,
            "tables": 2,
            "samplers": 4,
            "opens_at": "07:00",
            "closes_at": "20:00",
        },
        content_type="application/json",
    )
    pid = created.json()["id"]
    updated = client.put(
        f"/api/testing/points/{pid}",
        {"tables": 5, "samplers": 10, "opens_at": "06:00", "closes_at": "22:00"},
        content_type="application/json",
    )
    forbidden = lab.post(
        "/api/testing/points", {"place_id": place.pk}, content_type="application/json"
    )

    assert created.status_code == 201, created.content
    assert updated.json()["tables"] == 5 and updated.json()["opens_at"] == "06:00:00"
    assert forbidden.status_code == 403


def test_list_page_shows_queue_and_updates_a_row_in_place(
    tree: Any, town_a_user: Any, town_b_user: Any
) -> None:
    point = testing.point(tree.community_a, name="虹桥采样点")
    a = _client(town_a_user)

    page = a.get("/testing/points/").content.decode()
    row = a.post(
        f"/testing/points/{point.pk}/queue/",
        {"status": "busy", "length": "25"},
        HTTP_HX_REQUEST="true",
    )
    b_page = _client(town_b_user).get("/testing/points/").content.decode()

    assert "虹桥采样点" in page and 'data-testid="point-row"' in page
    # The queue length box says what it is, on a phone too (not a bare "0").
    assert re.search(r'data-testid="queue-length-label">排队人数 <input[^>]*name="length"', page)
    assert row.status_code == 200 and 'data-queue="busy"' in row.content.decode()
    assert "虹桥采样点" not in b_page


def test_list_page_filters_by_jurisdiction(tree: Any, command_user: Any) -> None:
    testing.point(tree.community_a, name="乌镇点")
    testing.point(tree.community_b, name="濮院点")
    client = _client(command_user)

    page = client.get("/testing/points/").content.decode()
    wuzhen = client.get(f"/testing/points/?jurisdiction={tree.town_a.path}").content.decode()

    assert 'data-testid="point-area-filter"' in page and "濮院点" in page
    assert "乌镇点" in wuzhen and "濮院点" not in wuzhen
