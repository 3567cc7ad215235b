"""`fangkong demo_users`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from fangkong.accounts import services
from fangkong.accounts.models import AuditEvent, User
from fangkong.accounts.roles import Role


def _run() -> str:
    out, err = StringIO(), StringIO()
    call_command("demo_users", stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def test_demo_users_is_idempotent(tree):
    first = _run()
    count = User.objects.count()
    assert count == 12
    second = _run()
    assert User.objects.count() == count
    assert "0 created, 12 existing" in second
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


def test_changepassword_is_audited_and_ends_the_users_tokens(tree, monkeypatch):
    user = services.user_create(
        username="alice", password="pw-Fangkong-2022", role=Role.COMMAND, jurisdiction=tree.city
    )
    _, plaintext = services.token_create(actor=user, user=user, name="pad")
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "new-Fangkong-2023")
    call_command("changepassword", "alice", stdout=StringIO())
    user.refresh_from_db()
    assert user.check_password("new-Fangkong-2023")
    event = AuditEvent.objects.get(action="user.password_change")
    assert event.actor is None and event.object_label == "alice"
    assert event.detail["via"] == "command" and event.detail["tokens_revoked"] == 1
    assert services.token_authenticate(plaintext) is None


def test_changepassword_that_fails_writes_no_audit_row(tree, monkeypatch):
    services.user_create(
        username="alice", password="pw-Fangkong-2022", role=Role.COMMAND, jurisdiction=tree.city
    )
    answers = iter(["one-Password-1", "two-Password-2"] * 3)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    with pytest.raises(CommandError):
        call_command("changepassword", "alice", stdout=StringIO())
    assert not AuditEvent.objects.filter(action="user.password_change").exists()


def test_createsuperuser_is_audited(db):
    call_command(
        "createsuperuser",
        interactive=False,
        username="root",
        email="root@example.org",
        stdout=StringIO(),
    )
    root = User.objects.get(username="root")
    assert root.is_superuser
    event = AuditEvent.objects.get(action="user.create")
    assert event.object_id == str(root.pk) and event.detail["via"] == "command"
    assert event.detail["superuser"] is True
