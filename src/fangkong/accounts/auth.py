"""API authentication: a bearer token (devices, integrations) or the browser's session.

Token-authenticated requests carry no cookie and need no CSRF token; session requests
that change state must carry Django's CSRF token (X-CSRFToken header), else 403
`csrf_failed`. Either way the endpoint finds the user in `request.auth`, and also in
`request.user` so that code shared with the pages works unchanged. An endpoint asks
`by_token(request)` when a token must not be enough (creating tokens).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from fangkong.accounts.services import token_resolve
from fangkong.core.errors import PermissionDenied

# The request attribute that holds the AccessToken a request was authenticated by.
_TOKEN_ATTRIBUTE = "fangkong_access_token"  # noqa: S105 - an attribute name, not a secret


class TokenAuth(HttpBearer):
    """`Authorization: Bearer fk_...` → the token's user (revoked/expired → 401)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        access_token = token_resolve(token.strip())
        if access_token is None:
            return None
        setattr(request, _TOKEN_ATTRIBUTE, access_token)
        request.user = access_token.user
        return access_token.user


def by_token(request: HttpRequest) -> bool:
    """Whether this API request was authenticated by a bearer token (not the session)."""
    return getattr(request, _TOKEN_ATTRIBUTE, None) is not None


class CsrfSessionAuth(SessionAuth):
    """Django's session, CSRF-checked; an anonymous request gets 401, not a CSRF error."""

    def __call__(self, request: HttpRequest) -> Any | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        exempt = getattr(request, "_ninja_csrf_exempt", False)
        if self.csrf and not exempt and check_csrf(request) is not None:
            raise PermissionDenied("csrf_failed", _("CSRF 校验失败，请刷新页面后重试"))
        return user


api_auth = [TokenAuth(), CsrfSessionAuth(csrf=True)]
