"""Bad input that got past an endpoint's own checks, answered with a 4xx, never a 500.

The API (`fangkong.api`) and the pages (`web.middleware`) share this one translation
from the exceptions Django and the database raise on bad input to a status and a
stable code:

- a multipart body Django cannot parse (no boundary, broken) → 400 `multipart_invalid`;
- a body over DATA_UPLOAD_MAX_MEMORY_SIZE, or too many fields → 413 `request_too_large`;
- a number too large for its database column (SQLite raises OverflowError, PostgreSQL
  numeric_value_out_of_range) → 400 `number_out_of_range`; any other value the database
  refuses (PostgreSQL's data exceptions) → 400 `value_rejected`;
- SQLite's write lock held by another writer past the busy timeout ("database is
  locked") → 503 `database_busy` with Retry-After: the request changed nothing and can
  simply be sent again.

Anything else is not bad input and is left to Django (a 500 the logs must show).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import DataError, OperationalError
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _

RETRY_AFTER_SECONDS = 2
NUMERIC_VALUE_OUT_OF_RANGE = "22003"  # SQLSTATE


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "detail": {}}


def _sqlstate(error: BaseException) -> str:
    cause = error.__cause__
    return str(getattr(cause, "sqlstate", "") or getattr(cause, "pgcode", "") or "")


def refusal_for(error: BaseException) -> Refusal | None:
    """The 4xx/503 answer for `error`, or None when it is not a matter of bad input."""
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
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return None
