"""The one error shape of fangkong.

Services raise DomainError(code, message, **detail). The API turns it into
{"code": ..., "message": ..., "detail": {...}} with the error's HTTP status; pages show
the message. Codes are stable strings that tests and clients assert on.
"""

from __future__ import annotations

from typing import Any

from ninja import Schema


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


class ErrorOut(Schema):
    """The one error shape as the API publishes it (one `ErrorOut` component)."""

    code: str
    message: str
    detail: dict[str, Any]
