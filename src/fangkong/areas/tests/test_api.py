"""The areas API through the real HTTP stack: shapes, codes, permissions, no half-writes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.accounts.roles import Role
from fangkong.areas.models import Place, Zone, ZoneTransition
from fangkong.areas.services import areas as area_services
from fangkong.areas.services import zones as zone_services
from fangkong.areas.tests.conftest import DAY0, day

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[120.4, 30.7], [120.6, 30.7], [120.6, 30.8], [120.4, 30.8], [120.4, 30.7]]],
}


@pytest.fixture
def admin(tree, make_user):
    return make_user(Role.ADMIN, tree.city, "admin")


@pytest.fixture
def api(client):
    def call(user, method, url, json=None):
        client.force_login(user)
        if method == "get":
            return client.get(url)
        return client.post(url, json or {}, content_type="application/json")

    return call


def zone_payload(tree, **kw):
    payload = {
        "name": "虹桥村封控区",
        "level": "sealed",
        "jurisdiction_id": tree.town_a.pk,
        "member_jurisdiction_ids": [tree.community_a.pk],
        "started_on": DAY0.isoformat(),
        "reason": "发现阳性病例",
    }
    payload.update(kw)
    return payload


def test_jurisdictions_list_and_detail(api, town_a_user, tree):
    r = api(town_a_user, "get", f"/api/areas/jurisdictions?parent={tree.city.pk}")
    assert r.status_code == 200
    # Public city-wide: town A's staff see both towns.
    assert [j["name"] for j in r.json()["items"]] == ["濮院镇", "乌镇镇"]
    r = api(town_a_user, "get", "/api/areas/jurisdictions?level=community")
    assert {j["code"] for j in r.json()["items"]} == {tree.community_a.code, tree.community_b.code}
    r = api(town_a_user, "get", f"/api/areas/jurisdictions/{tree.community_a.pk}")
    assert r.json()["parent_name"] == "乌镇镇" and r.json()["path"] == tree.community_a.path
    assert api(town_a_user, "get", "/api/areas/jurisdictions/999999").status_code == 404
    bad = api(town_a_user, "get", "/api/areas/jurisdictions?level=planet")
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_input")


def test_anonymous_is_refused(client, tree):
    r = client.get("/api/areas/zones")
    assert r.status_code == 401


def test_places_create_list_and_search(api, admin, town_a_user, tree):
    r = api(
        admin,
        "post",
        "/api/areas/places",
        {
            "kind": "venue",
            "name": "乌镇大酒店",
            "jurisdiction_id": tree.community_a.pk,
            "venue_code": "TX0001",
            "lat": 30.74,
            "lon": 120.49,
            "venue_kind": "restaurant",
        },
    )
    assert r.status_code == 201, r.content
    assert r.json()["jurisdiction_path"] == tree.community_a.path
    assert r.json()["venue_kind"] == "restaurant"
    for n in range(3):
        area_services.place_create(
            actor=admin, kind="workplace", name=f"羊毛衫厂{n}", jurisdiction=tree.town_b
        )
    r = api(town_a_user, "get", "/api/areas/places?size=2")
    body = r.json()
    assert len(body["items"]) == 2 and body["next_cursor"]
    r2 = api(town_a_user, "get", f"/api/areas/places?size=2&cursor={body['next_cursor']}")
    ids = [p["id"] for p in body["items"]] + [p["id"] for p in r2.json()["items"]]
    assert len(set(ids)) == 4 and r2.json()["next_cursor"] is None
    r = api(town_a_user, "get", "/api/areas/places?q=TX00")
    assert [p["name"] for p in r.json()["items"]] == ["乌镇大酒店"]
    r = api(town_a_user, "get", f"/api/areas/places?kind=workplace&jurisdiction={tree.town_b.pk}")
    assert len(r.json()["items"]) == 3
    r = api(town_a_user, "get", "/api/areas/places?jurisdiction=999999")
    assert (r.status_code, r.json()["code"]) == (400, "unknown_jurisdiction")
    r = api(town_a_user, "get", "/api/areas/places?cursor=@@@")
    assert (r.status_code, r.json()["code"]) == (400, "invalid_cursor")


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"jurisdiction_id": 999999}, 400, "unknown_jurisdiction"),
        ({"name": "名" * 201}, 400, "name_too_long"),
        ({"name": "名" * 5000}, 422, "invalid_input"),
        ({"lat": 200, "lon": 1}, 400, "coordinates_invalid"),
        ({"kind": "nope"}, 400, "place_kind_invalid"),
        ({"venue_kind": "nope"}, 400, "venue_kind_invalid"),
        ({"jurisdiction_id": "abc"}, 422, "invalid_input"),
    ],
)
def test_place_bad_input_writes_nothing(api, admin, tree, change, status, code):
    payload = {"kind": "venue", "name": "x", "jurisdiction_id": tree.town_a.pk}
    payload.update(change)
    r = api(admin, "post", "/api/areas/places", payload)
    assert (r.status_code, r.json()["code"]) == (status, code)
    assert Place.objects.count() == 0


def test_place_create_needs_place_manage(api, command_user, tree):
    r = api(
        command_user,
        "post",
        "/api/areas/places",
        {"kind": "venue", "name": "x", "jurisdiction_id": tree.town_a.pk},
    )
    assert (r.status_code, r.json()["code"]) == (403, "permission_denied")
    assert Place.objects.count() == 0


def test_zone_lifecycle_through_the_api(api, manager, tree, ruleset):
    r = api(manager, "post", "/api/areas/zones", zone_payload(tree))
    assert r.status_code == 201, r.content
    zone = r.json()
    assert (zone["level"], zone["ruleset"], zone["required_days"]) == ("sealed", "v9", 7)
    assert zone["members"] == [
        {
            "kind": "jurisdiction",
            "id": tree.community_a.pk,
            "name": "虹桥村",
            "path": tree.community_a.path,
        }
    ]
    url = f"/api/areas/zones/{zone['id']}"
    for n in range(1, 8):
        r = api(manager, "post", f"{url}/close-day", {"day": day(n).isoformat()})
        assert r.status_code == 200
    assert r.json()["no_case_days"] == 7
    r = api(manager, "post", f"{url}/downgrade", {"on_date": day(7).isoformat(), "reason": "x"})
    assert (r.status_code, r.json()["code"]) == (409, "zone_downgrade_not_eligible")
    assert r.json()["detail"]["reason"] == "screening_missing"
    r = api(
        manager, "post", f"{url}/screening", {"on_date": day(7).isoformat(), "all_negative": True}
    )
    assert r.json()["last_negative_screening_on"] == day(7).isoformat()
    r = api(manager, "post", f"{url}/downgrade", {"on_date": day(7).isoformat(), "reason": "满7天"})
    assert r.status_code == 200
    assert (r.json()["level"], r.json()["no_case_days"], r.json()["required_days"]) == (
        "controlled",
        0,
        3,
    )
    r = api(
        manager, "post", f"{url}/record-case", {"on_date": day(8).isoformat(), "reason": "新增"}
    )
    assert r.json()["level"] == "sealed"
    r = api(manager, "post", f"{url}/lift", {"on_date": day(8).isoformat(), "reason": "x"})
    assert (r.status_code, r.json()["detail"]["reason"]) == (409, "not_precaution")
    detail = api(manager, "get", url).json()
    actions = [t["action"] for t in detail["transitions"]]
    # Both conditions held after the screening: the system proposed the downgrade first.
    assert actions == ["create"] + ["close_day"] * 7 + [
        "screening",
        "propose",
        "downgrade",
        "escalate",
    ]
    assert detail["transitions"][-1]["actor"] == "zone-manager"
    assert detail["transitions"][-1]["reason"] == "新增"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"jurisdiction_id": 999999}, 400, "unknown_jurisdiction"),
        ({"member_jurisdiction_ids": [999999]}, 400, "unknown_jurisdiction"),
        ({"member_place_ids": [999999]}, 400, "unknown_place"),
        ({"member_jurisdiction_ids": []}, 400, "zone_members_required"),
        ({"name": "名" * 201}, 400, "name_too_long"),
        ({"level": "red"}, 422, "invalid_input"),
        ({"started_on": "2022-13-01"}, 422, "invalid_input"),
        ({"parent_id": 999999}, 400, "unknown_zone"),
    ],
)
def test_zone_bad_input_writes_nothing(api, manager, tree, ruleset, change, status, code):
    r = api(manager, "post", "/api/areas/zones", zone_payload(tree, **change))
    assert (r.status_code, r.json()["code"]) == (status, code)
    assert Zone.objects.count() == 0 and ZoneTransition.objects.count() == 0


@pytest.mark.parametrize("role", [Role.TOWN_STAFF, Role.LAB, Role.COMMUNITY_WORKER])
def test_zone_writes_forbidden_without_zone_manage(api, make_user, make_zone, tree, role):
    user = make_user(role, tree.town_a)
    r = api(user, "post", "/api/areas/zones", zone_payload(tree))
    assert r.status_code == 403
    zone = make_zone()
    for action, payload in (
        ("record-case", {"on_date": day(1).isoformat(), "reason": "x"}),
        ("screening", {"on_date": day(1).isoformat(), "all_negative": True}),
        ("downgrade", {"on_date": day(1).isoformat(), "reason": "x"}),
        ("lift", {"on_date": day(1).isoformat(), "reason": "x"}),
        ("close-day", {"day": day(1).isoformat()}),
    ):
        r = api(user, "post", f"/api/areas/zones/{zone.pk}/{action}", payload)
        assert (r.status_code, r.json()["code"]) == (403, "permission_denied"), action
    assert ZoneTransition.objects.filter(zone=zone).count() == 1


def test_town_scoped_manager_gets_404_for_another_towns_zone(api, make_user, make_zone, tree):
    town_b_admin = make_user(Role.ADMIN, tree.town_b)
    zone = make_zone()
    r = api(
        town_b_admin,
        "post",
        f"/api/areas/zones/{zone.pk}/record-case",
        {"on_date": day(1).isoformat(), "reason": "x"},
    )
    assert r.status_code == 404
    assert ZoneTransition.objects.filter(zone=zone).count() == 1


def test_lab_cannot_list_zones_but_sees_the_map(api, make_user, make_zone, tree):
    lab = make_user(Role.LAB, tree.town_a)
    make_zone()
    assert api(lab, "get", "/api/areas/zones").status_code == 403
    assert api(lab, "get", "/api/areas/map.geojson?level=town").status_code == 200


def test_zone_detail_unknown_is_404(api, town_a_user, ruleset):
    assert api(town_a_user, "get", "/api/areas/zones/424242").status_code == 404


@pytest.fixture
def mapped(admin, tree):
    for node in (tree.town_a, tree.town_b, tree.community_a, tree.community_b):
        area_services.jurisdiction_set_geometry(actor=admin, jurisdiction=node, geojson=SQUARE)
    return tree


def test_map_geojson(api, town_a_user, make_zone, mapped, tree, manager):
    parent = make_zone(level="precaution", members=[tree.town_a], name="乌镇镇防范区")
    make_zone(level="sealed", members=[tree.community_a], parent=parent)
    lifted = make_zone(level="precaution", jurisdiction=tree.town_b, members=[tree.community_b])
    zone_services.zone_lift(actor=manager, zone=lifted, on_date=DAY0, reason="解除")
    r = api(town_a_user, "get", "/api/areas/map.geojson?level=town")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/geo+json")
    body = r.json()
    assert body["type"] == "FeatureCollection"
    by_name = {f["properties"]["name"]: f for f in body["features"]}
    assert set(by_name) == {"乌镇镇", "濮院镇"}
    # The town contains a sealed community: drawn sealed on the town map.
    assert by_name["乌镇镇"]["properties"]["zone_level"] == "sealed"
    assert by_name["濮院镇"]["properties"]["zone_level"] is None  # its zone is lifted
    props = by_name["乌镇镇"]["properties"]
    assert {k: props[k] for k in ("id", "code", "level", "path")} == {
        "id": tree.town_a.pk,
        "code": tree.town_a.code,
        "level": "town",
        "path": tree.town_a.path,
    }
    assert by_name["乌镇镇"]["geometry"] == SQUARE
    r = api(town_a_user, "get", "/api/areas/map.geojson?level=community")
    levels = {f["properties"]["name"]: f["properties"]["zone_level"] for f in r.json()["features"]}
    assert levels == {"虹桥村": "sealed", "永越村": None}
    bad = api(town_a_user, "get", "/api/areas/map.geojson?level=grid")
    assert bad.status_code == 422


def test_map_covered_by_an_ancestor_member(api, town_a_user, make_zone, mapped, tree):
    make_zone(level="controlled", members=[tree.town_a], name="乌镇镇管控区")
    r = api(town_a_user, "get", "/api/areas/map.geojson?level=community")
    levels = {f["properties"]["name"]: f["properties"]["zone_level"] for f in r.json()["features"]}
    assert levels == {"虹桥村": "controlled", "永越村": None}


def test_map_query_count_is_bounded(api, admin, town_a_user, make_zone, mapped, tree, client):
    make_zone(level="sealed", members=[tree.community_a])
    client.force_login(town_a_user)
    with CaptureQueriesContext(connection) as few:
        client.get("/api/areas/map.geojson?level=community")
    for n in range(2, 8):
        node = area_services.jurisdiction_create(
            actor=admin,
            parent=tree.town_a,
            level="community",
            code_suffix=f"{n:03d}",
            name=f"村{n}",
        )
        area_services.jurisdiction_set_geometry(actor=admin, jurisdiction=node, geojson=SQUARE)
        make_zone(level="controlled", members=[node], name=f"管控区{n}")
    with CaptureQueriesContext(connection) as many:
        r = client.get("/api/areas/map.geojson?level=community")
    assert len(r.json()["features"]) == 8
    assert len(many) == len(few)
    assert len(many) <= 6  # session + user + 2 data queries (+ savepoints on some backends)
