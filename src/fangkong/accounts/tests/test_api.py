"""The accounts API through the real HTTP stack: tokens, CSRF, /me, the audit log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.accounts import services
from fangkong.accounts.models import AccessToken, AuditEvent
from fangkong.accounts.roles import Role


def bearer(plaintext: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}


def test_me_with_a_bearer_token(command_user, tree):
    _, plaintext = services.token_create(actor=command_user, user=command_user, name="pad")
    response = Client().get("/api/accounts/me", **bearer(plaintext))
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "command"
    assert body["role"] == "command"
    assert body["role_label"] == "指挥部"
    assert body["jurisdiction"] == {"id": tree.city.pk, "name": "桐乡市", "path": "330483"}
    assert "audit.view" in body["capabilities"]


def test_me_with_the_session(client, town_a_user, tree):
    client.force_login(town_a_user)
    body = client.get("/api/accounts/me").json()
    assert body["jurisdiction"]["path"] == tree.town_a.path
    assert "audit.view" not in body["capabilities"]


def test_anonymous_and_bad_tokens_get_401(command_user):
    assert Client().get("/api/accounts/me").status_code == 401
    response = Client().get("/api/accounts/me", **bearer("fk_nonsense"))
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_revoked_token_gets_401(command_user):
    token, plaintext = services.token_create(actor=command_user, user=command_user, name="pad")
    assert Client().get("/api/accounts/me", **bearer(plaintext)).status_code == 200
    services.token_revoke(actor=command_user, token=token)
    response = Client().get("/api/accounts/me", **bearer(plaintext))
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_session_post_without_csrf_is_refused(command_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(command_user)
    response = client.post("/api/accounts/tokens", {"name": "pad"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert not AccessToken.objects.exists()


def test_session_post_with_csrf_token_is_accepted(command_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(command_user)
    client.get("/accounts/tokens/")  # a page with a form sets the csrftoken cookie
    csrf = client.cookies["csrftoken"].value
    response = client.post(
        "/api/accounts/tokens",
        {"name": "pad"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert response.status_code == 201, response.content


def test_token_post_needs_no_csrf(command_user):
    token, plaintext = services.token_create(actor=command_user, user=command_user, name="pad")
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/api/accounts/tokens/{token.pk}/revoke", **bearer(plaintext))
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None


def test_a_token_cannot_create_tokens(command_user):
    """A leaked token minted fresh tokens, so revoking it did not end the access."""
    token, plaintext = services.token_create(actor=command_user, user=command_user, name="pad")
    response = Client().post(
        "/api/accounts/tokens",
        {"name": "second"},
        content_type="application/json",
        **bearer(plaintext),
    )
    assert response.status_code == 403
    assert response.json()["code"] == "token_cannot_create_token"
    assert list(AccessToken.objects.values_list("pk", flat=True)) == [token.pk]
    assert (
        not AuditEvent.objects.filter(action="token.create")
        .exclude(object_id=str(token.pk))
        .exists()
    )


def test_a_token_with_a_session_cookie_still_cannot_create_tokens(client, command_user):
    _, plaintext = services.token_create(actor=command_user, user=command_user, name="pad")
    client.force_login(command_user)
    response = client.post(
        "/api/accounts/tokens",
        {"name": "second"},
        content_type="application/json",
        **bearer(plaintext),
    )
    assert response.status_code == 403
    assert response.json()["code"] == "token_cannot_create_token"
    assert AccessToken.objects.count() == 1


def test_session_created_token_expires_by_default(client, command_user, settings):
    settings.FANGKONG_TOKEN_LIFETIME_DAYS = 30
    client.force_login(command_user)
    before = timezone.now()
    body = client.post(
        "/api/accounts/tokens", {"name": "pad"}, content_type="application/json"
    ).json()
    expires_at = dt.datetime.fromisoformat(body["expires_at"])
    assert before + dt.timedelta(days=30) <= expires_at <= timezone.now() + dt.timedelta(days=30)


def test_token_expiry_beyond_the_maximum_is_refused(client, command_user, settings):
    settings.FANGKONG_TOKEN_MAX_LIFETIME_DAYS = 180
    client.force_login(command_user)
    too_far = (timezone.now() + dt.timedelta(days=181)).isoformat()
    response = client.post(
        "/api/accounts/tokens",
        {"name": "pad", "expires_at": too_far},
        content_type="application/json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "token_expiry_too_far"
    assert body["detail"]["max_days"] == 180
    assert not AccessToken.objects.exists()
    within = (timezone.now() + dt.timedelta(days=179)).isoformat()
    response = client.post(
        "/api/accounts/tokens",
        {"name": "pad", "expires_at": within},
        content_type="application/json",
    )
    assert response.status_code == 201


def test_token_list_create_revoke(client, command_user, tree, make_user):
    client.force_login(command_user)
    created = client.post(
        "/api/accounts/tokens", {"name": "pad"}, content_type="application/json"
    ).json()
    listed = client.get("/api/accounts/tokens").json()["items"]
    assert [t["id"] for t in listed] == [created["id"]]
    assert "token" not in listed[0] and "digest" not in listed[0]
    response = client.post(f"/api/accounts/tokens/{created['id']}/revoke")
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    again = client.post(f"/api/accounts/tokens/{created['id']}/revoke")
    assert again.status_code == 409
    assert again.json()["code"] == "token_already_revoked"

    other = make_user(Role.COMMAND, tree.city, "command-2")
    theirs, _ = services.token_create(actor=other, user=other, name="theirs")
    response = client.post(f"/api/accounts/tokens/{theirs.pk}/revoke")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert theirs.pk not in [t["id"] for t in client.get("/api/accounts/tokens").json()["items"]]


def test_token_api_refused_without_token_manage(client, town_a_user):
    client.force_login(town_a_user)
    response = client.post("/api/accounts/tokens", {"name": "pad"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert client.get("/api/accounts/tokens").status_code == 403


def test_token_create_rejects_empty_name(client, command_user):
    client.force_login(command_user)
    response = client.post("/api/accounts/tokens", {"name": ""}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


def _event(action: str, path: str, actor=None) -> AuditEvent:
    return services.audit_record(
        actor=actor, action=action, object_type="person", object_id="1", jurisdiction_path=path
    )


def test_audit_api_filters_and_pages(client, command_user, tree):
    for i in range(5):
        _event("person.reveal", tree.town_a.path, actor=command_user)
        _event(f"zone.create.{i}", tree.town_b.path)
    client.force_login(command_user)
    first = client.get("/api/accounts/audit", {"action": "person.reveal", "size": 3}).json()
    assert len(first["items"]) == 3
    assert all(e["action"] == "person.reveal" for e in first["items"])
    ids = [e["id"] for e in first["items"]]
    assert ids == sorted(ids, reverse=True)
    second = client.get(
        "/api/accounts/audit",
        {"action": "person.reveal", "size": 3, "cursor": first["next_cursor"]},
    ).json()
    assert len(second["items"]) == 2 and second["next_cursor"] is None
    assert set(ids).isdisjoint(e["id"] for e in second["items"])
    by_actor = client.get("/api/accounts/audit", {"actor": "command"}).json()
    assert {e["action"] for e in by_actor["items"]} == {"person.reveal"}


def test_audit_api_bad_cursor_and_size(client, command_user):
    client.force_login(command_user)
    assert client.get("/api/accounts/audit", {"cursor": "!!"}).json()["code"] == "invalid_cursor"
    assert client.get("/api/accounts/audit", {"size": 0}).status_code == 422


def test_audit_api_refused_for_town_staff(client, town_a_user, tree):
    _event("person.reveal", tree.town_a.path)
    client.force_login(town_a_user)
    response = client.get("/api/accounts/audit")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "person.reveal" not in response.content.decode()


def test_audit_api_scoped_to_the_users_jurisdiction(client, tree, make_user):
    """A command user bound to town A (not creatable by user_create, but the selector must
    still hold) sees town A's rows and never town B's or unscoped ones."""
    town_command = make_user(Role.COMMAND, tree.town_a, "town-a-command")
    _event("in.a", tree.community_a.path)
    _event("in.b", tree.community_b.path)
    _event("nowhere", "")
    client.force_login(town_command)
    actions = {e["action"] for e in client.get("/api/accounts/audit").json()["items"]}
    assert "in.a" in actions
    assert "in.b" not in actions and "nowhere" not in actions
    by_id = client.get("/api/accounts/audit", {"action": "in.b"}).json()
    assert by_id["items"] == []


@pytest.mark.parametrize("path", ["330483101", "330483101001"])
def test_city_command_sees_every_town_and_unscoped_rows(client, command_user, tree, path):
    _event("in.b", path)
    _event("nowhere", "")
    client.force_login(command_user)
    actions = {e["action"] for e in client.get("/api/accounts/audit").json()["items"]}
    assert {"in.b", "nowhere"} <= actions
