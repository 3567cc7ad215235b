"""bench dashboard: the situation at a glance for command and for a town, 20 users at once.

Product path: the drill city (`--population` persons, `--days` days of scans, started so
that the reference outbreak's last day is yesterday) with the outbreak played through the
real services (`drill city --start auto`, `drill outbreak`, which refreshes command's
figures at its end); the figures refreshed once more (`refresh_s`, every city and town in
one grouped pass per base table); ANALYZE (a city just built has no planner statistics).

The pages are served as in production: gunicorn (`fangkong.wsgi`, `--preload`,
`--workers` processes, sync or `--threads` gthread; the README's deployment command) on a
free loopback port against the same database. `--users` client threads, each a user of
its own (command users of the city; town staff of the town with the most cases) with a
signed-in session cookie, GET the command page (`command:dashboard`) over real HTTP:
`--warmup` unmeasured requests each, then all at once, `--requests` each back to back (no
think time: a worst case); then the town's page the same way: `command_p50_ms`,
`command_p95_ms`, `town_p50_ms`, `town_p95_ms` (request sent to last byte read).

Baseline (same run): EVERY figure of each page counted from the base tables by raw SQL
(`RAW_STATEMENTS`: cases by kind/source/day, contacts of the three classes found /
pushed / controlled within 24 h / placed / released, pushed lists open / on time / late,
the current round's target / sampled / resulted / positives, rechecks due, rooms and
placements, zones in force with their counters and by level, supplies below threshold,
the curve by onset and report day, cases per community, the day's key events), scoped to
the city and to the town as a page without the summary table would have to:
`raw_count_ms` is one run of both pages' counts alone (the issue's definition; also per
page), `raw_count_*_p95_ms` the same counts under the same concurrency (`--users`
threads, one connection each, `--raw-requests` times each). `same_numbers` is true when the
raw counts equal the stored snapshot the pages read (every figure above) AND the figures
read off the pages' HTML (their data-figure marks); `differences` lists any that differ.
The overdue count is not in the baseline: both the page and any alternative count it
from the registered deadline kinds (the page keeps it per user for 30 s).

Run it on a PostgreSQL database of its own (DATABASE_URL=.../bench_dashboard), never a
test database: the drill city is built there once and reused while its population is
the one asked for.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import re
import statistics
import threading
import time
from typing import Any

from fangkong.bench import Log, result

DESCRIPTION = "command's and a town's dashboard, 20 concurrent users, vs raw SQL counts"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--population", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=1, help="days of venue scans")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--users", type=int, default=20, help="concurrent users")
    parser.add_argument("--requests", type=int, default=10, help="requests per user and page")
    parser.add_argument(
        "--raw-requests", type=int, default=3, help="raw counts per user and page (concurrent)"
    )
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured requests per user first")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread)")


def _check_database() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        raise RuntimeError("bench dashboard runs on PostgreSQL (DATABASE_URL=postgres://...)")
    name = str(connection.settings_dict.get("NAME") or "")
    if name == "test" or name.startswith("test_"):
        raise RuntimeError(f"bench dashboard needs a database of its own, not {name!r}")


def _ensure_city(population: int, days: int, seed: int, log: Log) -> tuple[bool, float]:
    """The drill city of `population` with the outbreak played; (built now, seconds)."""
    from django.core.management import call_command

    from fangkong.drill.models import DrillCity

    started = time.perf_counter()
    call_command("migrate", "--noinput", verbosity=0)  # a new database, or new migrations
    city = DrillCity.objects.order_by("-pk").first()
    built = False
    if city is None or city.population != population:
        log(f"building the drill city: {population:,} persons, {days} day(s) of scans")
        call_command(
            "drill",
            "city",
            "--population",
            str(population),
            "--days",
            str(days),
            "--seed",
            str(seed),
            "--start",
            "auto",
            "--force",
            "--quiet",
        )
        built = True
    log("playing the outbreak (days not yet played)")
    call_command("drill", "outbreak")
    return built, time.perf_counter() - started


def _users(city_path: str, town_path: str, n: int) -> tuple[list[Any], list[Any]]:
    """`n` command users of the city and `n` town staff of the town (each simulated user
    is a user of its own, with its own session and its own per-user caches)."""
    from fangkong.accounts.models import User
    from fangkong.accounts.roles import Role
    from fangkong.areas.models import Jurisdiction

    out: list[list[Any]] = [[], []]
    for k, (name, role, path) in enumerate(
        (
            ("bench-dashboard-command", Role.COMMAND, city_path),
            ("bench-dashboard-town", Role.TOWN_STAFF, town_path),
        )
    ):
        place = Jurisdiction.objects.get(path=path)
        for m in range(n):
            user, _ = User.objects.update_or_create(
                username=name if m == 0 else f"{name}-{m}",
                defaults={"role": role, "jurisdiction": place, "scope_path": path},
            )
            out[k].append(user)
    return out[0], out[1]


def _busiest_town(city_path: str) -> str:
    from django.db import connection

    from fangkong.core.paths import TOWN_WIDTH, level_prefix_sql, path_upper_bound

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {level_prefix_sql('jurisdiction_path', TOWN_WIDTH)} AS town, count(*) "  # noqa: S608
            "FROM tracing_case WHERE jurisdiction_path >= %s AND jurisdiction_path < %s "
            "GROUP BY town ORDER BY count(*) DESC, town LIMIT 1",
            [city_path, path_upper_bound(city_path)],
        )
        row = cursor.fetchone()
    if row is None:
        raise RuntimeError("the outbreak left no case in the city")
    return str(row[0])


# ---- the baseline: every figure of a page counted from the base tables ------------------

# One statement per base table (or join), scoped to the page's city or town by the row's
# path: what a page without the summary table would have to run on every request. Each
# answers the same figure as the snapshot (command.services.figures and the aggregate
# selectors it calls, whose definitions are repeated here in SQL).
RAW_STATEMENTS: dict[str, str] = {
    "cases": """
