"""bench placements: a case's close contacts placed into free rooms in one action.

Product path: `quarantine.services.placements.placements_create_for_case` — the case's
`--contacts` unplaced close contacts get their rule set's dates, scheduled tests and one
free room each (picked with `SELECT ... FOR UPDATE SKIP LOCKED`, one open occupancy per
room by a database constraint), among `--rooms` rooms of `--sites` sites: `place_s`.

Baseline (same run): a raw SQL assignment of the same rows, i.e. one INSERT ... SELECT
of the occupancies (the n-th contact to the n-th free room), one of the placements with
dates by date arithmetic, one UPDATE of the rooms, in a transaction rolled back: `raw_s`.

Then `--placers` concurrent placers (threads, one connection each) each place another
case's `--per-placer` contacts at the same sites at the same moment; afterwards a query
counts the rooms double-booked: rooms with more than one open occupancy, with people of
two parties, or with more people than beds: `double_booked` (target 0).

Data: a bench city of its own (压测隔离市, path 990003) with one community, its persons
(people.bulk, no ID numbers), cases and close contacts (tracing's contacts write path),
built once and reused; the sites, rooms and placements are deleted at the start of each
run (`quarantine_delete_under`) and built again. Run it on a PostgreSQL database of its
own (DATABASE_URL=.../bench_placements), never a test database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import threading
import time
from dataclasses import dataclass
from typing import Any

from fangkong.bench import Log, result

DESCRIPTION = "place a case's close contacts into free rooms in one action vs raw SQL"

BENCH_CITY = "990003"
UNIT = "压测隔离"


class _Rollback(Exception):
    pass


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--contacts", type=int, default=1000, help="the case's close contacts")
    parser.add_argument("--rooms", type=int, default=3000, help="rooms in all")
    parser.add_argument("--sites", type=int, default=3, help="quarantine sites")
    parser.add_argument("--placers", type=int, default=8, help="concurrent placers afterwards")
    parser.add_argument("--per-placer", type=int, default=100, help="contacts per placer")


@dataclass
class World:
    actor: Any
    community: Any
    cases: list[Any]  # cases[0]: the measured case; cases[1:]: one per placer


def _ensure_world(contacts: int, placers: int, per_placer: int, log: Log) -> World:
    from django.db import transaction
    from django.utils import timezone

    from fangkong.accounts.models import User
    from fangkong.accounts.roles import Role
    from fangkong.areas.models import Jurisdiction
    from fangkong.people.bulk import PersonImportRow, person_bulk_import
    from fangkong.people.models import Person
    from fangkong.tracing.models import Case, Contact, ExposureKind
    from fangkong.tracing.services import contacts as contact_services
    from fangkong.tracing.services.cases import case_create

    with transaction.atomic():
        city, _ = Jurisdiction.objects.get_or_create(
            path=BENCH_CITY,
            defaults={"level": "city", "code": BENCH_CITY, "name": "压测隔离市", "depth": 0},
        )
        town, _ = Jurisdiction.objects.get_or_create(
            path=BENCH_CITY + "001",
            defaults={
                "level": "town",
                "code": BENCH_CITY + "001",
                "name": "压测隔离镇",
                "parent": city,
                "depth": 1,
            },
        )
        community, _ = Jurisdiction.objects.get_or_create(
            path=town.path + "001",
            defaults={
                "level": "community",
                "code": town.path + "001",
                "name": "压测隔离村",
                "parent": town,
                "depth": 2,
            },
        )
        actor, _ = User.objects.get_or_create(
            username="bench-placements",
            defaults={
                "role": Role.COMMAND,
                "jurisdiction": city,
                "scope_path": BENCH_CITY,
            },
        )
    sizes = [contacts] + [per_placer] * placers
    cases = []
    today = timezone.localdate()
    for k, size in enumerate(sizes):
        unit = f"{UNIT}-{k}"
        case = Case.objects.filter(reporting_unit=unit, jurisdiction_path=community.path).first()
        have = (
            Contact.objects.filter(exposures__source_case=case, classification="close").count()
            if case
            else 0
        )
        if case is not None and have >= size:
            cases.append(case)
            continue
        log(f"writing case {k} with {size:,} close contacts")
        ids = person_bulk_import(
            rows=[
                PersonImportRow(
                    name="压测" + "甲乙丙丁戊己庚辛壬癸"[n % 10] + "某",
                    id_kind="none",
                    id_number="",
                    phone="",
                    birth_year=1970 + n % 40,
                    sex="U",
                    jurisdiction_id=community.pk,
                    jurisdiction_path=community.path,
                )
                for n in range(size + 1)
            ],
            validate=False,
        )
        if case is None:
            case = case_create(
                actor=actor,
                person=Person.objects.get(pk=ids[0]),
                kind="asymptomatic",
                first_positive_sampled_on=today - dt.timedelta(days=1),
                reporting_unit=unit,
            )
        contact_services._write_findings(
            actor=actor,
            findings=[
                contact_services.Finding(
                    person_id=pk,
                    kind=ExposureKind.MANUAL,
                    classification="close",
                    exposed_on=today - dt.timedelta(days=1),
                )
                for pk in ids[1:]
            ],
            case=case,
        )
        cases.append(case)
    return World(actor=actor, community=community, cases=cases)


def _fresh_sites(world: World, *, sites: int, rooms: int, log: Log) -> list[int]:
    from fangkong.areas.models import Place
    from fangkong.quarantine.services import quarantine_delete_under
    from fangkong.quarantine.services.sites import rooms_create, site_create

    deleted = quarantine_delete_under(BENCH_CITY)
    log(f"deleted the last run's rows: {sum(deleted.values()):,}")
    per_site = rooms // sites
    site_ids = []
    for n in range(sites):
        place, _ = Place.objects.get_or_create(
            kind="quarantine_site",
            name=f"压测隔离酒店{n + 1}",
            jurisdiction=world.community,
            defaults={"jurisdiction_path": world.community.path},
        )
        site = site_create(actor=world.actor, place=place)
        count = per_site if n < sites - 1 else rooms - per_site * (sites - 1)
        floors = max(1, (count + 99) // 100)
        made = 0
        for f in range(floors):
            here = min(100, count - made)
            made += rooms_create(
                actor=world.actor,
                site=site,
                building=f"{f + 1}",
                floors=1,
                rooms_per_floor=here,
            )
        site_ids.append(site.pk)
    return site_ids


def _raw_assignment(world: World, site_ids: list[int], n: int) -> tuple[float, int]:
    """The same rows by raw SQL (occupancies, placements, rooms), rolled back."""
    from django.db import connection, transaction

    from fangkong.quarantine.models import Occupancy, Placement, Room
    from fangkong.tracing.models import Contact, Exposure

    q = connection.ops.quote_name
    room_t, occ_t, pl_t = (q(m._meta.db_table) for m in (Room, Occupancy, Placement))
    contact_t, exposure_t = q(Contact._meta.db_table), q(Exposure._meta.db_table)
    case = world.cases[0]
    marks = ", ".join(["%s"] * len(site_ids))
    if connection.vendor == "postgresql":
        plus7, plus10 = "c.last_exposure_on + 7", "c.last_exposure_on + 10"
    else:
        plus7 = "date(c.last_exposure_on, '+7 days')"
        plus10 = "date(c.last_exposure_on, '+10 days')"
    rows = 0
    began = time.perf_counter()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH free AS (
                  SELECT id, row_number() OVER (ORDER BY id) AS rn FROM {room_t}
                  WHERE site_id IN ({marks}) AND state = 'ready' LIMIT %s
                ), todo AS (
                  SELECT c.id, c.person_id, row_number() OVER (ORDER BY c.id) AS rn
                  FROM {contact_t} c
                  WHERE c.id IN (SELECT contact_id FROM {exposure_t} WHERE source_case_id = %s)
                    AND c.classification = 'close'
                )
                INSERT INTO {occ_t} (room_id, party, started_at, ended_at)
                SELECT free.id, 'p' || todo.person_id, CURRENT_TIMESTAMP, NULL
                FROM free JOIN todo ON free.rn = todo.rn
                """,  # noqa: S608 - quoted identifiers
                [*site_ids, n, case.pk],
            )
            cursor.execute(
                f"""
                INSERT INTO {pl_t} (person_id, jurisdiction_path, contact_id, source,
                  classification, measure, status, site_id, room_id, occupancy_id,
                  needs_accessible, ruleset_id, last_exposure_on, start_on,
                  quarantine_end_on, monitoring_end_on, note, certificate_number,
                  created_at, updated_at)
                SELECT c.person_id, c.jurisdiction_path, c.id, 'contact', 'close',
                  'centralised', 'planned', r.site_id, r.id, o.id, FALSE, c.ruleset_id,
                  c.last_exposure_on, CURRENT_DATE, {plus7},
                  {plus10}, '', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
                FROM {occ_t} o JOIN {room_t} r ON r.id = o.room_id
                JOIN {contact_t} c ON 'p' || c.person_id = o.party
                WHERE o.ended_at IS NULL AND r.site_id IN ({marks})
                """,  # noqa: S608
                site_ids,
            )
            rows = cursor.rowcount
            cursor.execute(
                f"UPDATE {room_t} SET state = 'occupied' WHERE id IN "  # noqa: S608
                f"(SELECT room_id FROM {occ_t} WHERE ended_at IS NULL)"
            )
            raise _Rollback
    except _Rollback:
        pass
    return time.perf_counter() - began, rows


