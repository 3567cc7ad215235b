"""Odd values in the areas pages' filters and forms are ignored or refused, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from fangkong.areas.models import Zone

pytestmark = pytest.mark.django_db
BAD = ["²", "\x00", "-1", "9" * 40, "abc", "１２", "x" * 5000]


def test_the_filters_never_fail(client: Any, command_user: Any) -> None:
    client.force_login(command_user)
    for value in BAD:
        for url, key in (
            ("areas:zone_list", "level"),
            ("areas:zone_list", "state"),
            ("areas:place_list", "kind"),
            ("areas:place_list", "q"),
            ("areas:place_list", "town"),
            ("areas:place_list", "cursor"),
            ("areas:jurisdiction_list", "depth"),
            ("areas:zone_create", "jurisdiction"),
        ):
            assert client.get(reverse(url), {key: value}).status_code < 500, (url, key, value)


def test_the_zone_form_refuses_odd_values_and_draws_nothing(
    client: Any, tree: Any, command_user: Any
) -> None:
    client.force_login(command_user)
    base = {
        "name": "虹桥村封控区",
        "level": "sealed",
        "jurisdiction": str(tree.community_a.pk),
        "started_on": "2022-04-01",
        "reason": "病例居住地",
    }
    for field in ("jurisdiction", "member_jurisdictions", "parent", "started_on", "level"):
        for value in BAD:
            response = client.post(reverse("areas:zone_create"), {**base, field: value})
            assert 400 <= response.status_code < 500, (field, value)
    assert not Zone.objects.exists()
