"""Materialized jurisdiction paths and the prefix queries over them.

A jurisdiction's path is its hierarchical code: CITY_WIDTH (6) digits for the city
(330483), LEVEL_STEP (3) more for a town (330483101), 3 more for a community, 3 more
for a grid. The widths are named below and nowhere else (a test greps src for literals).
"Everything under X" is then a range on an indexed string column,
`path >= X AND path < next(X)`, which a plain B-tree serves on SQLite and on PostgreSQL
under any collation (digits only), unlike LIKE 'X%' which needs special operator classes.
"""

from __future__ import annotations

from typing import Final

from django.db import connection
from django.db.models import Model, Q
from django.db.models.functions import Substr

# The widths of the levels' paths, defined here once: everything else names them.
CITY_WIDTH: Final = 6
LEVEL_STEP: Final = 3  # digits each level below the city adds
TOWN_WIDTH: Final = CITY_WIDTH + LEVEL_STEP
COMMUNITY_WIDTH: Final = TOWN_WIDTH + LEVEL_STEP
GRID_WIDTH: Final = COMMUNITY_WIDTH + LEVEL_STEP
LEVEL_WIDTHS: Final = (CITY_WIDTH, TOWN_WIDTH, COMMUNITY_WIDTH, GRID_WIDTH)


def _level(path: str, width: int) -> str:
    return path[:width] if len(path) >= width else ""


def city_of(path: str) -> str:
    """The city's path of `path` ("" when `path` is not that deep, e.g. a blank scope)."""
    return _level(path, CITY_WIDTH)


def town_of(path: str) -> str:
    """The town's path of `path` ("" for the city itself)."""
    return _level(path, TOWN_WIDTH)


def community_of(path: str) -> str:
    """The community's path of `path` ("" for a city or a town)."""
    return _level(path, COMMUNITY_WIDTH)


def level_prefixes(path: str) -> list[str]:
    """The ancestor-or-self paths of `path` at level boundaries, root first
    (city, town, community, grid): what "covers" a jurisdiction."""
    return [path[:width] for width in LEVEL_WIDTHS if width <= len(path)]


def level_floor(prefix: str) -> str:
    """The deepest level path that `prefix` (any digit string) starts with ("" if none)."""
    fitting = [width for width in LEVEL_WIDTHS if width <= len(prefix)]
    return prefix[: fitting[-1]] if fitting else ""


def path_pattern(*widths: int) -> str:
    """A regular expression for input validation: a path of one of `widths` digits
    (e.g. `path_pattern(TOWN_WIDTH)` for a town's path)."""
    return "^(?:" + "|".join(rf"\d{{{int(width)}}}" for width in widths) + ")$"


def level_prefix_expr(field: str, width: int) -> Substr:
    """The ORM expression of the first `width` digits of the path column `field`
    (e.g. `level_prefix_expr("jurisdiction_path", TOWN_WIDTH)` groups rows by town)."""
    return Substr(field, 1, width)


def level_prefix_sql(column: str, width: int) -> str:
    """The same in raw SQL (SQLite and PostgreSQL): `substr(column, 1, width)`.
    `column` is an SQL expression the caller controls, never user input."""
    return f"substr({column}, 1, {int(width)})"


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


def rows_under_delete(model: type[Model], column: str, prefix: str) -> int:
    """Delete the rows of `model` whose path column `column` is under `prefix` in one
    set-based DELETE (no per-row signals, no cascades: the caller deletes dependents
    first); return how many. For an app's `<app>_delete_under` on its own tables."""
    q = connection.ops.quote_name
    table, col = q(model._meta.db_table), q(column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE {col} >= %s AND {col} < %s",  # noqa: S608
            [prefix, path_upper_bound(prefix)],
        )
        return max(int(cursor.rowcount), 0)
