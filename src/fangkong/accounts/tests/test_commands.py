"""`fangkong demo_users`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from fangkong.accounts.models import User


def _run() -> str:
    out, err = StringIO(), StringIO()
    call_command("demo_users", stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def test_demo_users_is_idempotent(tree):
    first = _run()
    count = User.objects.count()
    assert count == 11
    second = _run()
    assert User.objects.count() == count
    assert "0 created, 11 existing" in second
    assert "fangkong-demo" in first and "指挥部" in first


def test_demo_users_bindings(tree, places):
    _run()
    users = {u.username: u for u in User.objects.all()}
    assert users["command"].scope_path == tree.city.path
    assert users["town-wuzhen"].jurisdiction == tree.town_a
    assert users["town-puyuan"].jurisdiction == tree.town_b
    assert users["community"].jurisdiction == tree.community_a
    assert users["site"].place == places["quarantine_site"]
    assert users["sampler"].place == places["sampling_point"]
    assert users["lab"].place == places["lab"]
    assert users["admin"].is_superuser and users["admin"].is_staff
    assert not users["command"].is_staff
    assert users["town-wuzhen"].check_password("fangkong-demo")


def test_demo_users_without_places_warns_and_binds_to_the_town(tree):
    output = _run()
    assert "warning" in output
    site = User.objects.get(username="site")
    assert site.place is None and site.jurisdiction == tree.town_a


def test_demo_users_refused_in_production(tree):
    with override_settings(PRODUCTION=True), pytest.raises(CommandError):
        call_command("demo_users", stdout=StringIO())
    assert not User.objects.exists()


def test_demo_users_needs_the_demo_city(db):
    with pytest.raises(CommandError):
        call_command("demo_users", stdout=StringIO())
