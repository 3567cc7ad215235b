"""Turn a DomainError raised in a view into a friendly page with the error's status.

Services raise `core.errors.DomainError` (and its PermissionDenied 403, NotFound 404,
Conflict 409) with a stable code and a message for people. The API has its own handler
(src/fangkong/api.py); this middleware does the same for server-rendered pages, so that
a refused action shows its message instead of a 500:

- an htmx request gets a small fragment (`web/_domain_error.html`) to swap in place;
- a request that asks for JSON gets `{"code", "message", "detail"}`;
- any other request gets the full page `web/domain_error.html`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from fangkong.core.errors import DomainError

logger = logging.getLogger(__name__)


def _status(error: DomainError) -> int:
    status = int(getattr(error, "status", 400) or 400)
    return status if 400 <= status < 500 else 400


def _wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return request.path.startswith("/api/") or (
        "application/json" in accept and "text/html" not in accept
    )


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError):
            return None
        status = _status(exception)
        logger.info(
            "domain error on %s %s: %s (%s)", request.method, request.path, exception.code, status
        )
        if _wants_json(request):
            return JsonResponse(exception.as_dict(), status=status)
        template = (
            "web/_domain_error.html"
            if request.headers.get("HX-Request")
            else "web/domain_error.html"
        )
        return render(
            request,
            template,
            {"error_code": exception.code, "error_message": exception.message, "status": status},
            status=status,
        )