SELECT count(*),
  count(*) FILTER (WHERE c.reported_at >= %(start)s),
  count(*) FILTER (WHERE c.kind = 'confirmed'),
  count(*) FILTER (WHERE c.kind <> 'confirmed'),
  count(*) FILTER (WHERE c.kind = 'confirmed' AND c.reported_at >= %(start)s),
  count(*) FILTER (WHERE c.kind <> 'confirmed' AND c.reported_at >= %(start)s),
  count(*) FILTER (WHERE NOT c.source_unknown),
  count(*) FILTER (WHERE c.source_unknown)
FROM tracing_case c WHERE {c} AND c.reported_at < %(end)s""",
    "curve_onset": """
SELECT c.onset_date, count(*) FROM tracing_case c
WHERE {c} AND c.reported_at < %(end)s AND c.onset_date IS NOT NULL GROUP BY 1""",
    "curve_report": """
SELECT (c.reported_at AT TIME ZONE %(tz)s)::date, count(*) FROM tracing_case c
WHERE {c} AND c.reported_at < %(end)s GROUP BY 1""",
    "case_points": """
SELECT substr(c.jurisdiction_path, 1, %(community)s), count(*) FROM tracing_case c
WHERE {c} AND c.reported_at < %(end)s AND length(c.jurisdiction_path) >= %(community)s
GROUP BY 1""",
    "contacts": """
SELECT c.classification, count(*),
  count(*) FILTER (WHERE c.status = 'controlled'),
  count(*) FILTER (WHERE c.status = 'released')
FROM tracing_contact c WHERE {c} AND c.classification IN ('close', 'secondary', 'co_presence')
GROUP BY 1""",
    "contacts_pushed": """
SELECT k.classification, count(DISTINCT i.contact_id),
  count(DISTINCT i.contact_id) FILTER (
    WHERE i.status IN ('centralised', 'home', 'hospital') AND i.marked_at IS NOT NULL
      AND i.marked_at <= p.created_at + interval '24 hours')
FROM tracing_pushitem i
JOIN tracing_contact k ON k.id = i.contact_id
JOIN tracing_verificationpush p ON p.id = i.push_id
WHERE {i} AND k.classification IN ('close', 'secondary', 'co_presence') GROUP BY 1""",
    "pushes": """
