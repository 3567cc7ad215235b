"""bench round-open: opening a mass-testing round computes its target population.

Product path: `testing.services.rounds.round_open` — the one INSERT ... SELECT that puts
every person living in the scope into `RoundTarget` with the zone level of the most
severe active zone covering them and the rule set's pool size; timed for a round of
乌镇镇 and for a city-wide round, plus the planner's preview of the city round
(`targets_preview`, the grouped SELECT a planned round's page shows). Baseline: a raw
`INSERT ... SELECT` of the same number of rows into the same table with no joins at all
(constant zone level and pool size), in the same run: what writing the rows costs.

Data: the drill city in the configured database (DATABASE_URL), built with
`drill city --population --persons --days 0` when the database has no persons,
otherwise reused. Zones in 乌镇镇 (its first community sealed, the next three controlled,
the town precaution), the rounds, their targets and a transient command user are all
created inside one transaction that is rolled back: the database is left as it was.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from typing import Any
from zoneinfo import ZoneInfo

from fangkong.bench import Log, result

DESCRIPTION = "open a city-wide round: target population by INSERT ... SELECT vs a raw insert"
WUZHEN = "330483102"
CITY = "330483"


class _Rollback(Exception):
    pass


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2022)


def run(options: dict[str, Any], log: Log) -> dict:
    from django.db import connection, transaction

    from fangkong.people.models import Person

    if not Person.objects.exists():
        from fangkong.drill.city import drill_city_build

        log(f"building a drill city of {int(options['persons']):,} persons (no scans)")
        drill_city_build(population=int(options["persons"]), days=0, seed=int(options["seed"]))
    persons = Person.objects.count()
    log(f"{persons:,} persons in the database ({connection.vendor})")
    metrics: dict[str, Any] = {}
    try:
        with transaction.atomic():
            metrics = _measure(log)
            raise _Rollback
    except _Rollback:
        pass
    return result(
        "round-open",
        scale={"persons": persons, "database": connection.vendor},
        metrics=metrics,
    )


def _measure(log: Log) -> dict[str, Any]:
    from django.db import connection
    from django.db.models import Count

    from fangkong.accounts.models import User
    from fangkong.accounts.roles import Role
    from fangkong.areas.models import Jurisdiction
    from fangkong.areas.services import zones as zone_services
    from fangkong.people.models import Person
    from fangkong.testing.models import Round, RoundTarget
    from fangkong.testing.services import rounds as services

    city = Jurisdiction.objects.get(path=CITY)
    wuzhen = Jurisdiction.objects.get(path=WUZHEN)
    actor = User.objects.create(
        username="bench-round-open", role=Role.COMMAND, jurisdiction=city, scope_path=CITY
    )
    communities = list(Jurisdiction.objects.filter(parent=wuzhen).order_by("path")[:4])
    day = dt.date(2022, 7, 9)
    for level, members in (
        ("precaution", [wuzhen]),
        ("sealed", communities[:1]),
        ("controlled", communities[1:4]),
    ):
        if not members:  # a tiny city's town may have a single community
            continue
        zone_services.zone_create(
            actor=actor,
            name=f"bench {level}",
            level=level,
            jurisdiction=wuzhen,
            started_on=day,
            reason="bench",
            member_jurisdictions=members,
        )
    start = dt.datetime(2022, 7, 10, 6, tzinfo=ZoneInfo("Asia/Shanghai"))

    def opened(scope: Any, name: str) -> tuple[Round, float]:
        rnd = services.round_create(actor=actor, name=name, jurisdictions=[scope], starts_at=start)
        began = time.perf_counter()
        rnd = services.round_open(actor=actor, round=rnd)
        return rnd, time.perf_counter() - began

    town_round, town_s = opened(wuzhen, "bench 乌镇镇")
    log(f"乌镇镇: {town_round.target_count:,} targets in {town_s:.2f} s")
    planned = services.round_create(
        actor=actor, name="bench preview", jurisdictions=[city], starts_at=start
    )
    began = time.perf_counter()
    preview = services.targets_preview(planned)
    preview_s = time.perf_counter() - began
    city_round, city_s = opened(city, "bench city")
    log(f"city: {city_round.target_count:,} targets in {city_s:.2f} s (preview {preview_s:.2f} s)")
    levels = dict(
        RoundTarget.objects.filter(round=city_round)
        .values_list("zone_level")
        .order_by()
        .annotate(n=Count("pk"))
        .values_list("zone_level", "n")
    )
    raw = Round.objects.create(
        name="bench raw",
        jurisdiction=city,
        jurisdiction_path=CITY,
        ruleset=city_round.ruleset,
        starts_at=start,
        deadline_at=start + dt.timedelta(hours=24),
    )
    q = connection.ops.quote_name
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {q(RoundTarget._meta.db_table)} "  # noqa: S608 - quoted identifiers
            "(round_id, person_id, jurisdiction_path, zone_level, pool_size) "
            f"SELECT %s, id, jurisdiction_path, '', 20 FROM {q(Person._meta.db_table)}",
            [raw.pk],
        )
        raw_rows = cursor.rowcount
    raw_s = time.perf_counter() - began
    log(f"raw INSERT ... SELECT: {raw_rows:,} rows in {raw_s:.2f} s")
    return {
        "city_open_s": round(city_s, 3),
        "city_targets": city_round.target_count,
        "city_targets_per_s": round(city_round.target_count / city_s) if city_s else None,
        "town_open_s": round(town_s, 3),
        "town_targets": town_round.target_count,
        "preview_s": round(preview_s, 3),
        "preview_targets": sum(row[3] for row in preview),
        "raw_insert_s": round(raw_s, 3),
        "raw_insert_rows": raw_rows,
        "open_vs_raw": round(city_s / raw_s, 2) if raw_s else None,
        "targets_by_zone_level": levels,
    }
