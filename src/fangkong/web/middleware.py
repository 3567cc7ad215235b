"""Turn a DomainError raised in a view into a friendly page with the error's status.

Services raise `core.errors.DomainError` (and its PermissionDenied 403, NotFound 404,
Conflict 409) with a stable code and a message for people. The API has its own handler
(src/fangkong/api.py); this middleware does the same for server-rendered pages, so that
a refused action shows its message instead of a 500:

- an htmx request gets a small fragment (`web/_domain_error.html`) to swap in place;
- a request that asks for JSON gets `{"code", "message", "detail"}`;
- any other request gets the full page `web/domain_error.html`.

The status, code and message come from `core.errors.translate`, the one translation
the API uses too. Bad input that got past a view's own checks is answered the same way
(a multipart body without its boundary 400, a body over
DATA_UPLOAD_MAX_MEMORY_SIZE 413, a number too large for the database 400, SQLite's
write lock taken 503 with Retry-After). A POST's form body is parsed here, before the
CSRF check reads it, so that a body Django cannot parse is refused here too (not an
anonymous multipart body: see `_parse_before_csrf`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from fangkong.core.errors import DomainError, Refusal, translate
from fangkong.core.http import wants_json

logger = logging.getLogger(__name__)


def _wants_json(request: HttpRequest) -> bool:
    return wants_json(request)


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and _parse_before_csrf(request):
            try:
                request.POST  # noqa: B018 - parse now, before the CSRF check reads it
            except Exception as error:
                refusal = translate(error)
                if refusal is None:
                    raise
                return self._refuse(request, refusal)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        refusal = translate(exception)
        if refusal is None:
            return None
        return self._refuse(request, refusal, domain=isinstance(exception, DomainError))

    def _refuse(
        self, request: HttpRequest, refusal: Refusal, *, domain: bool = False
    ) -> HttpResponse:
        log = logger.info if domain else logger.warning
        log(
            "%s on %s %s: %s (%s)",
            "domain error" if domain else "bad input",
            request.method,
            request.path,
            refusal.code,
            refusal.status,
        )
        if _wants_json(request):
            response: HttpResponse = JsonResponse(refusal.as_dict(), status=refusal.status)
        else:
            response = _page(request, refusal.code, refusal.message, refusal.status)
        for header, value in refusal.headers.items():
            response[header] = value
        return response


def _parse_before_csrf(request: HttpRequest) -> bool:
    """Parse a POST's body before the CSRF check, except an anonymous multipart body:
    files are spooled to disk as they are parsed, and a request with no session has
    no business uploading (Django's own CSRF check refuses it, and answers a broken
    multipart body with 400 itself)."""
    if request.content_type != "multipart/form-data":
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def _page(request: HttpRequest, code: str, message: str, status: int) -> HttpResponse:
    template = (
        "web/_domain_error.html" if request.headers.get("HX-Request") else "web/domain_error.html"
    )
    return render(
        request,
        template,
        {"error_code": code, "error_message": message, "status": status},
        status=status,
    )
