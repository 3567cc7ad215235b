"""Set-based paths of the areas domain: jurisdictions, geometry, places in bulk, and
everything of areas under a path deleted at once (`areas_delete_under`).

The documented exception to "writes go through services": bulk loads (the drill city,
imports of a whole city's reference data) write rows with `bulk_create` in batches,
never a query per row. Callers pass explicit primary keys (from `next_free_id`) so a
build is deterministic and parents can be referenced before they are saved; after the
load, `sequences_reset` moves PostgreSQL's sequences past the written ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max

from fangkong.areas.models import (
    Jurisdiction,
    JurisdictionGeometry,
    Place,
    Zone,
    ZoneMember,
    ZoneTransition,
)
from fangkong.core.paths import path_upper_bound, rows_under_delete

T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def next_free_id(model: type[models.Model]) -> int:
    """The first primary key above every existing row (1 on an empty table)."""
    return int(model._default_manager.aggregate(m=Max("pk"))["m"] or 0) + 1


def sequences_reset(*model_list: type[models.Model]) -> None:
    """After explicit-id inserts: PostgreSQL's sequences continue past the max id."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def _bulk(model: type[models.Model], rows: Iterable[dict[str, Any]], batch_size: int) -> int:
    written = 0
    for chunk in batched(rows, batch_size):
        with transaction.atomic():
            model._default_manager.bulk_create([model(**row) for row in chunk])
        written += len(chunk)
    return written


def jurisdiction_bulk_create(*, rows: Iterable[dict[str, Any]], batch_size: int = 2000) -> int:
    """Rows: id, level, code, name, parent_id, path, depth, population. Parents first."""
    return _bulk(Jurisdiction, rows, batch_size)


def geometry_bulk_create(*, rows: Iterable[dict[str, Any]], batch_size: int = 500) -> int:
    """Rows: jurisdiction_id, geojson, centroid_lat, centroid_lon."""
    return _bulk(JurisdictionGeometry, rows, batch_size)


def place_bulk_create(*, rows: Iterable[dict[str, Any]], batch_size: int = 2000) -> int:
    """Rows: id, kind, name, venue_code, jurisdiction_id, jurisdiction_path, address, lat,
    lon, and optionally venue_kind (VenueKind; "" when absent)."""
    return _bulk(Place, rows, batch_size)


def areas_delete_under(prefix: str) -> dict[str, int]:
    """Delete areas' rows under the path `prefix` in set-based DELETEs: the zones drawn
    there (their transitions and members, and any membership of a jurisdiction or place
    there in another zone), the places, the jurisdictions' geometry and the jurisdictions
    themselves. Rows of other apps that point at them go first, through those apps'
    `*_delete_under`; one still there makes the DELETE fail (IntegrityError) and the
    caller's transaction roll back. Returns {model label: rows deleted}."""
    q = connection.ops.quote_name
    jur, place, zone = (
        q(Jurisdiction._meta.db_table),
        q(Place._meta.db_table),
        q(Zone._meta.db_table),
    )
    bounds = [prefix, path_upper_bound(prefix)]
    zones = f"SELECT id FROM {zone} WHERE jurisdiction_path >= %s AND jurisdiction_path < %s"  # noqa: S608
    jurisdictions = f"SELECT id FROM {jur} WHERE path >= %s AND path < %s"  # noqa: S608
    places = f"SELECT id FROM {place} WHERE jurisdiction_path >= %s AND jurisdiction_path < %s"  # noqa: S608
    deleted: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:

        def run(model: type[models.Model], where: str, params: list[str]) -> None:
            table = q(model._meta.db_table)
            cursor.execute(f"DELETE FROM {table} WHERE {where}", params)  # noqa: S608
            deleted[model._meta.label] = max(int(cursor.rowcount), 0)

        run(ZoneTransition, f"zone_id IN ({zones})", bounds)
        run(
            ZoneMember,
            f"zone_id IN ({zones}) OR jurisdiction_id IN ({jurisdictions}) "
            f"OR place_id IN ({places})",
            bounds * 3,
        )
        deleted[Zone._meta.label] = rows_under_delete(Zone, "jurisdiction_path", prefix)
        deleted[Place._meta.label] = rows_under_delete(Place, "jurisdiction_path", prefix)
        run(JurisdictionGeometry, f"jurisdiction_id IN ({jurisdictions})", bounds)
        # One statement for the whole subtree: children go with their parents.
        deleted[Jurisdiction._meta.label] = rows_under_delete(Jurisdiction, "path", prefix)
    return deleted
