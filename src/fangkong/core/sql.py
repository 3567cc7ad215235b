"""SQL helpers for set-based statements on PostgreSQL (the sampling sync's batches):
one JSON parameter per set of rows, `= ANY(...)` over it, and a cursor that binds
server-side so the fixed statements are prepared once per connection. On SQLite the
cursor is Django's own (callers keep an ORM path for SQLite)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection


def json_param(value: Any) -> str:
    """One JSON text parameter for a set of rows: PostgreSQL unpacks it with
    jsonb_to_recordset / jsonb_array_elements_text. Encoding a batch this way costs a
    fraction of binding hundreds of values one by one, and the statement's text stays
    the same whatever the batch size."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@contextmanager
def statement_cursor() -> Iterator[Any]:
    """On PostgreSQL, a cursor that binds parameters server-side, so that PostgreSQL
    prepares the sync's fixed statements once per connection (settings:
    `prepare_threshold`) instead of parsing and planning them for every batch. It is
    wrapped like Django's own cursors: query logging and execute wrappers see it (the
    logged SQL shows PostgreSQL's `$1` parameter markers, not the values)."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    import psycopg

    connection.validate_thread_sharing()
    connection.ensure_connection()
    raw: Any = psycopg.Cursor(connection.connection)
    try:
        yield (
            connection.make_debug_cursor(raw)
            if connection.queries_logged
            else connection.make_cursor(raw)
        )
    finally:
        raw.close()


def pg_any(sql_type: str) -> str:
    """`= ANY(...)` of a JSON array parameter, as an array the planner can probe an
    index with (never a join it might turn into a scan of the table)."""
    return f"ANY(ARRAY(SELECT value::{sql_type} FROM jsonb_array_elements_text(%s::jsonb)))"  # noqa: S608 - a fixed type name
