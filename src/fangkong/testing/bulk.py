"""Set-based paths of the testing domain.

`testing_delete_under` deletes what testing keeps on the places of a path: sampling
points, supply stocks and their movements. Rounds, samples and results are not
deleted here: they are records of work done, and a caller that finds them under the
path refuses (as the drill city's delete does).
"""

from __future__ import annotations

from django.db import connection, transaction

from fangkong.core.paths import path_upper_bound, rows_under_delete
from fangkong.testing.models import SamplingPoint, SupplyMovement, SupplyStock


def testing_delete_under(prefix: str) -> dict[str, int]:
    """Delete the sampling points, supply stocks and stock movements under the path
    `prefix` in set-based DELETEs. Returns {model label: rows deleted}."""
    q = connection.ops.quote_name
    movement, stock = q(SupplyMovement._meta.db_table), q(SupplyStock._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {movement} WHERE stock_id IN "  # noqa: S608
            f"(SELECT id FROM {stock} WHERE jurisdiction_path >= %s "
            "AND jurisdiction_path < %s)",
            [prefix, path_upper_bound(prefix)],
        )
        movements = max(int(cursor.rowcount), 0)
        stocks = rows_under_delete(SupplyStock, "jurisdiction_path", prefix)
        points = rows_under_delete(SamplingPoint, "jurisdiction_path", prefix)
    return {
        SupplyMovement._meta.label: movements,
        SupplyStock._meta.label: stocks,
        SamplingPoint._meta.label: points,
    }
