"""Concurrent pushes and marks (PostgreSQL): a contact is pushed once, a list closes once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fangkong.testkit.concurrency import race
from fangkong.testkit.worlds.pushes import build_world
from fangkong.tracing.models import PushItem, PushStatus, VerificationPush
from fangkong.tracing.services import pushes as services


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_pushes_of_a_case_push_each_contact_once(tree: Any, make_user: Any) -> None:
    world = build_world(tree, make_user)

    def push() -> list[VerificationPush]:
        return services.pushes_create_for_case(actor=world.investigator, case=world.case)

    results, errors = race(push, push)

    assert errors == []
    assert sorted(len(r) for r in results) == [0, 2]
    assert VerificationPush.objects.count() == 2
    assert PushItem.objects.count() == 5
    assert PushItem.objects.values("contact").distinct().count() == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_last_marks_close_the_list(tree: Any, make_user: Any) -> None:
    world = build_world(tree, make_user)
    created = services.pushes_create_for_case(actor=world.investigator, case=world.case)
    push = next(p for p in created if p.jurisdiction_path == tree.town_b.path)
    b1, b2 = list(push.items.order_by("pk"))

    def mark(item: PushItem) -> Callable[[], PushItem]:
        return lambda: services.push_item_mark(actor=world.town_b, item=item, status="home")

    _, errors = race(mark(b1), mark(b2))

    assert errors == []
    push.refresh_from_db()
    assert push.status == PushStatus.DONE and push.completed_at is not None
