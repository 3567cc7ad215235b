"""Odd input to the accounts pages' forms is a 4xx or the page's own refusal, never a
500: the token form's expiry, the audit filters, the login form."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from fangkong.accounts.models import AccessToken

pytestmark = pytest.mark.django_db
BAD = ["²", "\x00", "-1", "9" * 40, "abc", "２０２２-01-01", "2022-13-45", "x" * 5000]


def test_a_bad_expiry_is_refused_and_creates_no_token(client: Any, command_user: Any) -> None:
    client.force_login(command_user)
    for value in BAD:
        response = client.post(reverse("accounts:tokens"), {"name": "ci", "expires_on": value})
        assert response.status_code == 400, value
        assert "YYYY-MM-DD" in response.content.decode()
    assert not AccessToken.objects.exists()


def test_the_audit_filters_refuse_a_bad_date_and_never_fail(client: Any, command_user: Any) -> None:
    client.force_login(command_user)
    assert client.get(reverse("accounts:audit"), {"since": "2022-13-45"}).status_code == 400
    for value in BAD:
        for key in ("actor", "action", "object_type", "object_id", "since", "until", "cursor"):
            assert client.get(reverse("accounts:audit"), {key: value}).status_code < 500


def test_the_login_form_never_fails(client: Any, command_user: Any) -> None:
    for value in BAD:
        for key in ("username", "password", "next"):
            data = {"username": "command", "password": "nope", key: value}
            assert client.post(reverse("accounts:login"), data).status_code < 500, (key, value)
