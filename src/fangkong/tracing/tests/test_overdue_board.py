"""The overdue board (超时督办) brings overdue investigations and overdue pushed lists together."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from fangkong.testkit import people, tracing

pytestmark = pytest.mark.django_db


def test_board_lists_an_investigation_past_its_deadline(tree: Any, command_user: Any, client: Any):
    person = people.person(tree.community_a, name="赵一鸣", actor=command_user)
    reported = timezone.now() - dt.timedelta(hours=30)
    late = tracing.reported_case(person, actor=command_user, reported_at=reported)
    on_time = tracing.reported_case(
        people.person(tree.community_a, name="钱二", actor=command_user), actor=command_user
    )

    client.force_login(command_user)
    response = client.get(reverse("tracing:overdue_board"))

    assert response.status_code == 200
    html = response.content.decode()
    assert late.number in html
    assert on_time.number not in html
    assert "赵*鸣" in html and "赵一鸣" not in html


def test_board_is_refused_to_town_staff(town_a_user: Any, client: Any):
    client.force_login(town_a_user)
    assert client.get(reverse("tracing:overdue_board")).status_code == 403