SELECT count(*) FILTER (WHERE c.status = 'open'),
  count(*) FILTER (WHERE c.status = 'open' AND c.deadline < %(as_of)s),
  count(*) FILTER (WHERE c.status = 'done' AND c.completed_at <= c.deadline),
  count(*) FILTER (WHERE c.status = 'done' AND c.completed_at > c.deadline)
FROM tracing_verificationpush c WHERE {c}""",
    "rechecks_due": """
SELECT count(*) FROM testing_recheck c WHERE {c} AND c.status IN ('pending', 'sampled')""",
    "rooms": """
SELECT count(*) FILTER (WHERE r.state <> 'out_of_service'),
  count(*) FILTER (WHERE r.state = 'occupied' AND a.id IS NOT NULL),
  count(*) FILTER (WHERE r.state = 'occupied' AND a.id IS NULL),
  count(*) FILTER (WHERE r.state = 'ready')
FROM quarantine_room r JOIN quarantine_site s ON s.id = r.site_id
LEFT JOIN LATERAL (SELECT q.id FROM quarantine_placement q
                   WHERE q.room_id = r.id AND q.status = 'active' LIMIT 1) a ON true
WHERE s.jurisdiction_path >= %(lo)s AND s.jurisdiction_path < %(hi)s""",
    "placements": """
SELECT count(*) FILTER (WHERE c.status IN ('planned', 'in_transit', 'active')),
  count(*) FILTER (WHERE c.status = 'released')
FROM quarantine_placement c WHERE {c}""",
    "round": """
SELECT
  (SELECT count(*) FROM testing_roundtarget c WHERE {c} AND c.round_id = %(round)s),
  count(DISTINCT c.person_id),
  count(DISTINCT c.person_id) FILTER (WHERE EXISTS (
    SELECT 1 FROM testing_tuberesult t WHERE t.tube_id = c.tube_id)),
  count(DISTINCT c.person_id) FILTER (WHERE c.tube_id IN (
    SELECT t.tube_id FROM testing_tuberesult t JOIN testing_tube u ON u.id = t.tube_id
    WHERE t.round_id = %(round)s AND t.result = 'positive' AND u.pool_size = 1))
FROM testing_sample c WHERE {c} AND c.round_id = %(round)s AND NOT c.walk_in""",
    "zones": """
SELECT c.id, c.level, c.no_case_days, c.started_on FROM areas_zone c
WHERE {c} AND c.state = 'active'""",
    "events_cases": """
SELECT c.id FROM tracing_case c
WHERE {c} AND c.reported_at >= %(start)s AND c.reported_at < %(end)s""",
    "events_zones": """
SELECT c.id FROM areas_zone c WHERE {c} AND ((c.started_on >= %(day)s AND c.started_on < %(next)s)
  OR (c.lifted_on >= %(day)s AND c.lifted_on < %(next)s))""",
    "events_pushes": """
