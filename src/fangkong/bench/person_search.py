"""bench person-search: the person list's first page and an initials search, scoped to a town.

Product path: fangkong.people.selectors.person_search (scoping, search key, keyset page,
ORM) as a town's staff member. Baseline: the same answer by one raw SQL query through
the same connection. Runs on the configured database (the demo city), or with
--population N on a drill city built into a temporary SQLite file first.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from fangkong.bench import Log, result
from fangkong.bench.timing import p50_ms

DESCRIPTION = "town-scoped person list page and initials search: selector vs one raw SQL query"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--town", default="330483102", help="town path (default 乌镇镇)")
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument(
        "--population",
        type=int,
        default=0,
        help="build a drill city of this size into a temporary SQLite file and run there",
    )
    parser.add_argument("--seed", type=int, default=2022)


def run(options: dict[str, Any], log: Log) -> dict:
    if options.get("population"):
        return _run_on_fresh_city(options, log)
    return _measure(options, log)


def _run_on_fresh_city(options: dict[str, Any], log: Log) -> dict:
    from fangkong.bench.city import _fangkong

    workdir = Path(tempfile.mkdtemp(prefix="fk-bench-search-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'city.sqlite3'}",
        "FANGKONG_VAR_DIR": str(workdir),
    }
    env.pop("FANGKONG_TEST_DB", None)
    try:
        log(f"building a city of {options['population']:,} persons in {workdir}")
        _fangkong(["migrate", "--noinput", "-v0"], env)
        _fangkong(
            [
                *("drill", "city", "--population", str(options["population"])),
                *("--days", "0", "--seed", str(options["seed"]), "--quiet"),
            ],
            env,
        )
        out = _fangkong(
            [
                *("bench", "person-search", "--json", "--town", options["town"]),
                *("--repeat", str(options["repeat"])),
            ],
            env,
        )
        return dict(json.loads(out.strip().splitlines()[-1]))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _measure(options: dict[str, Any], log: Log) -> dict:
    from django.db import connection

    from fangkong.accounts.models import User
    from fangkong.accounts.roles import Role
    from fangkong.areas.models import Jurisdiction
    from fangkong.core.paths import path_upper_bound
    from fangkong.people.models import Person
    from fangkong.people.selectors import person_search

    town = Jurisdiction.objects.filter(path=options["town"]).first()
    if town is None:
        town = Jurisdiction.objects.filter(level="town").order_by("path").first()
    if town is None:
        raise RuntimeError("no town in the database: build one with `fangkong drill city`")
    low, high = town.path, path_upper_bound(town.path)
    # An unsaved staff account of the town: the selector scopes exactly as for a login.
    user = User(username="bench-town", role=Role.TOWN_STAFF, scope_path=town.path)
    sample = (
        Person.objects.filter(jurisdiction_path__gte=low, jurisdiction_path__lt=high)
        .order_by("id")
        .values_list("name_initials", flat=True)
        .first()
    )
    initials = (sample or "zz")[:2]
    in_scope = Person.objects.filter(jurisdiction_path__gte=low, jurisdiction_path__lt=high).count()
    table = connection.ops.quote_name(Person._meta.db_table)
    jtable = connection.ops.quote_name(Jurisdiction._meta.db_table)
    size = 50

    def product(q: str) -> list[int]:
        return [p.pk for p in person_search(user=user, q=q, size=size).items]

    def raw(q: str) -> list[int]:
        # The same rows and columns the selector loads (person + its jurisdiction).
        sql = (
            f"SELECT p.*, j.name FROM {table} p JOIN {jtable} j ON j.id = p.jurisdiction_id "  # noqa: S608
            "WHERE p.jurisdiction_path >= %s AND p.jurisdiction_path < %s"
        )
        params: list[Any] = [low, high]
        if q:
            sql += " AND (p.name_initials LIKE %s OR p.name LIKE %s)"
            params += [q + "%", q + "%"]
        sql += " ORDER BY p.id DESC LIMIT %s"
        params.append(size)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [row[0] for row in cursor.fetchall()]

    repeat = int(options["repeat"])
    log(f"town {town.name} ({town.path}): {in_scope:,} persons; initials '{initials}'")
    list_ms, list_ids = p50_ms(lambda: product(""), repeat=repeat)
    list_raw_ms, list_raw_ids = p50_ms(lambda: raw(""), repeat=repeat)
    search_ms, search_ids = p50_ms(lambda: product(initials), repeat=repeat)
    search_raw_ms, search_raw_ids = p50_ms(lambda: raw(initials), repeat=repeat)
    return result(
        "person-search",
        scale={
            "persons_total": Person.objects.count(),
            "persons_in_scope": in_scope,
            "town": town.path,
            "repeat": repeat,
            "database": connection.vendor,
        },
        metrics={
            "list_first_page_p50_ms": list_ms,
            "list_first_page_raw_sql_p50_ms": list_raw_ms,
            "initials_search_p50_ms": search_ms,
            "initials_search_raw_sql_p50_ms": search_raw_ms,
        },
        same_answer=(list_ids == list_raw_ids and search_ids == search_raw_ids),
        query=initials,
    )
