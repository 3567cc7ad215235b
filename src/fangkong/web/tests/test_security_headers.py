"""Security headers and cookies: the Content-Security-Policy on every answer, no-store on
authenticated answers and downloads, the HttpOnly CSRF cookie and the endpoint that hands
its token to the sampler page, Clear-Site-Data at logout, and the production switches
(HSTS, SSL redirect, the proxy's https header)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import Client, RequestFactory

from fangkong.accounts.roles import Role
from fangkong.web.security import SecurityHeadersMiddleware

SRC = Path(__file__).resolve().parents[3]


def _directives(policy: str) -> dict[str, list[str]]:
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part
    }


@pytest.mark.django_db
def test_every_page_carries_a_policy_without_inline_scripts(
    client: Client, command_user: Any
) -> None:
    anonymous = client.get("/accounts/login/")
    client.force_login(command_user)
    for response in (anonymous, client.get("/"), client.get("/api/docs")):
        policy = _directives(response["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"]
        assert policy["base-uri"] == ["'self'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["form-action"] == ["'self'"]
        assert policy["connect-src"] == ["'self'"]
        assert policy["worker-src"] == ["'self'"]
        assert "'unsafe-inline'" not in policy.get("default-src", [])
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_authenticated_answers_are_not_stored_static_files_are(
    client: Client, command_user: Any
) -> None:
    client.force_login(command_user)
    assert client.get("/")["Cache-Control"] == "no-store"
    assert client.get("/api/areas/map.geojson?level=town")["Cache-Control"] == "no-store"
    assert client.get("/people/")["Cache-Control"] == "no-store"
    static = client.get("/static/web/fangkong.css")
    assert static.status_code == 200
    assert "no-store" not in static.get("Cache-Control", "")


def test_a_download_is_not_stored_even_without_a_session() -> None:
    def attachment(request: Any) -> HttpResponse:
        response = HttpResponse(b"x", content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="list.csv"'
        return response

    request = RequestFactory().get("/export.csv")
    request.user = AnonymousUser()
    assert SecurityHeadersMiddleware(attachment)(request)["Cache-Control"] == "no-store"
    plain = SecurityHeadersMiddleware(lambda r: HttpResponse(b"x"))(request)
    assert "Cache-Control" not in plain


@pytest.mark.django_db
def test_the_csrf_cookie_is_httponly_and_the_token_endpoint_serves_it(
    make_user: Any, tree: Any
) -> None:
    client = Client(enforce_csrf_checks=True)
    login_page = client.get("/accounts/login/")
    assert login_page.cookies["csrftoken"]["httponly"] is True

    anonymous = client.get("/csrf-token", HTTP_ACCEPT="application/json")
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"

    user = make_user(Role.COMMAND, tree.city, "csrf-user")
    client.force_login(user)
    answer = client.get("/csrf-token", HTTP_ACCEPT="application/json")
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    token = answer.json()["token"]
    # The token works for a write (here: logout), and a wrong one is refused.
    assert client.post("/accounts/logout/", HTTP_X_CSRFTOKEN="x" * 32).status_code == 403
    assert client.post("/accounts/logout/", HTTP_X_CSRFTOKEN=token).status_code == 302


@pytest.mark.django_db
def test_logout_tells_the_browser_to_clear_the_sites_storage(
    client: Client, command_user: Any
) -> None:
    client.force_login(command_user)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"cache", "storage"'


def _production_settings(**env: str) -> dict[str, Any]:
    """Import the settings in a fresh process in production mode with the given env."""
    keys = {
        "FANGKONG_PRODUCTION": "1",
        "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/x",
        "FANGKONG_SECRET_KEY": base64.b64encode(os.urandom(48)).decode(),
        "FANGKONG_DATA_KEY": base64.b64encode(os.urandom(32)).decode(),
        "FANGKONG_HMAC_KEY": base64.b64encode(os.urandom(32)).decode(),
        "FANGKONG_ALLOWED_HOSTS": "fk.intranet",
    }
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("FANGKONG_") and k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    script = (
        "import json, fangkong.settings as s; print(json.dumps({n: getattr(s, n, None) for n in "
        "['SECURE_HSTS_SECONDS', 'SECURE_SSL_REDIRECT', 'SECURE_PROXY_SSL_HEADER', "
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'CSRF_COOKIE_HTTPONLY']}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        env={**clean, **keys, **env, "PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_production_mode_sends_hsts_and_redirects_to_https() -> None:
    values = _production_settings()
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_HTTPONLY"] is True
    # X-Forwarded-Proto is not trusted unless a TLS proxy is declared.
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    behind = _production_settings(FANGKONG_TLS_PROXY="1", FANGKONG_TRUSTED_PROXY_COUNT="1")
    assert behind["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_a_plain_http_intranet_switches_hsts_redirect_and_secure_cookies_off() -> None:
    for switch in ("FANGKONG_PLAIN_HTTP", "FANGKONG_INSECURE_COOKIES"):
        values = _production_settings(**{switch: "1"})
        assert values["SECURE_HSTS_SECONDS"] == 0
        assert values["SECURE_SSL_REDIRECT"] is False
        assert values["SESSION_COOKIE_SECURE"] is False


def test_favicon_ico_leads_to_the_shells_icon(client: Client) -> None:
    """Browsers ask for /favicon.ico on pages that name no icon: no 404 in their log."""
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301
    assert answer["Location"] == "/static/web/favicon.ico"
    icon = client.get(answer["Location"])
    assert icon.status_code == 200
    assert icon["Content-Type"] in {"image/x-icon", "image/vnd.microsoft.icon"}
    assert b"".join(icon.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert client.post("/favicon.ico").status_code == 405
