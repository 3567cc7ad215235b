"""Request facts: the client address the audit log needs, whether a client asks for JSON."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client's address; X-Forwarded-For is trusted only for configured proxies."""
    hops = settings.FANGKONG_TRUSTED_PROXY_COUNT
    if hops > 0:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return str(request.META.get("REMOTE_ADDR", ""))


def wants_json(request: HttpRequest) -> bool:
    """Whether the client asks for JSON rather than a page (an API path, or an Accept of
    JSON without HTML): a refusal is then answered as {"code", "message", "detail"}."""
    accept = request.headers.get("Accept", "")
    return request.path.startswith("/api/") or (
        "application/json" in accept and "text/html" not in accept
    )
