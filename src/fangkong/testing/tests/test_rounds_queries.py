"""List pages and the planner read in a fixed number of queries, whatever the rows."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fangkong.testing.services import rounds as services
from fangkong.testing.services import supplies as supply_services
from fangkong.testkit import areas, testing
from fangkong.testkit.clock import at

pytestmark = pytest.mark.django_db


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_round_list_points_and_supplies_pages_do_not_query_per_row(
    tree: Any, town_a_user: Any
) -> None:
    client = _client(town_a_user)
    services.round_create(
        actor=town_a_user, name="一", jurisdictions=[tree.town_a], starts_at=at(10, 6)
    )
    testing.point(tree.community_a)
    warehouse = areas.place(tree.town_a, "warehouse")
    supply_services.supply_stock_create(actor=town_a_user, place=warehouse, kind="swab")
    client.get("/testing/rounds/")  # warm the session and caches
    one = [
        _queries(client, u) for u in ("/testing/rounds/", "/testing/points/", "/testing/supplies/")
    ]

    for n in range(5):
        services.round_create(
            actor=town_a_user, name=f"轮{n}", jurisdictions=[tree.community_a], starts_at=at(11, n)
        )
        testing.point(tree.community_a)
        supply_services.supply_stock_create(
            actor=town_a_user, place=areas.place(tree.town_a, "warehouse"), kind="tube_10"
        )
    many = [
        _queries(client, u) for u in ("/testing/rounds/", "/testing/points/", "/testing/supplies/")
    ]

    assert many == one


def test_round_detail_with_planner_is_a_fixed_number_of_queries(
    tree: Any, town_a_user: Any
) -> None:
    client = _client(town_a_user)
    rnd = services.round_create(
        actor=town_a_user, name="一", jurisdictions=[tree.town_a], starts_at=at(10, 6)
    )
    client.get(f"/testing/rounds/{rnd.pk}/")
    before = _queries(client, f"/testing/rounds/{rnd.pk}/")
    for _ in range(4):
        testing.point(tree.community_a)
        supply_services.supply_stock_create(
            actor=town_a_user, place=areas.place(tree.town_a, "warehouse"), kind="swab"
        )

    assert _queries(client, f"/testing/rounds/{rnd.pk}/") == before
    assert before < 25
