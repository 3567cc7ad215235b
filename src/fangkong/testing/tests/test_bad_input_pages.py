"""Odd input on the mass-testing pages is a 4xx or an ignored filter, never a 500:
digits that are not ASCII ("²".isdigit() is True, int("²") fails), slashes in barcodes."""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.accounts.roles import Role
from fangkong.testkit import testing

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/testing/points/?jurisdiction=²",
        "/testing/sampling/?point=²",
        "/testing/rounds/new/?jurisdictions=²",
        "/testing/coverage/",
    ],
)
def test_non_ascii_digits_never_fail(client: Any, command_user: Any, url: str) -> None:
    client.force_login(command_user)
    assert client.get(url).status_code < 500


def test_lab_and_tube_lookups_never_fail(client: Any, tree: Any, make_user: Any) -> None:
    point = testing.point(tree.community_a)
    sampler = make_user(Role.SAMPLER, tree.community_a)
    sampler.place = point.place
    sampler.save(update_fields=["place"])
    lab = testing.lab(tree.town_a)
    lab_user = make_user(Role.LAB, tree.town_a)
    lab_user.place = lab
    lab_user.save(update_fields=["place"])

    client.force_login(sampler)
    response = client.post("/testing/boxes/", {"lab": "abc", "barcode": "BOX1"})
    assert response.status_code in (200, 400, 404)
    client.force_login(lab_user)
    assert client.get("/testing/lab/results/?tube=a/b").status_code == 200