SELECT c.id FROM tracing_verificationpush c WHERE {c}
  AND c.deadline >= %(start)s AND c.deadline < %(as_of)s
  AND (c.status = 'open' OR c.completed_at > c.deadline)""",
}
CONTACT_KEYS = {"close": "close", "secondary": "secondary", "co_presence": "risk"}
CONTACT_FIGURES = ("found", "pushed", "controlled_24h", "placed", "released")


def raw_figures(
    prefix: str,
    round_id: int,
    day: dt.date,
    now: dt.datetime,
    cursor: Any,
    timings: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Every figure of `prefix`'s page (a city or a town) counted from the base tables,
    in the snapshot's shape: cases, contacts (3 classes x 5), pushes, the round's
    target/sampled/resulted/positives, rechecks due, quarantine (rooms, occupied,
    reserved, free, placed, released), zones in force (id, level, day counter, days
    since drawn) and by level, supplies below threshold, the curve by onset and report
    day, cases per community, and the day's key events (case, zone and late list ids)."""
    from django.conf import settings

    from fangkong.command.services.figures import day_bounds
    from fangkong.core.paths import COMMUNITY_WIDTH, path_upper_bound
    from fangkong.testing.selectors import figures as testing_figures

    start, end = day_bounds(day)
    params = {
        "lo": prefix,
        "hi": path_upper_bound(prefix),
        "start": start,
        "end": end,
        "as_of": min(now, end),
        "round": round_id,
        "tz": settings.TIME_ZONE,
        "community": COMMUNITY_WIDTH,
        "day": day,
        "next": day + dt.timedelta(days=1),
    }
    c = "c.jurisdiction_path >= %(lo)s AND c.jurisdiction_path < %(hi)s"
    i = "i.jurisdiction_path >= %(lo)s AND i.jurisdiction_path < %(hi)s"

    def rows(name: str) -> list[tuple[Any, ...]]:
        cursor.execute(RAW_STATEMENTS[name].format(c=c, i=i), params)
        return list(cursor.fetchall())

    (cases,) = rows("cases")
    contacts = {k: dict.fromkeys(CONTACT_FIGURES, 0) for k in CONTACT_KEYS.values()}
    for cls, found, placed, released in rows("contacts"):
        contacts[CONTACT_KEYS[cls]].update(found=found, placed=placed, released=released)
    for cls, pushed, in_time in rows("contacts_pushed"):
        contacts[CONTACT_KEYS[cls]].update(pushed=pushed, controlled_24h=in_time)
    (pushes,) = rows("pushes")
    (rooms,) = rows("rooms")
    (placements,) = rows("placements")
    (rnd,) = rows("round") if round_id else ((0, 0, 0, 0),)
    zones = sorted(
        (z_id, level, days, max((day - started).days + 1, 0))
        for z_id, level, days, started in rows("zones")
    )
    by_level = {"sealed": 0, "controlled": 0, "precaution": 0}
    for _id, level, _days, _since in zones:
        if level in by_level:
            by_level[level] += 1
    started = time.perf_counter()
    supplies = testing_figures.supplies_low_by_prefix(within=prefix, width=len(prefix))
    if timings is not None:  # the stocks' on-hand quantities: the costliest figure
        timings["supplies"] = timings.get("supplies", 0.0) + (time.perf_counter() - started) * 1000
    return {
        "cases": dict(
            zip(
                (
                    "total",
                    "new",
                    "total_confirmed",
                    "total_asymptomatic",
                    "new_confirmed",
                    "new_asymptomatic",
                    "source_known",
                    "source_unknown",
                ),
                cases,
                strict=True,
            )
        ),
        "contacts": contacts,
        "pushes": dict(zip(("open", "open_overdue", "on_time", "late"), pushes, strict=True)),
        "round": dict(zip(("target", "sampled", "resulted", "positives"), rnd, strict=True))
        if round_id
        else None,
        "rechecks_due": rows("rechecks_due")[0][0],
        "quarantine": dict(
            zip(
                ("rooms", "occupied", "reserved", "free", "placed", "released"),
                (*rooms, *placements),
                strict=True,
            )
        ),
        "zones": [list(z) for z in zones],
        "zones_by_level": by_level,
        "supplies_low": sum(supplies.values()),
        "curve": {
            "onset": {d.isoformat(): n for d, n in rows("curve_onset")},
            "report": {d.isoformat(): n for d, n in rows("curve_report")},
        },
        "case_points": dict(rows("case_points")),
        "events": sorted(
            [f"case:{r[0]}" for r in rows("events_cases")]
            + [f"zone:{r[0]}" for r in rows("events_zones")]
            + [f"push:{r[0]}" for r in rows("events_pushes")]
        ),
    }


def snapshot_figures(path: str, day: dt.date) -> dict[str, Any]:
    """The same figures as the page reads them: its stored snapshot row, in the shape of
    `raw_figures` (the page's HTML is checked separately by `page_figures`)."""
    from fangkong.command.models import FigureSnapshot
    from fangkong.command.services.figures import empty_figures

    row = FigureSnapshot.objects.filter(path=path, day=day).first()
    f = row.figures if row is not None else empty_figures()
    by_level = {"sealed": 0, "controlled": 0, "precaution": 0}
    for z in f["zones"]:
        if z["level"] in by_level:
            by_level[z["level"]] += 1
    rnd = f["round"]
    kinds = {"case": "case", "zone_drawn": "zone", "zone_lifted": "zone", "push_late": "push"}
    return {
        "cases": f["cases"],
        "contacts": f["contacts"],
        "pushes": f["pushes"],
        "round": {k: rnd[k] for k in ("target", "sampled", "resulted", "positives")}
        if rnd
        else None,
        "rechecks_due": f["rechecks_due"],
        "quarantine": f["quarantine"],
        "zones": sorted([z["id"], z["level"], z["days"], z["since"]] for z in f["zones"]),
        "zones_by_level": by_level,
        "supplies_low": f["supplies_low"],
        "curve": f["curve"],
        "case_points": f["case_points"],
        "events": sorted(f"{kinds[e['kind']]}:{e['id']}" for e in f["events"]),
    }


