"""Field types of the testing API's inputs.

An id in a request body or query string is checked against the range of the database's
64-bit keys where the request is read: 2**63 is refused as 422 `invalid_input` instead
of reaching the database (SQLite raises OverflowError, PostgreSQL a DataError: a 500).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

# The largest key a BigAutoField holds (PostgreSQL bigint, SQLite INTEGER).
ROW_ID_MAX = 2**63 - 1

RowId = Annotated[int, Field(ge=1, le=ROW_ID_MAX)]
