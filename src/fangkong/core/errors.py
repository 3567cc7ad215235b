"""The one error shape of fangkong, and the one translation into it.

Services raise DomainError(code, message, **detail). `translate` turns it, and every
other exception that means "the request was refused" rather than "the server broke",
into a `Refusal` (status, code, message, detail, headers). The API (`fangkong.api`)
answers it as {"code": ..., "message": ..., "detail": {...}} (the `ErrorOut` component);
the pages (`web.middleware.DomainErrorMiddleware`) show the message, or answer the same
JSON to a client that asks for it. Codes are stable strings that tests and clients
assert on.

What `translate` knows, besides DomainError and its subclasses:

- Django's ValidationError (a model's or a field's check) → 400 `invalid_input`;
- ninja's request validation → 422 `invalid_input` with the errors by location, a
  missing or bad credential → 401 `not_authenticated`, ninja's HttpError → its status
  with `http_error` (these only arise in the API);
- bad input that got past an endpoint's or a view's own checks:
  - a multipart body Django cannot parse (no boundary, broken) → 400 `multipart_invalid`;
  - a body over DATA_UPLOAD_MAX_MEMORY_SIZE, or too many fields → 413
    `request_too_large`;
  - a number too large for its database column (SQLite raises OverflowError,
    PostgreSQL numeric_value_out_of_range) → 400 `number_out_of_range`; any other
    value the database refuses (PostgreSQL's data exceptions) → 400 `value_rejected`;
  - SQLite's write lock held by another writer past the busy timeout ("database is
    locked") → 503 `database_busy` with Retry-After: the request changed nothing and
    can simply be sent again.

Anything else is not a refusal: `translate` answers None and the exception is left to
Django (a 500 the logs must show).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, OperationalError
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

RETRY_AFTER_SECONDS = 2
NUMERIC_VALUE_OUT_OF_RANGE = "22003"  # SQLSTATE


class DomainError(Exception):
    """A refusal by the domain: bad input, a broken rule, a missing permission."""

    status: int = 400

    def __init__(self, code: str, message: str = "", *, status: int | None = None, **detail: Any):
        super().__init__(message or code)
        self.code = code
        self.message = str(message or code)
        self.detail = detail
        if status is not None:
            self.status = status

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "detail": self.detail}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r}, {self.detail!r})"


class PermissionDenied(DomainError):
    """The acting user's role may not do this (403)."""

    status = 403


class NotFound(DomainError):
    """Absent, or outside the acting user's jurisdiction (404: never say which)."""

    status = 404


class Conflict(DomainError):
    """The change collides with the current state (409)."""

    status = 409


class InvalidInput(DomainError):
    """Input that a page's form refused (400; core.pages.PageForm names the code)."""

    status = 400


class ErrorOut(Schema):
    """The one error shape as the API publishes it (one `ErrorOut` component)."""

    code: str
    message: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class Refusal:
    """A refused request as both edges answer it."""

    status: int
    code: str
    message: str
    detail: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "detail": self.detail}


def translate(error: BaseException) -> Refusal | None:
    """The refusal `error` stands for, or None when it is not a refusal (a bug: a 500)."""
    if isinstance(error, DomainError):
        status = error.status if 400 <= error.status < 500 else 400
        return Refusal(status, error.code, error.message, dict(error.detail))
    if isinstance(error, NinjaValidationError):
        errors = [
            {
                "loc": [str(p) for p in e.get("loc", [])],
                "msg": str(e.get("msg", "")),
                "type": e.get("type", ""),
            }
            for e in error.errors
        ]
        return Refusal(422, "invalid_input", "输入不合法", {"errors": errors})
    if isinstance(error, DjangoValidationError):
        return Refusal(400, "invalid_input", "; ".join(error.messages))
    if isinstance(error, AuthenticationError):
        return Refusal(401, "not_authenticated", "未登录或令牌无效")
    if isinstance(error, HttpError):
        return Refusal(error.status_code, "http_error", str(error))
    return _bad_input(error)


def _sqlstate(error: BaseException) -> str:
    cause = error.__cause__
    return str(getattr(cause, "sqlstate", "") or getattr(cause, "pgcode", "") or "")


def _bad_input(error: BaseException) -> Refusal | None:
    """Bad input that got past the edge's own checks, seen in what Django or the
    database raised."""
    if isinstance(error, MultiPartParserError):
        return Refusal(400, "multipart_invalid", _("上传内容格式不正确，请重新选择文件上传"))
    if isinstance(error, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        return Refusal(413, "request_too_large", _("请求内容过大，请分批提交"))
    if isinstance(error, OverflowError):
        return Refusal(400, "number_out_of_range", _("数值超出允许范围"))
    if isinstance(error, DataError):
        if _sqlstate(error) == NUMERIC_VALUE_OUT_OF_RANGE:
            return Refusal(400, "number_out_of_range", _("数值超出允许范围"))
        return Refusal(400, "value_rejected", _("输入的值无法保存，请检查后重试"))
    if isinstance(error, OperationalError) and "database is locked" in str(error):
        return Refusal(
            503,
            "database_busy",
            _("系统繁忙，请稍后重试"),
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return None