def differences(page: Any, raw: Any, where: str = "") -> dict[str, Any]:
    """{dotted key: (page, raw)} where the two differ."""
    if isinstance(page, dict) and isinstance(raw, dict):
        out: dict[str, Any] = {}
        for key in sorted(set(page) | set(raw)):
            out |= differences(page.get(key), raw.get(key), f"{where}.{key}" if where else key)
        return out
    return {} if page == raw else {where: (page, raw)}


def page_figures(html: str) -> dict[str, int]:
    """The same figures read from a dashboard page's HTML (their data-figure marks)."""

    def mark(name: str, scope: str = html) -> int:
        found = re.search(rf'data-figure="{name}"[^>]*>(?:\s*<[^>]+>)*?\s*(\d+)', scope, re.S)
        if found is None:
            raise RuntimeError(f"figure {name} not on the page")
        return int(found.group(1))

    def card(name: str) -> int:  # a card's big number (its first link)
        found = re.search(rf'data-figure="{name}">.*?<a href="[^"]*">(\d+)</a>', html, re.S)
        if found is None:
            raise RuntimeError(f"figure {name} not on the page")
        return int(found.group(1))

    close = re.search(r'data-contacts="close">(.*?)</tr>', html, re.S)
    close_row = close.group(1) if close else ""
    return {
        "cases-total": card("cases-total"),
        "cases-new": card("cases-new"),
        "cases-total-confirmed": mark("cases-total-confirmed"),
        "cases-source-unknown": mark("cases-source-unknown"),
        "close-found": mark("found", close_row),
        "close-pushed": mark("pushed", close_row),
        "close-controlled_24h": mark("controlled_24h", close_row),
        "close-placed": mark("placed", close_row),
        "pushes-open": mark("pushes-open"),
        "pushes-late": mark("pushes-late"),
        "rechecks-due": mark("rechecks-due"),
        "rooms": mark("rooms"),
        "placed": mark("placed", html.split('data-figure="quarantine"', 1)[1]),
        "round-target": mark("round-target"),
        "round-sampled": mark("round-sampled"),
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def _cookie(user: Any) -> str:
    """A signed-in session for `user` (as a login makes one): the cookie's value."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _get(conn: http.client.HTTPConnection, url: str, cookie: str) -> tuple[int, bytes]:
    conn.request("GET", url, headers={"Cookie": cookie, "Host": "127.0.0.1"})
    response = conn.getresponse()
    body = response.read()
    if response.getheader("Connection", "").lower() == "close":
        conn.close()  # sync workers close; the next request opens a new connection
    return response.status, body


def _hammer_http(
    port: int, cookies: list[str], url: str, requests: int, warmup: int
) -> tuple[list[float], str]:
    """One client thread per cookie (a user of its own), each with its own connection
    and that user's session cookie, GET `url` from the gunicorn server: `warmup` rounds
    first (not measured), then all start together and each sends `requests` requests
    back to back (no think time: a worst case). The latencies in ms (request sent to
    last byte read) and one page."""
    latencies: list[float] = []
    pages: list[str] = []
    lock = threading.Lock()
    errors: list[str] = []
    users = len(cookies)
    barrier = threading.Barrier(users)

    def work(cookie: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            for _ in range(warmup):
                status, body = _get(conn, url, cookie)
                if status != 200:
                    errors.append(f"{url}: {status}")
                    return
            barrier.wait()
            mine = []
            for _ in range(requests):
                started = time.perf_counter()
                status, body = _get(conn, url, cookie)
                mine.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    errors.append(f"{url}: {status}")
            with lock:
                latencies.extend(mine)
                if not pages:
                    pages.append(body.decode())
        except (threading.BrokenBarrierError, OSError) as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            barrier.abort()
        finally:
            conn.close()

    threads = [threading.Thread(target=work, args=(cookie,)) for cookie in cookies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError("; ".join(errors[:5]))
    return latencies, pages[0]


def _raw_concurrent(
    scopes: list[tuple[str, int]], day: dt.date, now: dt.datetime, users: int, requests: int
) -> list[list[float]]:
    """The raw counts under the same concurrency: `users` threads, one database
    connection each (psycopg waits outside the GIL: the work is PostgreSQL's), each
    counting every scope's figures `requests` times; the latencies in ms per scope."""
    from django.db import connection

    out: list[list[float]] = [[] for _ in scopes]
    lock = threading.Lock()
    errors: list[str] = []
    barrier = threading.Barrier(users)

    def work() -> None:
        try:
            with connection.cursor() as cursor:
                raw_figures(scopes[0][0], scopes[0][1], day, now, cursor)  # warm-up
            barrier.wait()
            mine: list[list[float]] = [[] for _ in scopes]
            for _ in range(requests):
                for n, (path, round_id) in enumerate(scopes):
                    started = time.perf_counter()
                    with connection.cursor() as cursor:
                        raw_figures(path, round_id, day, now, cursor)
                    mine[n].append((time.perf_counter() - started) * 1000)
            with lock:
                for n, values in enumerate(mine):
                    out[n].extend(values)
        except Exception as exc:  # reported below
            errors.append(f"{type(exc).__name__}: {exc}")
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError("; ".join(errors[:5]))
    return out


def _page_flat(raw: dict[str, Any]) -> dict[str, int]:
    """The raw figures that `page_figures` reads off the HTML, by the same names."""
    close = raw["contacts"]["close"]
    rnd = raw["round"] or {}
    return {
        "cases-total": raw["cases"]["total"],
        "cases-new": raw["cases"]["new"],
        "cases-total-confirmed": raw["cases"]["total_confirmed"],
        "cases-source-unknown": raw["cases"]["source_unknown"],
        "close-found": close["found"],
        "close-pushed": close["pushed"],
        "close-controlled_24h": close["controlled_24h"],
        "close-placed": close["placed"],
        "pushes-open": raw["pushes"]["open"],
        "pushes-late": raw["pushes"]["late"],
        "rechecks-due": raw["rechecks_due"],
        "rooms": raw["quarantine"]["rooms"],
        "placed": raw["quarantine"]["placed"],
        "round-target": rnd.get("target", 0),
        "round-sampled": rnd.get("sampled", 0),
    }


def _analyze(log: Log) -> None:
    """ANALYZE the database: a city just built or played has no planner statistics yet
    (autovacuum would gather them within minutes in production)."""
    from django.db import connection

    log("ANALYZE (planner statistics)")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _ms(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(values), 1),
        "p95": round(_percentile(values, 0.95), 1),
    }


def run(options: dict[str, Any], log: Log) -> dict[str, Any]:
    from django.db import connection
    from django.urls import reverse
    from django.utils import timezone

    from fangkong.areas import selectors as area_selectors
    from fangkong.bench.sync import Server, free_port
    from fangkong.command.selectors.figures import situation
    from fangkong.command.services.figures import figures_refresh
    from fangkong.drill.models import DrillCity
    from fangkong.people.models import Person

    _check_database()
    built, build_s = _ensure_city(options["population"], options["days"], options["seed"], log)
    city_path = str(
        DrillCity.objects.order_by("-pk").values_list("root_path", flat=True).first()
        or area_selectors.city_rows()[0]["path"]
    )
    persons = Person.objects.count()

    now = timezone.now()
    day = timezone.localdate(now)
    log("refreshing the figures")
    started = time.perf_counter()
    rows = figures_refresh(now=now)
    refresh_s = time.perf_counter() - started
    _analyze(log)

    town_path = _busiest_town(city_path)
    commands, towns = _users(city_path, town_path, options["users"])
    command, town = commands[0], towns[0]
    url = reverse("command:dashboard")
    users, requests, warmup = options["users"], options["requests"], options["warmup"]
    server = Server(port=free_port(), workers=options["workers"], threads=options["threads"])
    log(f"gunicorn: {options['workers']} worker(s) x {options['threads']} thread(s)")
    server.start()
    try:
        log(f"{users} users x {requests} requests over HTTP: command page")
        command_ms, command_html = _hammer_http(
            server.port, [_cookie(u) for u in commands], url, requests, warmup
        )
        log(f"{users} users x {requests} requests over HTTP: town page ({town_path})")
        town_ms, town_html = _hammer_http(
            server.port, [_cookie(u) for u in towns], url, requests, warmup
        )
    finally:
        server.stop()

    city_round = situation(user=command, day=day)["testing"]["round"]
    town_round = situation(user=town, day=day)["testing"]["round"]
    scopes = [
        (city_path, city_round["id"] if city_round else 0),
        (town_path, town_round["id"] if town_round else 0),
    ]
    with connection.cursor() as cursor:  # warm the caches as the pages were warmed
        for path, round_id in scopes:
            raw_figures(path, round_id, day, now, cursor)
    timings = []
    raws = []
    parts: dict[str, float] = {}
    with connection.cursor() as cursor:
        for path, round_id in scopes:
            started = time.perf_counter()
            raws.append(raw_figures(path, round_id, day, now, cursor, parts))
            timings.append((time.perf_counter() - started) * 1000)
    raw_city, raw_town = raws
    log(f"{users} users x {options['raw_requests']} raw counts of each page's figures")
    raw_city_ms, raw_town_ms = _raw_concurrent(scopes, day, now, users, options["raw_requests"])

    diffs = differences(snapshot_figures(city_path, day), raw_city) | {
        f"town:{k}": v for k, v in differences(snapshot_figures(town_path, day), raw_town).items()
    }
    html = {"city": page_figures(command_html), "town": page_figures(town_html)}
    for scope, raw in (("city", raw_city), ("town", raw_town)):
        for key, value in _page_flat(raw).items():
            if html[scope][key] != value:
                diffs[f"html:{scope}:{key}"] = (html[scope][key], value)
    same = not diffs

    command, town_ = _ms(command_ms), _ms(town_ms)
    raw_c, raw_t = _ms(raw_city_ms), _ms(raw_town_ms)
    return result(
        "dashboard",
        scale={
            "persons": persons,
            "users": users,
            "requests_per_user": requests,
            "raw_requests_per_user": options["raw_requests"],
            "server": f"gunicorn {options['workers']}w x {options['threads']}t over HTTP",
            "cases": raw_city["cases"]["total"],
            "close_contacts": raw_city["contacts"]["close"]["found"],
            "round_samples": (raw_city["round"] or {}).get("sampled", 0),
            "snapshot_rows": rows,
        },
        metrics={
            "command_p50_ms": command["p50"],
            "command_p95_ms": command["p95"],
            "town_p50_ms": town_["p50"],
            "town_p95_ms": town_["p95"],
            # one run, alone, both pages' figures (the issue's definition)
            "raw_count_ms": round(sum(timings), 1),
            "raw_count_command_ms": round(timings[0], 1),
            "raw_count_town_ms": round(timings[1], 1),
            # of raw_count_ms, the supplies below threshold (on-hand = counted + moved -
            # tubes consumed, per stock): the rest is every other figure
            "raw_count_supplies_ms": round(parts.get("supplies", 0.0), 1),
            # the same counts under the same 20-user concurrency, per page
            "raw_count_command_p95_ms": raw_c["p95"],
            "raw_count_town_p95_ms": raw_t["p95"],
            "raw_count_p95_ms": max(raw_c["p95"], raw_t["p95"]),
            "refresh_s": round(refresh_s, 2),
            # single-run raw count (both pages) / the worse page p95 (the old ratio)
            "speedup_p95": round(sum(timings) / max(command["p95"], town_["p95"]), 1),
            # like for like: each page's p95 against its own raw count's p95, both
            # under 20 concurrent users; the worse of the two
            "speedup_concurrent_p95": round(
                min(raw_c["p95"] / command["p95"], raw_t["p95"] / town_["p95"]), 1
            ),
            "same_numbers": same,
        },
        city_built_now=built,
        city_s=round(build_s, 1),
        differences={k: list(v) for k, v in list(diffs.items())[:20]},
    )
