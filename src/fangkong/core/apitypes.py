"""Types the API's schemas share, so that every edge checks the same bounds.

- `RowId`: a row id as a path, query or body value. The database stores ids as signed
  64-bit integers; a larger number would fail inside the database driver (SQLite's
  OverflowError, PostgreSQL's numeric_value_out_of_range), so it is refused here with
  422 `invalid_input` before any query is sent.
- `LocalTime`: a time of day on the local clock (Asia/Shanghai), such as a sampling
  point's opening hours, as the API answers it. Published with a pattern rather than
  `format: time`, which JSON Schema defines as an RFC 3339 time *with* an offset. (An
  input time with an offset is refused by the service that takes it, with its own code.)
- `PageQuery` and `Page[T]`: the cursor and size every list takes, and the page it
  answers (items and the next page's cursor), for keyset pages of `core.pagination`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Generic, Self, TypeVar

from ninja import Schema
from pydantic import Field, WithJsonSchema

from fangkong.core import pagination
from fangkong.core.pagination import CURSOR_MAX_LENGTH, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

ROW_ID_MAX = 2**63 - 1

RowId = Annotated[int, Field(ge=1, le=ROW_ID_MAX)]

LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"

LocalTime = Annotated[dt.time, WithJsonSchema({"type": "string", "pattern": LOCAL_TIME_PATTERN})]


# --- Pages of a list ------------------------------------------------------------------

T = TypeVar("T")


class PageQuery(Schema):
    """The query parameters of every list: `cursor` (the previous page's `next_cursor`,
    absent for the first page) and `size` (items per page)."""

    cursor: str | None = Field(None, max_length=CURSOR_MAX_LENGTH)
    size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


class Page(Schema, Generic[T]):
    """One page of a list, in keyset order; `next_cursor` is None on the last page.

    Published as one component per item type, named for it (`Page[CaseOut]` is
    `CaseOutPage`)."""

    items: list[T]
    next_cursor: str | None

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        return f"{getattr(params[0], '__name__', params[0])}{cls.__name__}"

    @classmethod
    def of(cls, page: pagination.Page[Any], convert: Callable[[Any], T]) -> Self:
        """The API page of a `core.pagination` page, each item converted."""
        return cls(items=[convert(item) for item in page.items], next_cursor=page.next_cursor)
