"""Supplies: on hand = count + movements − consumption derived from tubes and samples;
movements audited; low-stock alerts; scoping; API."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.roles import Role
from fangkong.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from fangkong.testing.models import SupplyKind, SupplyStock
from fangkong.testing.selectors import supplies as selectors
from fangkong.testing.services import supplies as services
from fangkong.testkit import areas, people, testing
from fangkong.testkit.clock import at

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _on_hand(user: Any, stock: SupplyStock) -> int:
    return selectors.stock_get(user=user, pk=stock.pk).on_hand  # type: ignore[attr-defined]


@pytest.fixture
def sampled(tree: Any) -> dict[str, Any]:
    """A point where 2 single tubes, 3 10-in-1 tubes (25 persons) and one 20-in-1 tube
    (20 persons) were opened on 10 July, and one 10-in-1 tube on 8 July (before the count)."""
    point = testing.point(tree.community_a)
    persons = people.population([tree.community_a] * 50)
    rnd = testing.open_round(tree.town_a)
    testing.tube(rnd, point, persons[0:1], pool_size=1)
    testing.tube(rnd, point, persons[1:2], pool_size=1)
    testing.tube(rnd, point, persons[2:12], pool_size=10)
    testing.tube(rnd, point, persons[12:22], pool_size=10)
    testing.tube(rnd, point, persons[22:27], pool_size=10, closed=False)
    testing.tube(rnd, point, persons[27:47], pool_size=20)
    # The tube of 8 July belongs to a round sampling then (a tube is opened in its round).
    earlier = testing.open_round(tree.town_a, starts_at=at(8, 6), name="八日轮次")
    testing.tube(earlier, point, persons[47:50], pool_size=10, sampled_at=at(8, 9))
    return {"point": point, "round": rnd}


def test_consumption_is_derived_from_registrations_since_the_count(
    sampled: dict[str, Any], town_a_user: Any
) -> None:
    place = sampled["point"].place
    stocks = {
        kind: services.supply_stock_create(
            actor=town_a_user, place=place, kind=kind, quantity=100, now=at(9, 12)
        )
        for kind in (
            SupplyKind.SWAB,
            SupplyKind.TUBE_1,
            SupplyKind.TUBE_10,
            SupplyKind.TUBE_20,
            SupplyKind.N95_MASK,
        )
    }

    assert _on_hand(town_a_user, stocks[SupplyKind.SWAB]) == 100 - 47
    assert _on_hand(town_a_user, stocks[SupplyKind.TUBE_1]) == 100 - 2
    assert _on_hand(town_a_user, stocks[SupplyKind.TUBE_10]) == 100 - 3
    assert _on_hand(town_a_user, stocks[SupplyKind.TUBE_20]) == 100 - 1
    assert _on_hand(town_a_user, stocks[SupplyKind.N95_MASK]) == 100


def test_a_count_resets_the_derivation_and_audits_the_difference(
    sampled: dict[str, Any], town_a_user: Any
) -> None:
    stock = services.supply_stock_create(
        actor=town_a_user, place=sampled["point"].place, kind="swab", quantity=100, now=at(9, 12)
    )

    services.supply_count(actor=town_a_user, stock=stock, quantity=50, now=at(12, 8))

    assert _on_hand(town_a_user, stock) == 50
    event = AuditEvent.objects.get(action="supply.count")
    assert event.detail["derived"] == 53 and event.detail["difference"] == -3


def test_receive_issue_transfer_move_the_stock_and_are_audited(tree: Any, town_a_user: Any) -> None:
    warehouse = areas.place(tree.town_a, "warehouse", "乌镇仓库")
    point = testing.point(tree.community_a)
    stock = services.supply_stock_create(
        actor=town_a_user, place=warehouse, kind="gloves", quantity=10, low_threshold=5
    )

    services.supply_receive(actor=town_a_user, stock=stock, quantity=90, reason="市里调拨")
    services.supply_issue(actor=town_a_user, stock=stock, quantity=20, reason="发放")
    out, into = services.supply_transfer(
        actor=town_a_user, stock=stock, to_place=point.place, quantity=30
    )
    with pytest.raises(Conflict) as short:
        services.supply_issue(actor=town_a_user, stock=stock, quantity=51)

    assert _on_hand(town_a_user, stock) == 50
    assert _on_hand(town_a_user, into.stock) == 30
    assert (out.delta, into.delta, into.stock.place_id) == (-30, 30, point.place_id)
    assert short.value.code == "supply_insufficient"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"supply.stock_create", "supply.receive", "supply.issue", "supply.transfer"} <= actions


def test_low_stock_alerts(sampled: dict[str, Any], tree: Any, town_a_user: Any) -> None:
    low = services.supply_stock_create(
        actor=town_a_user,
        place=sampled["point"].place,
        kind="tube_10",
        quantity=5,
        low_threshold=4,
        now=at(9, 12),
    )
    services.supply_stock_create(
        actor=town_a_user,
        place=sampled["point"].place,
        kind="swab",
        quantity=500,
        low_threshold=100,
        now=at(9, 12),
    )

    alerts = list(selectors.low_stock(user=town_a_user))

    # 5 counted − 3 ten-in-one tubes opened since = 2 < 4
    assert [s.pk for s in alerts] == [low.pk]
    assert selectors.low_stock_count(user=town_a_user) == 1


def test_bad_input_and_places_refused(tree: Any, town_a_user: Any) -> None:
    venue = areas.place(tree.community_a, "venue")
    warehouse = areas.place(tree.town_a, "warehouse")
    with pytest.raises(DomainError) as kind:
        services.supply_stock_create(actor=town_a_user, place=venue, kind="swab")
    with pytest.raises(DomainError) as bad_kind:
        services.supply_stock_create(actor=town_a_user, place=warehouse, kind="bananas")
    stock = services.supply_stock_create(actor=town_a_user, place=warehouse, kind="swab")
    with pytest.raises(DomainError) as neg:
        services.supply_receive(actor=town_a_user, stock=stock, quantity=0)
    with pytest.raises(Conflict):
        services.supply_stock_create(actor=town_a_user, place=warehouse, kind="swab")

    assert kind.value.code == "place_not_stock_holder"
    assert bad_kind.value.code == "supply_kind_invalid"
    assert neg.value.code == "quantity_invalid"


def test_town_b_cannot_see_or_move_town_a_stock(
    tree: Any, town_a_user: Any, town_b_user: Any, make_user: Any
) -> None:
    warehouse = areas.place(tree.town_a, "warehouse")
    b_warehouse = areas.place(tree.town_b, "warehouse")
    stock = services.supply_stock_create(
        actor=town_a_user, place=warehouse, kind="swab", quantity=9
    )
    sampler = make_user(Role.SAMPLER, tree.community_a)

    assert list(selectors.stocks(user=town_b_user)) == []
    with pytest.raises(NotFound):
        selectors.stock_get(user=town_b_user, pk=stock.pk)
    with pytest.raises(NotFound):
        services.supply_receive(actor=town_b_user, stock=stock, quantity=1)
    with pytest.raises(NotFound):
        services.supply_transfer(actor=town_a_user, stock=stock, to_place=b_warehouse, quantity=1)
    with pytest.raises(PermissionDenied):
        services.supply_receive(actor=sampler, stock=stock, quantity=1)
    assert _on_hand(town_a_user, stock) == 9


def test_api_stock_alerts_and_movements(
    tree: Any, town_a_user: Any, town_b_user: Any, make_user: Any
) -> None:
    warehouse = areas.place(tree.town_a, "warehouse")
    a, b = _client(town_a_user), _client(town_b_user)
    lab = _client(make_user(Role.LAB, tree.town_a))

    created = a.post(
        "/api/testing/supplies",
        {"place_id": warehouse.pk, "kind": "swab", "quantity": 10, "low_threshold": 20},
        content_type="application/json",
    )
    sid = created.json()["id"]
    alerts = a.get("/api/testing/supplies/alerts").json()["items"]
    received = a.post(
        f"/api/testing/supplies/{sid}/receive", {"quantity": 15}, content_type="application/json"
    )
    after = a.get(f"/api/testing/supplies/{sid}").json()
    too_much = a.post(
        f"/api/testing/supplies/{sid}/issue", {"quantity": 26}, content_type="application/json"
    )
    counted = a.post(
        f"/api/testing/supplies/{sid}/count", {"quantity": 3}, content_type="application/json"
    )

    assert created.status_code == 201 and created.json()["low"] is True
    assert [s["id"] for s in alerts] == [sid]
    assert received.status_code == 201 and received.json()["kind"] == "receive"
    assert after["on_hand"] == 25 and after["low"] is False
    assert too_much.status_code == 409 and too_much.json()["code"] == "supply_insufficient"
    assert counted.json()["on_hand"] == 3
    assert b.get(f"/api/testing/supplies/{sid}").status_code == 404
    assert b.get("/api/testing/supplies").json()["items"] == []
    assert lab.get("/api/testing/supplies").status_code == 403


def test_supplies_page_shows_stock_and_badge(tree: Any, town_a_user: Any, town_b_user: Any) -> None:
    warehouse = areas.place(tree.town_a, "warehouse", "乌镇物资仓库")
    services.supply_stock_create(
        actor=town_a_user, place=warehouse, kind="swab", quantity=1, low_threshold=10
    )

    page = _client(town_a_user).get("/testing/supplies/").content.decode()
    badge = _client(town_a_user).get("/testing/supplies/badge/").content.decode()
    b_page = _client(town_b_user).get("/testing/supplies/").content.decode()

    assert "乌镇物资仓库" in page and 'data-low="1"' in page
    assert 'data-count="1"' in badge
    assert "乌镇物资仓库" not in b_page


# --- points without stock draw from their town's warehouse -----------------------------


@pytest.fixture
def warehouses(tree: Any, town_a_user: Any, town_b_user: Any) -> dict[str, Any]:
    """乌镇镇's and 濮院镇's warehouses, each stocked with 100 of swabs and tubes on 9 July
    (before the `sampled` point's tubes), and a second 乌镇镇 warehouse with swabs."""
    made: dict[str, Any] = {}
    for key, town, user, name in (
        ("a", tree.town_a, town_a_user, "乌镇物资仓库"),
        ("b", tree.town_b, town_b_user, "濮院物资仓库"),
        ("a2", tree.town_a, town_a_user, "乌镇备用仓库"),
    ):
        place = areas.place(town, "warehouse", name)
        kinds = (SupplyKind.SWAB,) if key == "a2" else (SupplyKind.SWAB, SupplyKind.TUBE_10)
        made[key] = {
            kind: services.supply_stock_create(
                actor=user, place=place, kind=kind, quantity=100, now=at(9, 12)
            )
            for kind in kinds
        }
    return made


def test_sampling_at_a_point_without_stock_consumes_its_towns_warehouse(
    sampled: dict[str, Any], warehouses: dict[str, Any], town_a_user: Any, town_b_user: Any
) -> None:
    a, b, a2 = warehouses["a"], warehouses["b"], warehouses["a2"]
    assert _on_hand(town_a_user, a[SupplyKind.SWAB]) == 100 - 47
    assert _on_hand(town_a_user, a[SupplyKind.TUBE_10]) == 100 - 3
    assert _on_hand(town_a_user, a2[SupplyKind.SWAB]) == 100  # one warehouse counts a tube
    assert _on_hand(town_b_user, b[SupplyKind.SWAB]) == 100  # another town's sampling
    # the point gets swabs of its own: they are consumed there, no longer at the warehouse
    own = services.supply_stock_create(
        actor=town_a_user, place=sampled["point"].place, kind="swab", quantity=60, now=at(9, 12)
    )
    assert _on_hand(town_a_user, own) == 60 - 47
    assert _on_hand(town_a_user, a[SupplyKind.SWAB]) == 100
    assert _on_hand(town_a_user, a[SupplyKind.TUBE_10]) == 100 - 3


def test_a_sampler_sees_what_her_point_draws_from_and_not_another_town(
    tree: Any, sampled: dict[str, Any], warehouses: dict[str, Any], town_a_user: Any
) -> None:
    point = sampled["point"]
    sampler = testing.sampler(point)
    a, b = warehouses["a"], warehouses["b"]
    seen = {s.pk for s in selectors.stocks(user=sampler)}
    assert seen == {a[SupplyKind.SWAB].pk, a[SupplyKind.TUBE_10].pk}
    page = _client(sampler).get("/testing/supplies/").content.decode()
    assert "乌镇物资仓库" in page and 'data-testid="supplier-label"' in page
    assert "濮院物资仓库" not in page and "乌镇备用仓库" not in page
    with pytest.raises(NotFound):
        selectors.stock_get(user=sampler, pk=b[SupplyKind.SWAB].pk)
    assert _client(sampler).get(f"/api/testing/supplies/{b[SupplyKind.SWAB].pk}").status_code == 404

    own = services.supply_stock_create(
        actor=town_a_user, place=point.place, kind="swab", quantity=60, now=at(9, 12)
    )
    seen = {s.pk for s in selectors.stocks(user=sampler)}
    assert seen == {own.pk, a[SupplyKind.TUBE_10].pk}  # its own swabs, the warehouse's tubes
    # another point's sampler, in 濮院镇, sees 濮院镇's warehouse only
    other = testing.sampler(testing.point(tree.community_b))
    assert {s.pk for s in selectors.stocks(user=other)} == {
        b[SupplyKind.SWAB].pk,
        b[SupplyKind.TUBE_10].pk,
    }


def test_supplies_page_is_one_table_with_one_movement_form(
    warehouses: dict[str, Any], town_a_user: Any
) -> None:
    from django.urls import reverse

    client = _client(town_a_user)
    page = client.get("/testing/supplies/").content.decode()
    move_url = reverse("testing:supply_move_form")
    assert page.count(f'action="{move_url}"') == 1
    assert page.count('data-testid="supply-row"') == 3
    assert 'data-testid="supply-totals"' in page and 'name="town"' in page
    swab = warehouses["a"][SupplyKind.SWAB]
    picked = client.get(f"/testing/supplies/?stock={swab.pk}").content.decode()
    assert f'<option value="{swab.pk}" selected>' in picked

    client.post(
        move_url, {"stock": swab.pk, "action": "receive", "quantity": "5", "reason": "到货"}
    )
    assert _on_hand(town_a_user, swab) == 105
    r = client.post(move_url, {"stock": swab.pk, "action": "drop", "quantity": "5"}, follow=True)
    assert "请选择库存和操作" in r.content.decode()
    assert _on_hand(town_a_user, swab) == 105
    # another town's stock through the one form: 404, nothing moved
    b_swab = warehouses["b"][SupplyKind.SWAB]
    r = client.post(move_url, {"stock": b_swab.pk, "action": "receive", "quantity": "5"})
    assert r.status_code == 404
    assert SupplyStock.objects.get(pk=b_swab.pk).movements.count() == 0
