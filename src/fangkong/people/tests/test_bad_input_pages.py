"""Odd input to the people pages' forms is a 4xx (or an ignored filter), never a 500,
and creates nobody: "²".isdigit() is True but int("²") fails, NUL, huge ids."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from fangkong.people.models import Person

pytestmark = pytest.mark.django_db
BAD = ["²", "\x00", "-1", "9" * 40, "abc", "１２", "x" * 5000]


def test_the_create_form_refuses_a_bad_jurisdiction_with_its_code(
    client: Any, command_user: Any
) -> None:
    client.force_login(command_user)
    for value in BAD:
        response = client.post(
            reverse("people:create"),
            {"name": "王五", "id_kind": "ric", "id_number": "x", "jurisdiction": value},
        )
        assert response.status_code == 400, value
        assert 'data-code="jurisdiction_required"' in response.content.decode()
    assert not Person.objects.exists()


def test_no_form_of_the_people_pages_fails_on_odd_input(
    client: Any, tree: Any, command_user: Any
) -> None:
    client.force_login(command_user)
    base = {"name": "王五", "id_kind": "ric", "jurisdiction": str(tree.community_a.pk)}
    for field in ("name", "id_kind", "id_number", "phone"):
        for value in BAD:
            response = client.post(reverse("people:create"), {**base, field: value})
            assert response.status_code < 500, (field, value)
    for value in BAD:
        for data in ({"q": value}, {"jurisdiction": value}, {"cursor": value}):
            assert client.get(reverse("people:list"), data).status_code < 500, data
            assert client.post(reverse("people:list"), data).status_code < 500, data
            assert client.post(reverse("people:export"), data).status_code < 500, data
    assert not Person.objects.exists()
