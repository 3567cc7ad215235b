"""Overdue investigations on the overdue board (core.deadlines kind "tracing.case"):
command's board lists them; the old tracing address leads there."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from fangkong.core.errors import PermissionDenied
from fangkong.testkit import people, tracing
from fangkong.tracing.selectors import cases as selectors

pytestmark = pytest.mark.django_db


def test_board_lists_an_investigation_past_its_deadline(tree: Any, command_user: Any, client: Any):
    person = people.person(tree.community_a, name="赵一鸣", actor=command_user)
    reported = timezone.now() - dt.timedelta(hours=30)
    late = tracing.reported_case(person, actor=command_user, reported_at=reported)
    on_time = tracing.reported_case(
        people.person(tree.community_a, name="钱二", actor=command_user), actor=command_user
    )

    client.force_login(command_user)
    response = client.get(reverse("tracing:overdue_board"), follow=True)

    assert response.status_code == 200
    html = response.content.decode()
    assert late.number in html
    assert on_time.number not in html
    assert "赵一鸣" not in html


def test_overdue_investigations_are_the_investigation_teams_and_not_a_towns(
    tree: Any, command_user: Any, town_a_user: Any
):
    person = people.person(tree.community_a, name="孙三", actor=command_user)
    reported = timezone.now() - dt.timedelta(hours=30)
    late = tracing.reported_case(person, actor=command_user, reported_at=reported)
    now = timezone.now()

    items = selectors.cases_overdue_items(command_user, now, 10)
    assert [(i.key, i.owner_kind, i.owner_key) for i in items] == [
        (str(late.pk), "department", "investigation")
    ]
    assert items[0].deadline == late.core_facts_due_at
    assert selectors.cases_overdue_count(command_user, now) == 1
    with pytest.raises(PermissionDenied):
        selectors.cases_overdue_items(town_a_user, now, 10)
