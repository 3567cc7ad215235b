"""bench dashboard: the situation at a glance for command and for a town, 20 users at once.

Product path: the drill city (`--population` persons, `--days` days of scans, started so
that the reference outbreak's last day is yesterday) with the outbreak played through the
real services (`drill city --start auto`, `drill outbreak`, which refreshes command's
figures at its end); the figures refreshed once more (`refresh_s`, every city and town in
one grouped pass per base table); then `--users` concurrent users (threads, one
connection each, Django's test client: real requests through the whole middleware stack)
each GET the command page (`command:dashboard`, a command user) and a town's page (the
town with the most cases, a town staff user) `--requests` times:
`command_p50_ms`, `command_p95_ms`, `town_p50_ms`, `town_p95_ms`.

Baseline (same run): the same figures of the city and of the town counted straight from
the base tables by raw SQL (cases, contacts, push items, pushes, rechecks, rooms,
placements, the round's targets, samples and results): `raw_count_ms`; `same_numbers` is
true when the pages' figures (read from the HTML) equal these counts.

Run it on a PostgreSQL database of its own (DATABASE_URL=.../bench_dashboard), never a
test database: the drill city is built there once and reused while its population is
the one asked for.
"""

from __future__ import annotations

import argparse
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

    city = DrillCity.objects.order_by("-pk").first()
    started = time.perf_counter()
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


def _users(city_path: str, town_path: str) -> tuple[Any, Any]:
    from fangkong.accounts.models import User
    from fangkong.accounts.roles import Role
    from fangkong.areas.models import Jurisdiction

    users = []
    for name, role, path in (
        ("bench-dashboard-command", Role.COMMAND, city_path),
        ("bench-dashboard-town", Role.TOWN_STAFF, town_path),
    ):
        place = Jurisdiction.objects.get(path=path)
        user, _ = User.objects.update_or_create(
            username=name, defaults={"role": role, "jurisdiction": place, "scope_path": path}
        )
        users.append(user)
    return users[0], users[1]


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


RAW_SQL = """
SELECT
  (SELECT count(*) FROM tracing_case c WHERE {c} AND c.reported_at < %(end)s),
  (SELECT count(*) FROM tracing_case c WHERE {c} AND c.reported_at >= %(start)s
     AND c.reported_at < %(end)s),
  (SELECT count(*) FROM tracing_case c WHERE {c} AND c.reported_at < %(end)s
     AND c.kind = 'confirmed'),
  (SELECT count(*) FROM tracing_case c WHERE {c} AND c.reported_at < %(end)s
     AND c.source_unknown),
  (SELECT count(*) FROM tracing_contact c WHERE {c} AND c.classification = 'close'),
  (SELECT count(DISTINCT i.contact_id) FROM tracing_pushitem i
     JOIN tracing_contact k ON k.id = i.contact_id
     WHERE {i} AND k.classification = 'close'),
  (SELECT count(DISTINCT i.contact_id) FROM tracing_pushitem i
     JOIN tracing_contact k ON k.id = i.contact_id
     JOIN tracing_verificationpush p ON p.id = i.push_id
     WHERE {i} AND k.classification = 'close'
       AND i.status IN ('centralised', 'home', 'hospital')
       AND i.marked_at <= p.created_at + interval '24 hours'),
  (SELECT count(*) FROM tracing_contact c WHERE {c} AND c.classification = 'close'
     AND c.status = 'controlled'),
  (SELECT count(*) FROM tracing_verificationpush c WHERE {c} AND c.status = 'open'),
  (SELECT count(*) FROM tracing_verificationpush c WHERE {c} AND
     c.status = 'done' AND c.completed_at > c.deadline),
  (SELECT count(*) FROM testing_recheck c WHERE {c} AND c.status IN ('pending', 'sampled')),
  (SELECT count(*) FROM quarantine_room r JOIN quarantine_site s ON s.id = r.site_id
     WHERE s.jurisdiction_path >= %(lo)s AND s.jurisdiction_path < %(hi)s
       AND r.state <> 'out_of_service'),
  (SELECT count(*) FROM quarantine_placement c WHERE {c}
     AND c.status IN ('planned', 'in_transit', 'active')),
  (SELECT count(*) FROM testing_roundtarget c WHERE {c} AND c.round_id = %(round)s),
  (SELECT count(DISTINCT c.person_id) FROM testing_sample c WHERE {c}
     AND c.round_id = %(round)s AND NOT c.walk_in)
"""
RAW_FIGURES = (
    "cases-total",
    "cases-new",
    "cases-total-confirmed",
    "cases-source-unknown",
    "close-found",
    "close-pushed",
    "close-controlled_24h",
    "close-placed",
    "pushes-open",
    "pushes-late",
    "rechecks-due",
    "rooms",
    "placed",
    "round-target",
    "round-sampled",
)


