"""Materialized jurisdiction paths and the prefix queries over them.

A jurisdiction's path is its hierarchical code: 6 digits for the city (330483), 3 more
for a town (330483101), 3 more for a community, 3 more for a grid. "Everything under X"
is then a range on an indexed string column, `path >= X AND path < next(X)`, which a
plain B-tree serves on SQLite and on PostgreSQL under any collation (digits only), unlike
LIKE 'X%' which needs special operator classes.
"""

from __future__ import annotations

from django.db.models import Q


def path_upper_bound(prefix: str) -> str:
    """The smallest digit string of the same length that is not under `prefix`."""
    if not prefix or not prefix.isdigit():
        raise ValueError(f"a jurisdiction path is digits only: {prefix!r}")
    width = len(prefix)
    nxt = int(prefix) + 1
    if len(str(nxt)) > width:  # "999..." has no successor of the same width
        return "9" * width + ":"
    return str(nxt).zfill(width)


def under(field: str, prefix: str) -> Q:
    """Q matching rows whose `field` (a path) is `prefix` itself or below it."""
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": path_upper_bound(prefix)})


def is_under(path: str, prefix: str) -> bool:
    return path.startswith(prefix)
