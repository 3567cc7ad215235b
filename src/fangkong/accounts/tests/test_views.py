"""The accounts pages through the test client: login, logout, audit log, tokens."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from fangkong.accounts import services
from fangkong.accounts.models import AccessToken, AuditEvent
from fangkong.accounts.roles import Role

PW = "pw-Fangkong-2022"


@pytest.fixture
def alice(tree):
    return services.user_create(
        username="alice", password=PW, role=Role.COMMAND, jurisdiction=tree.city
    )


def _login(client, username="alice", password=PW, **extra):
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password, **extra}
    )


def test_login_page_renders_in_chinese(client, db):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert "登录防控平台" in response.content.decode()


def test_login_success_redirects_home_and_logs_in(client, alice):
    response = _login(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    assert client.session["_auth_user_id"] == str(alice.pk)
    assert AuditEvent.objects.filter(action="login.success", actor=alice).exists()


def test_login_redirects_to_a_safe_next_only(client, alice):
    response = _login(client, next="/accounts/audit/?action=x")
    assert response["Location"] == "/accounts/audit/?action=x"
    other = Client()
    response = _login(other, next="https://evil.example.com/")
    assert response["Location"] == reverse("web:home")


def test_login_failure_does_not_say_which_was_wrong(client, alice):
    wrong_password = _login(client, password="nope").content.decode()
    unknown_user = _login(client, username="nobody").content.decode()
    for page in (wrong_password, unknown_user):
        assert "用户名或密码错误" in page
        assert "_auth_user_id" not in client.session
    response = _login(client, password="nope")
    assert response.status_code == 401
    assert 'value="alice"' in response.content.decode()


@override_settings(FANGKONG_LOGIN_MAX_FAILURES=2)
def test_login_lockout_page(client, alice):
    _login(client, password="bad")
    _login(client, password="bad")
    response = _login(client)
    assert response.status_code == 403
    page = response.content.decode()
    assert "锁定" in page and "之后再试" in page
    assert "_auth_user_id" not in client.session


@override_settings(PRODUCTION=True)
def test_login_page_refuses_the_demo_password_in_production(client, tree):
    services.user_create(
        username="command", password="fangkong-demo", role=Role.COMMAND, jurisdiction=tree.city
    )
    response = _login(client, username="command", password="fangkong-demo")
    assert response.status_code == 403
    assert "演示密码" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="login.refused", object_label="command").exists()


def test_logout_is_post_only(client, alice):
    client.force_login(alice)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert "_auth_user_id" in client.session
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="logout", actor=alice).exists()


def test_audit_page_requires_login(client, db):
    response = client.get(reverse("accounts:audit"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_audit_page_for_command_with_filters(client, command_user, tree):
    services.audit_record(
        actor=command_user,
        action="person.reveal",
        object_type="person",
        object_id="42",
        jurisdiction_path=tree.town_a.path,
    )
    services.audit_record(
        actor=None, action="zone.create", object_type="zone", jurisdiction_path=tree.town_b.path
    )
    client.force_login(command_user)
    page = client.get(reverse("accounts:audit"))
    labels = [row["action_label"] for row in page.context["rows"]]
    assert labels == ["划定风险区", "查看完整证件号或手机号"]
    filtered = client.get(reverse("accounts:audit"), {"object_type": "person", "object_id": "42"})
    assert filtered.status_code == 200
    assert [row["event"].action for row in filtered.context["rows"]] == ["person.reveal"]
    bad_date = client.get(reverse("accounts:audit"), {"since": "yesterday"})
    assert bad_date.status_code == 400


def test_audit_page_next_page_link_keeps_filters(client, command_user, tree):
    for _ in range(55):
        services.audit_record(
            actor=None, action="person.view", object_type="person", jurisdiction_path="330483"
        )
    client.force_login(command_user)
    response = client.get(reverse("accounts:audit"), {"action": "person.view"})
    next_url = response.context["next_url"]
    assert "cursor=" in next_url and "action=person.view" in next_url
    assert len(response.context["rows"]) == 50
    assert response.context["total"].count == 55
    second = client.get(next_url)
    assert len(second.context["rows"]) == 5
    assert not second.context["next_url"]


def test_audit_page_forbidden_for_town_staff(client, town_a_user, tree):
    services.audit_record(
        actor=None, action="person.reveal", object_type="person", jurisdiction_path="330483102"
    )
    client.force_login(town_a_user)
    response = client.get(reverse("accounts:audit"))
    assert response.status_code == 403
    assert "person.reveal" not in response.content.decode()


def test_tokens_page_shows_plaintext_once_and_revokes(client, command_user):
    client.force_login(command_user)
    assert client.get(reverse("accounts:tokens")).status_code == 200
    response = client.post(reverse("accounts:tokens"), {"name": "采样终端"})
    assert response.status_code == 200
    plaintext = response.context["plaintext"]
    assert plaintext.startswith("fk_") and plaintext in response.content.decode()
    token = AccessToken.objects.get(user=command_user)
    listing = client.get(reverse("accounts:tokens")).content.decode()
    assert plaintext not in listing and token.prefix in listing
    # The page says how a sampler's phone uses (or does not need) a token.
    assert 'data-testid="token-phone-hint"' in listing and "采样应用则需要一个令牌" in listing
    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert services.token_authenticate(plaintext) is None


def test_tokens_page_gives_a_token_the_default_lifetime(client, command_user, settings):
    settings.FANGKONG_TOKEN_LIFETIME_DAYS = 90
    client.force_login(command_user)
    response = client.post(reverse("accounts:tokens"), {"name": "采样终端"})
    assert response.status_code == 200
    token = AccessToken.objects.get(user=command_user)
    assert token.expires_at - token.created_at == pytest.approx(
        dt.timedelta(days=90), abs=dt.timedelta(seconds=5)
    )
    page = response.content.decode()
    assert "90 天后过期" in page
    assert timezone.localtime(token.expires_at).strftime("%Y-%m-%d %H:%M") in page


def test_tokens_page_refuses_a_date_beyond_the_maximum(client, command_user, settings):
    settings.FANGKONG_TOKEN_MAX_LIFETIME_DAYS = 30
    client.force_login(command_user)
    too_far = (timezone.localdate() + dt.timedelta(days=31)).isoformat()
    response = client.post(reverse("accounts:tokens"), {"name": "pad", "expires_on": too_far})
    assert response.status_code == 400
    assert "令牌有效期最长 30 天" in response.content.decode()
    assert not AccessToken.objects.exists()
    # the date field offers no later day than the last one accepted
    latest = response.context["latest_day"]
    ok = client.post(reverse("accounts:tokens"), {"name": "pad", "expires_on": latest})
    assert ok.status_code == 200 and AccessToken.objects.count() == 1


def test_tokens_page_forbidden_without_token_manage(client, town_a_user, command_user):
    token, _ = services.token_create(actor=command_user, user=command_user, name="theirs")
    client.force_login(town_a_user)
    assert client.get(reverse("accounts:tokens")).status_code == 403
    assert client.post(reverse("accounts:tokens"), {"name": "x"}).status_code == 403
    assert client.post(reverse("accounts:token_revoke", args=[token.pk])).status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None
    assert not AccessToken.objects.filter(user=town_a_user).exists()


def test_cannot_revoke_another_users_token_from_the_page(client, command_user, tree, make_user):
    other = make_user(Role.COMMAND, tree.city, "command-2")
    token, _ = services.token_create(actor=other, user=other, name="theirs")
    client.force_login(command_user)
    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