def raw_counts(prefix: str, round_id: int, start: Any, end: Any, now: Any) -> dict[str, int]:
    """The figures of `prefix` (a city or a town) counted from the base tables."""
    from django.db import connection

    from fangkong.core.paths import path_upper_bound

    c = "c.jurisdiction_path >= %(lo)s AND c.jurisdiction_path < %(hi)s"
    i = "i.jurisdiction_path >= %(lo)s AND i.jurisdiction_path < %(hi)s"
    params = {
        "lo": prefix,
        "hi": path_upper_bound(prefix),
        "start": start,
        "end": end,
        "now": now,
        "round": round_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(RAW_SQL.format(c=c, i=i), params)
        row = cursor.fetchone()
    return dict(zip(RAW_FIGURES, (int(v) for v in row), strict=True))


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


def _hammer(user: Any, url: str, users: int, requests: int) -> tuple[list[float], str]:
    """`users` threads, each its own client (logged in) and connection, GET `url`
    `requests` times after one warm-up; the latencies in ms and one page's HTML."""
    from django.db import connection
    from django.test import Client

    latencies: list[float] = []
    pages: list[str] = []
    lock = threading.Lock()
    errors: list[str] = []
    barrier = threading.Barrier(users)

    def work() -> None:
        try:
            client = Client()
            client.force_login(user)
            first = client.get(url)
            if first.status_code != 200:
                errors.append(f"{url}: {first.status_code}")
                return
            barrier.wait()
            mine = []
            for _ in range(requests):
                started = time.perf_counter()
                response = client.get(url)
                mine.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    errors.append(f"{url}: {response.status_code}")
            with lock:
                latencies.extend(mine)
                if not pages:
                    pages.append(first.content.decode())
        except threading.BrokenBarrierError:
            errors.append("barrier broken")
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError("; ".join(errors[:5]))
    return latencies, pages[0]


def run(options: dict[str, Any], log: Log) -> dict[str, Any]:
    from django.urls import reverse
    from django.utils import timezone

    from fangkong.areas import selectors as area_selectors
    from fangkong.command.selectors.figures import situation
    from fangkong.command.services.figures import day_bounds, figures_refresh
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
    log("refreshing the figures")
    started = time.perf_counter()
    rows = figures_refresh(now=now)
    refresh_s = time.perf_counter() - started

    town_path = _busiest_town(city_path)
    command, town = _users(city_path, town_path)
    url = reverse("command:dashboard")
    log(f"{options['users']} users x {options['requests']} requests: command page")
    command_ms, command_html = _hammer(command, url, options["users"], options["requests"])
    log(f"{options['users']} users x {options['requests']} requests: town page ({town_path})")
    town_ms, town_html = _hammer(town, url, options["users"], options["requests"])

    start, end = day_bounds(timezone.localdate(now))
    city_round = situation(user=command)["testing"]["round"]
    town_round = situation(user=town)["testing"]["round"]
    started = time.perf_counter()
    raw_city = raw_counts(city_path, city_round["id"] if city_round else 0, start, end, now)
    raw_town = raw_counts(town_path, town_round["id"] if town_round else 0, start, end, now)
    raw_count_ms = (time.perf_counter() - started) * 1000
    page_city = page_figures(command_html) if city_round else {}
    page_town = page_figures(town_html) if town_round else {}
    same = bool(page_city) and page_city == raw_city and page_town == raw_town
    differences = {
        k: (page_city.get(k), raw_city[k]) for k in raw_city if page_city.get(k) != raw_city[k]
    } | {
        f"town:{k}": (page_town.get(k), raw_town[k])
        for k in raw_town
        if page_town.get(k) != raw_town[k]
    }

    command_p95 = _percentile(command_ms, 0.95)
    town_p95 = _percentile(town_ms, 0.95)
    return result(
        "dashboard",
        scale={
            "persons": persons,
            "users": options["users"],
            "requests_per_user": options["requests"],
            "cases": raw_city["cases-total"],
            "close_contacts": raw_city["close-found"],
            "snapshot_rows": rows,
        },
        metrics={
            "command_p50_ms": round(statistics.median(command_ms), 1),
            "command_p95_ms": round(command_p95, 1),
            "town_p50_ms": round(statistics.median(town_ms), 1),
            "town_p95_ms": round(town_p95, 1),
            "raw_count_ms": round(raw_count_ms, 1),
            "refresh_s": round(refresh_s, 2),
            "speedup_p95": round(raw_count_ms / max(command_p95, town_p95), 1),
            "same_numbers": same,
        },
        city_built_now=built,
        city_s=round(build_s, 1),
        differences=differences,
    )
