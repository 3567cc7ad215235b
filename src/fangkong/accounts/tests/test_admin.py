"""The Django admin through the test client: its login is the one login path (lockout,
audit, demo password), and a password set on its pages is audited."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from fangkong.accounts import services
from fangkong.accounts.models import AccessToken, AuditEvent, LoginFailure
from fangkong.accounts.roles import Role

PW = "pw-Fangkong-2022"
NEW_PW = "new-Fangkong-2023"
ATTACKER = "198.51.100.66"
OFFICE = "192.0.2.10"


@pytest.fixture
def boss(tree):
    return services.user_create(
        username="boss", password=PW, role=Role.ADMIN, jurisdiction=tree.city, staff=True
    )


@pytest.fixture
def alice(tree):
    return services.user_create(
        username="alice", password=PW, role=Role.COMMAND, jurisdiction=tree.city
    )


def _admin_login(client: Client, username: str, password: str, ip: str):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": reverse("admin:index")},
        REMOTE_ADDR=ip,
    )


def test_admin_login_success_is_audited(client, boss):
    response = _admin_login(client, "boss", PW, OFFICE)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert client.session["_auth_user_id"] == str(boss.pk)
    event = AuditEvent.objects.get(action="login.success")
    assert event.actor == boss and event.ip == OFFICE and event.detail["via"] == "admin"


def test_admin_login_wrong_passwords_are_locked_like_the_login_page(client, boss):
    for _ in range(5):
        response = _admin_login(client, "boss", "wrong", ATTACKER)
        assert response.status_code == 200
        assert "用户名或密码错误" in response.content.decode()
    failures = AuditEvent.objects.filter(action="login.failure")
    assert failures.count() == 5
    assert {(e.object_label, e.ip, e.detail["via"]) for e in failures} == {
        ("boss", ATTACKER, "admin")
    }
    assert LoginFailure.objects.filter(username="boss").count() == 5

    # the right password is now refused at the admin ...
    response = _admin_login(client, "boss", PW, ATTACKER)
    assert "_auth_user_id" not in client.session
    assert "锁定" in response.content.decode()
    locked = AuditEvent.objects.get(action="login.locked")
    assert locked.detail["via"] == "admin" and locked.detail["lock"] == "account_address"
    # ... and at the login page: one lockout for every way in
    response = Client().post(
        reverse("accounts:login"), {"username": "boss", "password": PW}, REMOTE_ADDR=ATTACKER
    )
    assert response.status_code == 403
    # from another address the admin still gets in
    assert _admin_login(Client(), "boss", PW, OFFICE).status_code == 302


def test_login_page_failures_lock_the_admin_login_too(client, boss):
    for _ in range(5):
        Client().post(
            reverse("accounts:login"),
            {"username": "boss", "password": "wrong"},
            REMOTE_ADDR=ATTACKER,
        )
    _admin_login(client, "boss", PW, ATTACKER)
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="login.locked", detail__via="admin").count() == 1


def test_a_user_who_is_not_staff_is_refused_at_the_admin_and_audited(client, alice):
    response = _admin_login(client, "alice", PW, OFFICE)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "用户名或密码错误" in response.content.decode()
    event = AuditEvent.objects.get(action="login.failure")
    assert event.detail == {"username": "alice", "reason": "not_staff", "via": "admin"}
    assert not AuditEvent.objects.filter(action="login.success").exists()


@override_settings(PRODUCTION=True)
def test_admin_login_refuses_the_demo_password_in_production(client, tree):
    services.user_create(
        username="admin",
        password="fangkong-demo",
        role=Role.ADMIN,
        jurisdiction=tree.city,
        staff=True,
    )
    response = _admin_login(client, "admin", "fangkong-demo", OFFICE)
    assert "_auth_user_id" not in client.session
    assert "演示密码" in response.content.decode()
    event = AuditEvent.objects.get(action="login.refused")
    assert event.detail["reason"] == "demo_password" and event.detail["via"] == "admin"


def test_password_set_in_the_user_admin_is_audited_and_ends_tokens(client, boss, alice):
    _, plaintext = services.token_create(actor=alice, user=alice, name="pad")
    client.force_login(boss)
    url = reverse("admin:auth_user_password_change", args=[alice.pk])
    response = client.post(
        url,
        {"usable_password": "true", "password1": NEW_PW, "password2": NEW_PW},
        REMOTE_ADDR=OFFICE,
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    alice.refresh_from_db()
    assert alice.check_password(NEW_PW)
    event = AuditEvent.objects.get(action="user.password_change")
    assert event.actor == boss and event.object_id == str(alice.pk)
    assert event.ip == OFFICE and event.detail["via"] == "admin"
    assert event.jurisdiction_path == alice.scope_path
    assert services.token_authenticate(plaintext) is None
    assert AccessToken.objects.get(user=alice).revoked_at is not None


def test_a_refused_password_form_writes_no_audit_row(client, boss, alice):
    client.force_login(boss)
    url = reverse("admin:auth_user_password_change", args=[alice.pk])
    response = client.post(
        url, {"usable_password": "true", "password1": NEW_PW, "password2": "other"}
    )
    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.check_password(PW)
    assert not AuditEvent.objects.filter(action="user.password_change").exists()


def test_own_password_change_in_the_admin_is_audited(client, boss):
    client.force_login(boss)
    response = client.post(
        reverse("admin:password_change"),
        {"old_password": PW, "new_password1": NEW_PW, "new_password2": NEW_PW},
        REMOTE_ADDR=OFFICE,
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="user.password_change")
    assert event.actor == boss and event.object_id == str(boss.pk) and event.ip == OFFICE
