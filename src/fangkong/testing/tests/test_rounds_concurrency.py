"""Concurrent writes (PostgreSQL): a round opens once; a stock is never issued below zero;
two queue updates of one point leave one consistent state."""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.core.errors import Conflict
from fangkong.testing.models import RoundStatus, RoundTarget
from fangkong.testing.selectors import supplies as supply_selectors
from fangkong.testing.services import rounds as services
from fangkong.testing.services import supplies as supply_services
from fangkong.testkit import areas
from fangkong.testkit.clock import at
from fangkong.testkit.concurrency import race
from fangkong.testkit.worlds.rounds import build_world


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_opens_compute_the_targets_once(tree: Any, make_user: Any) -> None:
    world = build_world(tree, make_user)
    rnd = services.round_create(
        actor=world.command, name="全市", jurisdictions=[tree.city], starts_at=at(10, 6)
    )

    results, errors = race(
        lambda: services.round_open(actor=world.command, round=rnd),
        lambda: services.round_open(actor=world.command, round=rnd),
    )

    assert len(results) == 1 and [type(e) for e in errors] == [Conflict]
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.OPEN and rnd.target_count == 18
    assert RoundTarget.objects.filter(round=rnd).count() == 18


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_never_go_below_zero(tree: Any, make_user: Any) -> None:
    world = build_world(tree, make_user, zones=False)
    warehouse = areas.place(tree.town_a, "warehouse")
    stock = supply_services.supply_stock_create(
        actor=world.town_a_user, place=warehouse, kind="swab", quantity=10
    )

    def issue() -> Any:
        return supply_services.supply_issue(actor=world.town_a_user, stock=stock, quantity=7)

    results, errors = race(issue, issue)

    assert len(results) == 1 and [getattr(e, "code", e) for e in errors] == ["supply_insufficient"]
    on_hand = supply_selectors.stock_get(user=world.town_a_user, pk=stock.pk).on_hand  # type: ignore[attr-defined]
    assert on_hand == 3
