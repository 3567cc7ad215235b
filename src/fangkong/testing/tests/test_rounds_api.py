"""The rounds API through the real HTTP stack: create, open, close, planner, advisor;
scoping (a town sees its rounds and the city's, never another town's)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from fangkong.accounts.roles import Role
from fangkong.testing.models import RoundStatus, SupplyKind
from fangkong.testing.services import rounds as services
from fangkong.testing.services import supplies as supply_services
from fangkong.testkit import areas, testing
from fangkong.testkit.clock import at
from fangkong.testkit.worlds.rounds import World, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree: Any, make_user: Any) -> World:
    return build_world(tree, make_user)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _create(client: Client, **payload: Any) -> Any:
    body = {"name": "乌镇镇第一轮", "starts_at": "2022-07-10T06:00:00+08:00", **payload}
    return client.post("/api/testing/rounds", body, content_type="application/json")


def test_create_open_close_through_the_api(world: World) -> None:
    client = _client(world.town_a_user)

    created = _create(client, jurisdiction_ids=[world.tree.town_a.pk])
    rid = created.json()["id"]
    opened = client.post(f"/api/testing/rounds/{rid}/open")
    closed = client.post(f"/api/testing/rounds/{rid}/close")
    again = client.post(f"/api/testing/rounds/{rid}/close")

    assert created.status_code == 201, created.content
    assert created.json()["jurisdiction_path"] == world.tree.town_a.path
    deadline = dt.datetime.fromisoformat(created.json()["deadline_at"].replace("Z", "+00:00"))
    assert deadline == at(11, 6)
    assert created.json()["scope"] == ["乌镇镇"]
    assert opened.status_code == 200 and opened.json()["target_count"] == 15
    assert closed.json()["status"] == RoundStatus.CLOSED
    assert again.status_code == 409 and again.json()["code"] == "round_not_open"


def test_zone_scope_and_household_pooling_by_api(world: World) -> None:
    client = _client(world.town_a_user)
    created = _create(client, zone_ids=[world.sealed.pk], sealed_pooling="household")
    rid = created.json()["id"]
    client.post(f"/api/testing/rounds/{rid}/open")

    plan = client.get(f"/api/testing/rounds/{rid}/planner").json()

    assert created.status_code == 201
    # households of 3 and 2 and one single: one tube each (+10 % spare, ceil)
    assert plan["total"]["by_pool_size"] == {"1": 1, "2": 2, "3": 3}
    assert plan["total"]["tubes"] == {"1": 2, "2": 2, "3": 2}


def test_bad_input_and_unknown_ids_are_4xx(world: World) -> None:
    client = _client(world.town_a_user)

    no_scope = _create(client)
    unknown = _create(client, jurisdiction_ids=[999_999])
    bad_zone = _create(client, zone_ids=[999_999])
    naive = _create(client, jurisdiction_ids=[world.tree.town_a.pk], starts_at="2022-07-10T06:00")
    bad_pool = _create(client, jurisdiction_ids=[world.tree.town_a.pk], sealed_pooling="x")

    assert no_scope.status_code == 400 and no_scope.json()["code"] == "round_scope_empty"
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_jurisdiction"
    assert bad_zone.status_code == 400 and bad_zone.json()["code"] == "unknown_zone"
    assert naive.status_code == 400 and naive.json()["code"] == "naive_datetime"
    assert bad_pool.status_code == 422


def test_town_b_neither_sees_nor_opens_town_a_round(world: World) -> None:
    rnd = services.round_create(
        actor=world.town_a_user, name="乌镇", jurisdictions=[world.tree.town_a], starts_at=at(10, 6)
    )
    city = services.round_create(
        actor=world.command, name="全市", jurisdictions=[world.tree.city], starts_at=at(11, 6)
    )
    b = _client(world.town_b_user)

    listed = {r["id"] for r in b.get("/api/testing/rounds").json()["items"]}
    detail = b.get(f"/api/testing/rounds/{rnd.pk}")
    opened = b.post(f"/api/testing/rounds/{rnd.pk}/open")
    planner = b.get(f"/api/testing/rounds/{rnd.pk}/planner")
    scope_outside = _create(b, jurisdiction_ids=[world.tree.town_a.pk])

    assert listed == {city.pk}
    assert detail.status_code == 404 and opened.status_code == 404
    assert planner.status_code == 404
    assert (
        scope_outside.status_code == 403 and scope_outside.json()["code"] == "round_scope_outside"
    )
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.PLANNED


def test_town_sees_a_city_round_but_cannot_open_it_and_its_planner_is_its_town(
    world: World,
) -> None:
    city = services.round_create(
        actor=world.command, name="全市", jurisdictions=[world.tree.city], starts_at=at(11, 6)
    )
    a = _client(world.town_a_user)

    opened = a.post(f"/api/testing/rounds/{city.pk}/open")
    plan = a.get(f"/api/testing/rounds/{city.pk}/planner").json()

    assert opened.status_code == 404
    assert [t["town_name"] for t in plan["towns"]] == ["乌镇镇"]
    assert plan["total"]["population"] == 15


def test_a_round_of_two_towns_is_hidden_from_a_third(world: World, make_user: Any) -> None:
    from fangkong.areas.models import Jurisdiction

    town_c = Jurisdiction.objects.create(
        level="town",
        code="330483103",
        name="崇福镇",
        parent=world.tree.city,
        path="330483103",
        depth=1,
    )
    c_user = make_user(Role.TOWN_STAFF, town_c)
    both = services.round_create(
        actor=world.command,
        name="两镇",
        jurisdictions=[world.tree.town_a, world.tree.town_b],
        starts_at=at(11, 6),
    )

    assert _client(c_user).get(f"/api/testing/rounds/{both.pk}").status_code == 404
    assert _client(world.town_b_user).get(f"/api/testing/rounds/{both.pk}").status_code == 200


def test_wrong_role_gets_403(world: World, make_user: Any) -> None:
    lab = _client(make_user(Role.LAB, world.tree.town_a))
    worker = _client(make_user(Role.COMMUNITY_WORKER, world.tree.community_a))

    assert lab.get("/api/testing/rounds").status_code == 403
    assert lab.get("/api/testing/pool-advice?prevalence=0.01").status_code == 403
    created = _create(worker, jurisdiction_ids=[world.tree.community_a.pk])
    assert created.status_code == 403


def test_planner_figures_for_a_planned_and_an_open_round(world: World) -> None:
    warehouse = areas.place(world.tree.town_a, "warehouse", "乌镇仓库")
    supply_services.supply_stock_create(
        actor=world.town_a_user, place=warehouse, kind=SupplyKind.SWAB, quantity=10
    )
    testing.point(world.tree.community_a, tables=3, samplers=6)
    client = _client(world.town_a_user)
    rid = _create(client, jurisdiction_ids=[world.tree.town_a.pk]).json()["id"]

    planned = client.get(f"/api/testing/rounds/{rid}/planner").json()
    client.post(f"/api/testing/rounds/{rid}/open")
    opened = client.get(f"/api/testing/rounds/{rid}/planner").json()

    for plan in (planned, opened):
        row = plan["towns"][0]
        assert row["population"] == 15
        assert row["by_pool_size"] == {"1": 6, "10": 4, "20": 5}
        assert row["by_zone_level"] == {"sealed": 6, "controlled": 4, "precaution": 5}
        assert row["samplers"] == 1  # ceil(15 / 360)
        assert row["tubes"] == {"1": 6 + 1, "10": 1 + 1, "20": 1 + 1}
        assert row["swabs"] == 16  # 15 + ceil(0.75)
        assert row["points"] == 1 and row["tables"] == 3
        swab = next(s for s in row["supplies"] if s["kind"] == "swab")
        assert swab == {"kind": "swab", "needed": 16, "on_hand": 10, "shortage": 6}
    assert planned["computed"] is False and opened["computed"] is True


def test_pool_advice_endpoint(world: World) -> None:
    client = _client(world.town_a_user)

    ok = client.get("/api/testing/pool-advice?prevalence=0.01").json()
    bad = client.get("/api/testing/pool-advice?prevalence=2")

    assert ok["pool_size"] == 11
    assert ok["tests_per_person"] == pytest.approx(1 / 11 + 1 - 0.99**11)
    assert len(ok["curve"]) == 50 and ok["curve"][10][0] == 11
    assert bad.status_code == 422
