"""Every list page says how many rows it has, the same way (core/_list_total.html)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from fangkong.testkit import testing as kit_testing

LISTS = [
    "people:list",
    "areas:place_list",
    "areas:jurisdiction_list",
    "areas:zone_list",
    "protocol:list",
    "accounts:audit",
    "tracing:case_list",
    "tracing:contact_list",
    "tracing:cluster_list",
    "testing:round_list",
    "testing:point_list",
]


@pytest.mark.parametrize("url_name", LISTS)
def test_a_list_page_shows_its_total(url_name: str, command_user: Any, client: Any) -> None:
    client.force_login(command_user)

    response = client.get(reverse(url_name))

    assert response.status_code == 200
    total = re.search(r'data-testid="list-total">([^<]*)<', response.content.decode())
    assert total and re.fullmatch(r"共 [\d,]+\+? 条.*", total.group(1)), url_name


def test_the_jurisdiction_total_counts_the_rows_shown(command_user: Any, client: Any) -> None:
    client.force_login(command_user)

    response = client.get(reverse("areas:jurisdiction_list"), {"depth": 3})

    assert response.context["total"].count == len(response.context["rows"]) == 6


def test_the_sampler_box_list_shows_its_total(tree: Any, client: Any) -> None:
    client.force_login(kit_testing.sampler(kit_testing.point(tree.community_a)))

    response = client.get(reverse("testing:box_list"))

    assert response.status_code == 200
    assert "共 0 条" in response.content.decode()


def test_the_labs_incoming_boxes_show_their_total(tree: Any, client: Any) -> None:
    client.force_login(kit_testing.lab_user(kit_testing.lab(tree.community_a)))

    response = client.get(reverse("testing:box_receive"))

    assert response.status_code == 200
    assert response.context["incoming_total"].count == 0
    assert "共 0 条" in response.content.decode()
