"""Writes of venue scans: set-based ingestion of the largest table.

`scans_bulk_insert` never runs a query per row: on SQLite it is `executemany` of one
plain INSERT through Django's connection in large transactions; on PostgreSQL it is
`COPY ... FROM STDIN` through psycopg's `cursor.copy`. For a very large load (millions
of rows into a table that is mostly new) `scan_indexes_suspended()` drops the two
indexes first and rebuilds them once at the end, which is several times faster than
maintaining two B-trees row by row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice

from django.db import connection, transaction

from fangkong.core.paths import rows_under_delete
from fangkong.scans.models import VenueScan

# (person_id, place_id, scanned_at, scan_day, jurisdiction_path)
ScanRow = tuple[int, int, "dt.datetime | str", "dt.date | str", str]

COLUMNS = ("person_id", "place_id", "scanned_at", "scan_day", "jurisdiction_path")
_UTC = dt.UTC


def utc_text(moment: dt.datetime) -> str:
    """An aware datetime as the UTC text the bulk path takes ('YYYY-MM-DD HH:MM:SS')."""
    if moment.tzinfo is None:
        raise ValueError("scanned_at must be time zone aware")
    return moment.astimezone(_UTC).strftime("%Y-%m-%d %H:%M:%S")


def _formatted(rows: Iterable[ScanRow]) -> Iterator[tuple[int, int, str, str, str]]:
    for person_id, place_id, scanned_at, scan_day, path in rows:
        yield (
            person_id,
            place_id,
            scanned_at if isinstance(scanned_at, str) else utc_text(scanned_at),
            scan_day if isinstance(scan_day, str) else scan_day.isoformat(),
            path,
        )


def scans_bulk_insert(
    rows: Iterable[ScanRow], *, preformatted: bool = False, batch_size: int = 200_000
) -> int:
    """Append scans; returns the number of rows written.

    Rows are (person_id, place_id, scanned_at, scan_day, jurisdiction_path) with an
    aware `scanned_at` and a local `scan_day` date; with `preformatted=True` they are
    already text (scanned_at in UTC 'YYYY-MM-DD HH:MM:SS', scan_day 'YYYY-MM-DD'), the
    drill's fast path. Each batch is one transaction (a savepoint inside an outer one).
    """
    source: Iterable[tuple] = rows if preformatted else _formatted(rows)
    if connection.vendor == "postgresql":
        return _copy_postgres(source, batch_size)
    table = connection.ops.quote_name(VenueScan._meta.db_table)
    sql = f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES (%s, %s, %s, %s, %s)"  # noqa: S608
    written = 0
    it = iter(source)
    while batch := list(islice(it, batch_size)):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, batch)
        written += len(batch)
    return written


def _copy_postgres(rows: Iterable[tuple], batch_size: int) -> int:
    table = connection.ops.quote_name(VenueScan._meta.db_table)
    written = 0
    it = iter(rows)
    while batch := list(islice(it, batch_size)):
        sql = f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN"
        # cursor.cursor is the psycopg cursor under Django's wrapper.
        with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for person_id, place_id, scanned_at, scan_day, path in batch:
                copy.write_row((person_id, place_id, scanned_at + "+00", scan_day, path))
        written += len(batch)
    return written


@contextmanager
def scan_indexes_suspended(*, enabled: bool = True) -> Iterator[None]:
    """Drop VenueScan's two indexes for a large load and rebuild them afterwards.

    Worth it when the load is large compared with the table (the drill's build); the
    indexes are rebuilt even when the load fails, so the schema always matches the
    migrations.
    """
    if not enabled:
        yield
        return
    q = connection.ops.quote_name
    table = q(VenueScan._meta.db_table)
    indexes = [(str(index.name), index.fields) for index in VenueScan._meta.indexes]
    # Plain statements (no schema_editor context): usable inside a transaction on SQLite.
    with connection.cursor() as cursor:
        for name, _fields in indexes:
            cursor.execute(f"DROP INDEX IF EXISTS {q(name)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name, fields in indexes:
                columns = ", ".join(q(f) for f in fields)
                cursor.execute(f"CREATE INDEX IF NOT EXISTS {q(name)} ON {table} ({columns})")


def scans_delete_under(prefix: str) -> int:
    """Delete the scans at venues under the path `prefix` (a scan's path is its
    venue's) in one set-based DELETE; return how many."""
    return rows_under_delete(VenueScan, "jurisdiction_path", prefix)
