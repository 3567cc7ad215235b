"""The quarantine API: sites, rooms, capacity, placements (list, detail, create, bulk,
room), transfers; scoped like the pages (404 out of scope, 403 wrong role)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from fangkong.accounts.roles import Role
from fangkong.areas.models import Place
from fangkong.testkit import people as kit_people
from fangkong.testkit import quarantine as kit
from fangkong.testkit import tracing as kit_tracing

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_sites_rooms_and_capacity(tree: Any, command_user: Any) -> None:
    site = kit.site_with_rooms(tree, rooms=3)
    kit.placed_contact(tree.community_a, site=site, name="赵六")
    c = _client(command_user)
    sites = c.get("/api/quarantine/sites").json()
    assert sites["items"][0]["free"] == 2 and sites["items"][0]["occupied"] == 1
    rooms = c.get(f"/api/quarantine/sites/{site.pk}/rooms").json()["items"]
    assert [r["initials"] for r in rooms] == [["赵"], [], []]
    cap = c.get("/api/quarantine/capacity").json()
    assert cap["occupied"] == 1 and len(cap["forecast"]) == 7


def test_placement_create_detail_and_room(tree: Any, command_user: Any) -> None:
    site = kit.site_with_rooms(tree, rooms=2)
    contact = kit.close_contact(tree.community_a)
    c = _client(command_user)
    r = c.post(
        "/api/quarantine/placements",
        {"person_id": contact.person_id, "contact_id": contact.pk, "site_id": site.pk},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["measure"] == "centralised" and body["ruleset"] and len(body["tests"]) == 5
    room = kit.free_room(site)
    r = c.post(
        f"/api/quarantine/placements/{body['id']}/room",
        {"room_id": room.pk},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["room_id"] == room.pk
    again = c.post(
        "/api/quarantine/placements",
        {"person_id": contact.person_id, "site_id": site.pk},
        content_type="application/json",
    )
    assert again.status_code == 409 and again.json()["code"] == "already_placed"


def test_bulk_and_transfers(tree: Any, town_a_user: Any) -> None:
    kit.site_with_rooms(tree, rooms=3)
    case = kit_tracing.reported_case(kit_people.person(tree.community_a, "病例"))
    for _ in range(2):
        kit.close_contact(tree.community_a, case=case)
    c = _client(town_a_user)
    r = c.post(
        "/api/quarantine/placements/bulk",
        {"case_number": case.number},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    assert r.json()["placed"] == 2 and r.json()["rooms_taken"] == 2
    pid = r.json()["placement_ids"][0]
    t = c.post(
        f"/api/quarantine/placements/{pid}/transfers",
        {"vehicle": "浙F9"},
        content_type="application/json",
    )
    assert t.status_code == 201
    tid = t.json()["id"]
    assert c.post(f"/api/quarantine/transfers/{tid}/depart").json()["status"] == "en_route"
    assert c.post(f"/api/quarantine/transfers/{tid}/arrive").json()["status"] == "arrived"
    assert len(c.get("/api/quarantine/transfers").json()["items"]) == 1


def test_api_scoping(tree: Any, make_user: Any, town_b_user: Any) -> None:
    site = kit.site_with_rooms(tree, rooms=3)
    other = kit.site_with_rooms(tree, rooms=1)
    mine = kit.placed_contact(tree.community_a, site=site)
    theirs = kit.placed_contact(tree.community_b, site=other)
    staff = make_user(Role.SITE_STAFF, tree.town_a)
    staff.place = Place.objects.get(pk=site.place_id)
    staff.save()
    s = _client(staff)
    assert [p["id"] for p in s.get("/api/quarantine/placements").json()["items"]] == [mine.pk]
    assert s.get(f"/api/quarantine/placements/{theirs.pk}").status_code == 404
    assert s.get(f"/api/quarantine/sites/{other.pk}/rooms").status_code == 404
    assert (
        s.post(
            "/api/quarantine/placements/bulk", {"case_number": "X"}, content_type="application/json"
        ).status_code
        == 403
    )
    b = _client(town_b_user)
    assert [p["id"] for p in b.get("/api/quarantine/placements").json()["items"]] == [theirs.pk]
    assert b.get(f"/api/quarantine/placements/{mine.pk}").status_code == 404
    assert (
        b.post(
            f"/api/quarantine/placements/{mine.pk}/transfers", {}, content_type="application/json"
        ).status_code
        == 404
    )
    lab = _client(make_user(Role.LAB, tree.city))
    assert lab.get("/api/quarantine/placements").status_code == 403
    assert lab.get("/api/quarantine/sites").status_code == 403


def test_api_site_rooms_and_state(tree: Any, command_user: Any, town_a_user: Any) -> None:
    from fangkong.testkit import areas as kit_areas

    place = kit_areas.place(tree.community_a, "quarantine_site", "接口隔离点")
    c = _client(command_user)
    r = c.post("/api/quarantine/sites", {"place_id": place.pk}, content_type="application/json")
    assert r.status_code == 201, r.content
    sid = r.json()["id"]
    r = c.post(
        f"/api/quarantine/sites/{sid}/rooms",
        {"building": "1", "floors": 2, "rooms_per_floor": 3},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["created"] == 6
    room = c.get(f"/api/quarantine/sites/{sid}/rooms").json()["items"][0]
    r = c.post(
        f"/api/quarantine/sites/{sid}/rooms/{room['id']}/state",
        {"state": "out_of_service"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["state"] == "out_of_service"
    t = _client(town_a_user)
    assert (
        t.post(
            f"/api/quarantine/sites/{sid}/rooms",
            {"building": "2", "floors": 1, "rooms_per_floor": 1},
            content_type="application/json",
        ).status_code
        == 403
    )
