"""Security headers every answer carries (with Django's SecurityMiddleware for HSTS,
the SSL redirect, Referrer-Policy and Cross-Origin-Opener-Policy).

- **Content-Security-Policy** (`settings.FANGKONG_CONTENT_SECURITY_POLICY`): scripts only
  from this origin, no inline script, no eval, nothing embedded in frames, forms posting
  only here. The product's pages need no exception: their scripts are static files fed by
  `json_script` blocks and data attributes (`web/static/web/shell.js` replaces inline
  handlers); htmx runs with `allowEval` and its indicator styles off (base.html). The
  Django admin (since 4.x) and django-ninja's Swagger UI at /api/docs (its start-up script
  is a static file, `ninja/swagger-ui-init.js`) need none either, so one policy serves
  every path; styles keep 'unsafe-inline' because ECharts, Leaflet and Swagger UI set
  style attributes.
- **Cache-Control: no-store** on every answer to an authenticated request (session or API
  token) and on every download (`Content-Disposition: attachment`): pages, API answers and
  exports carry personal data, and no browser or proxy cache may keep them. Static files
  never reach this middleware (WhiteNoise answers them first) and keep their caching.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

NO_STORE = "no-store"


def _authenticated(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return True
    # API clients authenticate per request with a token (ninja's auth runs in the view).
    return "Authorization" in request.headers


def _is_download(response: HttpResponse) -> bool:
    return response.get("Content-Disposition", "").lower().startswith("attachment")


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = settings.FANGKONG_CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        if _authenticated(request) or _is_download(response):
            response["Cache-Control"] = NO_STORE
        return response