def _double_booked() -> int:
    from django.db import connection

    from fangkong.quarantine.models import Occupancy, Placement, Room

    q = connection.ops.quote_name
    room_t, occ_t, pl_t = (q(m._meta.db_table) for m in (Room, Occupancy, Placement))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT COUNT(*) FROM (
              SELECT r.id FROM {room_t} r
              JOIN {pl_t} p ON p.room_id = r.id
                AND p.status IN ('planned', 'in_transit', 'active')
              LEFT JOIN {occ_t} o ON o.id = p.occupancy_id
              GROUP BY r.id, r.beds
              HAVING COUNT(DISTINCT p.occupancy_id) > 1
                 OR COUNT(DISTINCT o.party) > 1
                 OR COUNT(p.id) > r.beds
              UNION
              SELECT room_id FROM {occ_t} WHERE ended_at IS NULL
              GROUP BY room_id HAVING COUNT(*) > 1
            ) AS bad
            """  # noqa: S608
        )
        return int(cursor.fetchone()[0])


def run(options: dict[str, Any], log: Log) -> dict:
    from django.db import connection

    from fangkong.quarantine.models import Placement
    from fangkong.quarantine.services import placements as services

    contacts = int(options["contacts"])
    rooms = int(options["rooms"])
    placers = int(options["placers"])
    per_placer = int(options["per_placer"])
    sites = max(1, int(options["sites"]))
    if contacts + placers * per_placer > rooms:
        raise RuntimeError("more contacts than rooms: raise --rooms")
    log(f"database: {connection.vendor} {connection.settings_dict.get('NAME')}")
    world = _ensure_world(contacts, placers, per_placer, log)
    site_ids = _fresh_sites(world, sites=sites, rooms=rooms, log=log)
    log(f"{rooms:,} rooms at {sites} sites")

    raw_s, raw_rows = _raw_assignment(world, site_ids, contacts)
    log(f"raw SQL assignment: {raw_rows:,} placements in {raw_s:.3f} s (rolled back)")

    began = time.perf_counter()
    placed = services.placements_create_for_case(
        actor=world.actor, case=world.cases[0], site_ids=site_ids
    )
    place_s = time.perf_counter() - began
    log(f"product path: {len(placed.placements):,} placed in {place_s:.3f} s")

    outcomes: list[int] = []
    errors: list[str] = []
    barrier = threading.Barrier(placers) if placers else None

    def placer(case: Any) -> None:
        try:
            if barrier is not None:
                barrier.wait(timeout=30)
            got = services.placements_create_for_case(
                actor=world.actor, case=case, site_ids=site_ids
            )
            outcomes.append(len(got.placements))
        except Exception as exc:  # a refusal counts; the check below is the point
            errors.append(getattr(exc, "code", type(exc).__name__))
        finally:
            connection.close()

    threads = [threading.Thread(target=placer, args=(c,)) for c in world.cases[1:]]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    concurrent_s = time.perf_counter() - began
    double_booked = _double_booked()
    open_placements = Placement.objects.filter(
        site_id__in=site_ids, status__in=["planned", "in_transit", "active"]
    ).count()
    log(
        f"{placers} concurrent placers: {sum(outcomes):,} placed in {concurrent_s:.3f} s, "
        f"errors {errors}; double-booked rooms: {double_booked}"
    )
    return result(
        "placements",
        scale={
            "contacts": contacts,
            "rooms": rooms,
            "sites": sites,
            "placers": placers,
            "per_placer": per_placer,
            "database": connection.vendor,
        },
        metrics={
            "place_s": round(place_s, 3),
            "raw_s": round(raw_s, 3),
            "placed": len(placed.placements),
            "raw_rows": raw_rows,
            "concurrent_s": round(concurrent_s, 3),
            "concurrent_placed": sum(outcomes),
            "concurrent_errors": errors,
            "open_placements": open_placements,
            "double_booked": double_booked,
        },
    )
