"""Pages of the accounts domain: login, logout, the audit log, the user's API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from fangkong.accounts import audit_vocabulary, selectors, services
from fangkong.accounts.forms import AuditFilterForm, LoginForm, TokenForm
from fangkong.accounts.models import AuditEvent
from fangkong.accounts.permissions import require
from fangkong.accounts.roles import Capability
from fangkong.accounts.types import AuthedRequest
from fangkong.core.errors import DomainError
from fangkong.core.http import client_address
from fangkong.core.pages import refusal_message
from fangkong.core.pagination import keyset_page

AUDIT_PAGE_SIZE = 50


def _safe_next(request: HttpRequest, candidate: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    query = LoginForm(request.GET).lenient()
    posted = LoginForm(request.POST).lenient() if request.method == "POST" else None
    next_url = (posted and posted["next"]) or query["next"] or ""
    error = ""
    username = ""
    status = 200
    if posted is not None:
        username = posted["username"] or ""
        try:
            user = services.login_attempt(
                username=username,
                password=posted["password"] or "",
                ip=client_address(request),
            )
        except DomainError as exc:
            error = exc.message
            status = exc.status
        else:
            login(request, user)
            return redirect(_safe_next(request, next_url))
    elif request.user.is_authenticated:
        return redirect(_safe_next(request, next_url))
    return render(
        request,
        "accounts/login.html",
        {"error": error, "username": username, "next": next_url},
        status=status,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Log out, and tell the browser to forget what this origin stored: the sampler
    phone's IndexedDB, localStorage, the service worker's cache (the page refuses to log
    out while samples wait to be synced, web/static/web/shell.js). Cookies stay: the
    session is already ended server-side, and the CSRF cookie is needed to log in again."""
    services.user_logout(actor=request.user, ip=client_address(request))
    logout(request)
    response = redirect(settings.LOGOUT_REDIRECT_URL)
    response["Clear-Site-Data"] = '"cache", "storage"'
    return response


@login_required
def audit_view(request: AuthedRequest) -> HttpResponse:
    require(request.user, Capability.AUDIT_VIEW)
    filter_form = AuditFilterForm(request.GET)
    filters = filter_form.echo()
    cursor = filters.pop("cursor")
    error = ""
    if not filter_form.is_valid():
        error = filter_form.refusal().message
    data = filter_form.lenient()
    since, until = data["since"], data["until"]
    items: list[AuditEvent] = []
    total = None
    next_url = ""
    try:
        qs = selectors.audit_events(
            user=request.user,
            actor=filters["actor"] or None,
            action=filters["action"] or None,
            object_type=filters["object_type"] or None,
            object_id=filters["object_id"] or None,
            since=since,
            until=until,
        )
        page = keyset_page(qs, cursor=cursor or None, size=AUDIT_PAGE_SIZE, with_total=True)
        items = page.items
        total = page.total
        if page.next_cursor:
            params = QueryDict(mutable=True)
            params.update({k: v for k, v in filters.items() if v})
            params["cursor"] = page.next_cursor
            next_url = f"{request.path}?{params.urlencode()}"
    except DomainError as exc:
        error = exc.message
    return render(
        request,
        "accounts/audit.html",
        {
            "rows": _audit_rows(items),
            "total": total,
            "filters": filters,
            "next_url": next_url,
            "error": error,
            "action_groups": audit_vocabulary.action_groups(),
            "object_choices": [
                (code, str(kind.label)) for code, kind in audit_vocabulary.AUDIT_OBJECTS.items()
            ],
        },
        status=400 if error else 200,
    )


def _audit_rows(items: list[AuditEvent]) -> list[dict[str, Any]]:
    """The page's rows in words: the action's and the object type's labels, the object's
    page, the jurisdiction's name (one query for the page's paths)."""
    names = audit_vocabulary.jurisdiction_names(e.jurisdiction_path for e in items)
    return [
        {
            "event": e,
            "action_label": audit_vocabulary.action_label(e.action),
            "object_type_label": audit_vocabulary.object_label(e.object_type),
            "object_url": audit_vocabulary.object_url(e.object_type, e.object_id),
            "field_label": audit_vocabulary.field_label(e.field),
            "jurisdiction_name": names.get(e.jurisdiction_path, ""),
        }
        for e in items
    ]


@login_required
@require_http_methods(["GET", "POST"])
def tokens_view(request: AuthedRequest) -> HttpResponse:
    require(request.user, Capability.TOKEN_MANAGE)
    plaintext = ""
    created = None
    error = ""
    status = 200
    if request.method == "POST":
        try:
            data = TokenForm(request.POST).cleaned()
            expires_on = data["expires_on"]
            expires_at = None
            if expires_on is not None:
                # valid through the chosen day (Asia/Shanghai)
                expires_at = timezone.make_aware(
                    dt.datetime.combine(expires_on + dt.timedelta(days=1), dt.time.min)
                )
            created, plaintext = services.token_create(
                actor=request.user,
                user=request.user,  # type: ignore[arg-type]
                name=data["name"],
                expires_at=expires_at,
                ip=client_address(request),
            )
        except DomainError as exc:
            error = exc.message
            status = exc.status
    now = timezone.now()
    tokens = []
    for t in selectors.user_tokens(user=request.user):
        expires_at = t.expires_at or services.token_max_expiry(created_at=t.created_at)
        tokens.append({"token": t, "expires_at": expires_at, "expired": expires_at <= now})
    # the last day the date field may offer: a token valid through it ends by the maximum
    latest = timezone.localtime(services.token_max_expiry(created_at=now))
    return render(
        request,
        "accounts/tokens.html",
        {
            "tokens": tokens,
            "created": created,
            "plaintext": plaintext,
            "error": error,
            "default_days": settings.FANGKONG_TOKEN_LIFETIME_DAYS,
            "max_days": settings.FANGKONG_TOKEN_MAX_LIFETIME_DAYS,
            "latest_day": (latest - dt.timedelta(days=1)).date().isoformat(),
        },
        status=status,
    )


@login_required
@require_POST
def token_revoke_view(request: AuthedRequest, pk: int) -> HttpResponse:
    require(request.user, Capability.TOKEN_MANAGE)
    token = selectors.user_token(user=request.user, token_id=pk)  # 404 by the middleware
    try:
        services.token_revoke(actor=request.user, token=token, ip=client_address(request))
    except DomainError as exc:
        refusal_message(request, exc)
    else:
        messages.success(request, _("令牌已吊销"))
    return redirect("accounts:tokens")
