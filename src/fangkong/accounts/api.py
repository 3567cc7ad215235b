"""The accounts API: who am I, my tokens, the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Query, Router, Schema, Status

from fangkong.accounts import selectors, services
from fangkong.accounts.auth import by_token
from fangkong.accounts.models import AccessToken, AuditEvent, User
from fangkong.accounts.roles import ROLE_CAPABILITIES, Role
from fangkong.accounts.types import AuthedRequest
from fangkong.core.apitypes import Page, PageQuery
from fangkong.core.http import client_address
from fangkong.core.pagination import keyset_page

router = Router(tags=["accounts"])


class MeJurisdictionOut(Schema):
    id: int
    name: str
    path: str


class MeOut(Schema):
    username: str
    display_name: str
    role: str
    role_label: str
    jurisdiction: MeJurisdictionOut | None
    scope_path: str
    place_id: int | None
    capabilities: list[str]


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreateIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    expires_at: dt.datetime | None = Field(
        None, description="过期时间（带时区）；不填为默认有效期，不得超过最长有效期"
    )


class TokenCreatedOut(TokenOut):
    token: str = Field(..., description="明文令牌，只返回这一次")


class AuditFilterIn(PageQuery):
    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None


class AuditEventOut(Schema):
    id: int
    at: dt.datetime
    actor_username: str
    action: str
    object_type: str
    object_id: str
    object_label: str
    field: str
    jurisdiction_path: str
    detail: dict[str, Any]
    ip: str


def _token_out(token: AccessToken) -> dict[str, Any]:
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
    }


@router.get("/me", response=MeOut, summary="Who I am: my role, jurisdiction and capabilities")
def me(request: AuthedRequest) -> dict[str, Any]:
    user: User = request.auth  # type: ignore[attr-defined]
    jurisdiction = user.jurisdiction
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "role_label": str(Role(user.role).label) if user.role in Role.values else "",
        "jurisdiction": (
            {"id": jurisdiction.pk, "name": jurisdiction.name, "path": jurisdiction.path}
            if jurisdiction is not None
            else None
        ),
        "scope_path": user.scope_path,
        "place_id": user.place_id,
        "capabilities": sorted(ROLE_CAPABILITIES.get(user.role, frozenset())),
    }


@router.get("/tokens", response=Page[TokenOut], summary="List my API tokens")
def tokens_list(request: AuthedRequest, page: Query[PageQuery]) -> Page[TokenOut]:
    tokens = selectors.user_tokens(user=request.auth)  # type: ignore[attr-defined]
    found = keyset_page(tokens, cursor=page.cursor, size=page.size, order=("-created_at", "-pk"))
    return Page[TokenOut].of(found, lambda t: TokenOut(**_token_out(t)))


@router.post(
    "/tokens",
    response={201: TokenCreatedOut},
    summary="Create an API token (from a browser session only)",
    description="只能用网页登录会话创建；用接口令牌认证的请求得到 403 token_cannot_create_token。",
)
def tokens_create(request: AuthedRequest, payload: TokenCreateIn) -> Status:
    user: User = request.auth  # type: ignore[attr-defined]
    token, plaintext = services.token_create(
        actor=user,
        user=user,
        name=payload.name,
        expires_at=payload.expires_at,
        ip=client_address(request),
        by_token=by_token(request),
    )
    return Status(201, {**_token_out(token), "token": plaintext})


@router.post("/tokens/{token_id}/revoke", response=TokenOut, summary="Revoke one of my API tokens")
def tokens_revoke(request: AuthedRequest, token_id: int) -> dict[str, Any]:
    user: User = request.auth  # type: ignore[attr-defined]
    token = selectors.user_token(user=user, token_id=token_id)
    token = services.token_revoke(actor=user, token=token, ip=client_address(request))
    return _token_out(token)


@router.get("/audit", response=Page[AuditEventOut], summary="List audit events")
def audit_list(request: AuthedRequest, filters: Query[AuditFilterIn]) -> dict[str, Any]:
    qs = selectors.audit_events(
        user=request.auth,  # type: ignore[attr-defined]
        actor=filters.actor,
        action=filters.action,
        object_type=filters.object_type,
        object_id=filters.object_id,
        since=filters.since,
        until=filters.until,
    )
    page = keyset_page(qs, cursor=filters.cursor, size=filters.size)
    items: list[AuditEvent] = page.items
    return {"items": items, "next_cursor": page.next_cursor}
