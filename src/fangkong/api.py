"""The HTTP API: one django-ninja router per app, one error shape, OpenAPI at /api/openapi.json.

Session auth for the browser (CSRF-checked), bearer tokens for devices and integrations.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from fangkong.accounts.api import router as accounts_router
from fangkong.accounts.auth import api_auth
from fangkong.areas.api import router as areas_router
from fangkong.core.errors import DomainError
from fangkong.people.api import router as people_router
from fangkong.protocol.api import router as protocol_router
from fangkong.testing.api import router as testing_router
from fangkong.tracing.api import router as tracing_router

api = NinjaAPI(
    title="fangkong API",
    version="1",
    description="防控平台接口。错误统一为 {code, message, detail}。",
    auth=api_auth,
    urls_namespace="api",
)


def _error(request: HttpRequest, status: int, code: str, message: str, **detail: object):
    return api.create_response(
        request, {"code": code, "message": message, "detail": detail}, status=status
    )


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc.status, exc.code, exc.message, **exc.detail)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {
            "loc": [str(p) for p in e.get("loc", [])],
            "msg": str(e.get("msg", "")),
            "type": e.get("type", ""),
        }
        for e in exc.errors
    ]
    return _error(request, 422, "invalid_input", "输入不合法", errors=errors)


@api.exception_handler(DjangoValidationError)
def _django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    return _error(request, 400, "invalid_input", "; ".join(exc.messages))


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "not_authenticated", "未登录或令牌无效")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, "http_error", str(exc))


api.add_router("/accounts", accounts_router)
api.add_router("/areas", areas_router)
api.add_router("/people", people_router)
api.add_router("/protocol", protocol_router)
api.add_router("/tracing", tracing_router)
api.add_router("/testing", testing_router)
