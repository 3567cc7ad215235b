"""Types the API's schemas share, so that every edge checks the same bounds.

- `RowId`: a row id as a path, query or body value. The database stores ids as signed
  64-bit integers; a larger number would fail inside the database driver (SQLite's
  OverflowError, PostgreSQL's numeric_value_out_of_range), so it is refused here with
  422 `invalid_input` before any query is sent.
- `LocalTime`: a time of day on the local clock (Asia/Shanghai), such as a sampling
  point's opening hours, as the API answers it. Published with a pattern rather than
  `format: time`, which JSON Schema defines as an RFC 3339 time *with* an offset. (An
  input time with an offset is refused by the service that takes it, with its own code.)
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field, WithJsonSchema

ROW_ID_MAX = 2**63 - 1

RowId = Annotated[int, Field(ge=1, le=ROW_ID_MAX)]

LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"

LocalTime = Annotated[dt.time, WithJsonSchema({"type": "string", "pattern": LOCAL_TIME_PATTERN})]
