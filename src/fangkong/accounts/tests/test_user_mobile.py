"""A user's work mobile (for urgent notification SMS): optional, 11 digits when given,
editable by user managers in the admin."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("number", ["1390000000", "23900000000", "139000000001", "139-0000-000"])
def test_a_mobile_that_is_no_mobile_number_is_refused(town_a_user: Any, number: str) -> None:
    town_a_user.mobile = number
    with pytest.raises(ValidationError) as exc:
        town_a_user.full_clean()
    assert exc.value.error_dict["mobile"][0].code == "mobile_invalid"


def test_a_mobile_is_optional_and_kept_as_typed(town_a_user: Any) -> None:
    town_a_user.full_clean()
    town_a_user.mobile = "13912345678"
    town_a_user.full_clean()
    town_a_user.save()
    town_a_user.refresh_from_db()
    assert town_a_user.mobile == "13912345678"


def test_the_admin_s_user_form_has_the_mobile(town_a_user: Any, make_user: Any, tree: Any) -> None:
    from fangkong.accounts.roles import Role

    admin = make_user(Role.ADMIN, tree.city, "root")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    c = Client()
    c.force_login(admin)
    page = c.get(f"/admin/accounts/user/{town_a_user.pk}/change/").content.decode()
    assert 'name="mobile"' in page and "工作手机" in page
