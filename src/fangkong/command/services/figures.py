"""Refreshing the figures of the situation at a glance (one snapshot per jurisdiction/day).

`figures_refresh(day=)` computes, for every city and each of its towns, the day's figures
in ONE grouped pass per base table (grouped by the town's prefix of the row's path,
`core.paths.level_prefix_expr`), through the aggregate selectors of the apps that own the
tables (`tracing.selectors.figures`, `testing.selectors.figures`,
`quarantine.selectors.figures`, `areas.selectors`), and writes one `FigureSnapshot` row
per (path, day). The city's row is the sum of its towns' (plus rows bound to the city
itself). It runs as a job: `fangkong periodic` enqueues it, `drill outbreak` runs it at
its end, and command's "刷新" action enqueues it at once (`figures_refresh_request`).

The snapshot's shape (read only by `command.selectors.figures.situation`):

    {"scope_name", "cases": {...}, "contacts": {"close"|"secondary"|"risk": {...}},
     "pushes": {"open", "open_overdue", "on_time", "late"}, "round": {...} | None, "rechecks_due",
     "quarantine": {...}, "zones": [{id, name, level, days, since, started_on}],
     "supplies_low", "curve": {"onset": {iso: n}, "report": {iso: n}},
     "case_points": {community path: cases}, "events": [{at, kind, ...}]}
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from fangkong.accounts.permissions import require, scope_path
from fangkong.accounts.roles import Capability
from fangkong.accounts.services import audit_record
from fangkong.areas import selectors as area_selectors
from fangkong.command.models import FigureSnapshot
from fangkong.core.paths import COMMUNITY_WIDTH, TOWN_WIDTH, city_of, is_under, town_of
from fangkong.quarantine.selectors import figures as quarantine_figures
from fangkong.testing.selectors import figures as testing_figures
from fangkong.tracing.selectors import figures as tracing_figures

if TYPE_CHECKING:
    from fangkong.accounts.models import User

CASE_FIGURES = (
    "new",
    "total",
    "new_confirmed",
    "new_asymptomatic",
    "total_confirmed",
    "total_asymptomatic",
    "source_known",
    "source_unknown",
)
CONTACT_FIGURES = ("found", "pushed", "controlled_24h", "placed", "released")
PUSH_FIGURES = tracing_figures.PUSH_FIGURES
QUARANTINE_FIGURES = quarantine_figures.FIGURES
ROUND_FIGURES = ("target", "sampled", "resulted", "positives")
EVENTS_MAX = 60


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of `day` in the local time zone (Asia/Shanghai), aware."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min), tz)
    end = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min), tz)
    return start, end


def empty_figures(name: str = "") -> dict[str, Any]:
    return {
        "scope_name": name,
        "cases": dict.fromkeys(CASE_FIGURES, 0),
        "contacts": {k: dict.fromkeys(CONTACT_FIGURES, 0) for k in tracing_figures.CONTACT_CLASSES},
        "pushes": dict.fromkeys(PUSH_FIGURES, 0),
        "round": None,
        "rechecks_due": 0,
        "quarantine": dict.fromkeys(QUARANTINE_FIGURES, 0),
        "zones": [],
        "supplies_low": 0,
        "curve": {"onset": {}, "report": {}},
        "case_points": {},
        "events": [],
    }


def _owner(prefix: str, city: str, towns: set[str]) -> list[str]:
    """The snapshot paths a grouped row counts in: its town (when a known town) and
    always the city."""
    town = town_of(prefix)
    return [city, town] if town in towns else [city]


def _add_flat(
    snapshots: dict[str, dict[str, Any]],
    key: str,
    grouped: dict[str, dict[str, int]],
    city: str,
    towns: set[str],
) -> None:
    for prefix, figures in grouped.items():
        for path in _owner(prefix, city, towns):
            into = snapshots[path][key]
            for name, n in figures.items():
                into[name] = into.get(name, 0) + n


def _add_int(
    snapshots: dict[str, dict[str, Any]],
    key: str,
    grouped: dict[str, int],
    city: str,
    towns: set[str],
) -> None:
    for prefix, n in grouped.items():
        for path in _owner(prefix, city, towns):
            snapshots[path][key] += n


def _round_for(path: str, rounds: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The current screening round of `path`: the newest started round that covers it
    (a city's or its town's round) or lies within it."""
    for rnd in rounds:
        rpath = rnd["jurisdiction_path"]
        if is_under(path, rpath) or is_under(rpath, path):
            return rnd
    return None


def _city_snapshots(
    city: dict[str, str], day: dt.date, now: dt.datetime
) -> dict[str, dict[str, Any]]:
    """{path: figures} of one city and its towns, each base table read once."""
    cpath = city["path"]
    start, end = day_bounds(day)
    as_of = min(now, end)
    towns = {row["path"]: row["name"] for row in area_selectors.jurisdiction_child_rows(path=cpath)}
    town_set = set(towns)
    snapshots = {cpath: empty_figures(city["name"])}
    for path, name in towns.items():
        snapshots[path] = empty_figures(name)

    _add_flat(
        snapshots,
        "cases",
        tracing_figures.case_figures_by_prefix(
            within=cpath, width=TOWN_WIDTH, day_start=start, day_end=end
        ),
        cpath,
        town_set,
    )
    contacts = tracing_figures.contact_figures_by_prefix(within=cpath, width=TOWN_WIDTH)
    for prefix, by_class in contacts.items():
        for path in _owner(prefix, cpath, town_set):
            for key, figures in by_class.items():
                into = snapshots[path]["contacts"][key]
                for name, n in figures.items():
                    into[name] += n
    _add_flat(
        snapshots,
        "pushes",
        tracing_figures.push_figures_by_prefix(within=cpath, width=TOWN_WIDTH, now=as_of),
        cpath,
        town_set,
    )
    _add_flat(
        snapshots,
        "quarantine",
        quarantine_figures.quarantine_figures_by_prefix(within=cpath, width=TOWN_WIDTH),
        cpath,
        town_set,
    )
    _add_int(
        snapshots,
        "rechecks_due",
        testing_figures.rechecks_due_by_prefix(within=cpath, width=TOWN_WIDTH),
        cpath,
        town_set,
    )
    _add_int(
        snapshots,
        "supplies_low",
        testing_figures.supplies_low_by_prefix(within=cpath, width=TOWN_WIDTH),
        cpath,
        town_set,
    )

    # The epidemic curve, by onset and by report day (one pass each).
    for prefix, curve in tracing_figures.case_curve_by_prefix(
        within=cpath, width=TOWN_WIDTH, day_end=end
    ).items():
        for path in _owner(prefix, cpath, town_set):
            for series in ("onset", "report"):
                into = snapshots[path]["curve"][series]
                for iso, n in curve[series].items():
                    into[iso] = into.get(iso, 0) + n
    # Cases per home community: the map's de-identified points.
    for prefix, figures in tracing_figures.case_figures_by_prefix(
        within=cpath, width=COMMUNITY_WIDTH, day_start=start, day_end=end
    ).items():
        if len(prefix) != COMMUNITY_WIDTH:
            continue
        for path in _owner(prefix, cpath, town_set):
            snapshots[path]["case_points"][prefix] = figures.get("total", 0)

    # The current testing round of each jurisdiction.
    rounds = testing_figures.screening_rounds(within=cpath)
    by_round: dict[int, dict[str, dict[str, int]]] = {}
    for path in snapshots:
        rnd = _round_for(path, rounds)
        if rnd is None:
            continue
        if rnd["id"] not in by_round:
            by_round[rnd["id"]] = testing_figures.round_figures_by_prefix(
                round_id=rnd["id"], width=TOWN_WIDTH
            )
        figures = dict.fromkeys(ROUND_FIGURES, 0)
        for prefix, counts in by_round[rnd["id"]].items():
            if path == cpath or town_of(prefix) == path:
                for name in ROUND_FIGURES:
                    figures[name] += counts.get(name, 0)
        snapshots[path]["round"] = {"id": rnd["id"], "name": rnd["name"], **figures}

    # Zones in force with their day counters.
    for zone in area_selectors.zones_active_under(within=cpath):
        row = {
            "id": zone["id"],
            "name": zone["name"],
            "level": zone["level"],
            "days": zone["no_case_days"],
            "since": max((day - zone["started_on"]).days + 1, 0),
            "started_on": zone["started_on"].isoformat(),
        }
        for path in _owner(zone["jurisdiction_path"], cpath, town_set):
            snapshots[path]["zones"].append(row)

    # The day's key events, de-identified (numbers and place names only).
    events: list[tuple[str, dict[str, Any]]] = []
    for case in tracing_figures.cases_reported_between(within=cpath, start=start, end=end):
        events.append(
            (
                case["jurisdiction_path"],
                {
                    "at": case["reported_at"].isoformat(),
                    "kind": "case",
                    "id": case["id"],
                    "number": case["number"],
                    "case_kind": case["kind"],
                    "source_unknown": case["source_unknown"],
                    "town": towns.get(town_of(case["jurisdiction_path"]), ""),
                },
            )
        )
    for zone in area_selectors.zones_changed_between(
        within=cpath, start=day, end=day + dt.timedelta(days=1)
    ):
        lifted = zone["lifted_on"] == day
        events.append(
            (
                zone["jurisdiction_path"],
                {
                    "at": start.isoformat(),
                    "kind": "zone_lifted" if lifted else "zone_drawn",
                    "id": zone["id"],
                    "name": zone["name"],
                    "level": zone["level"],
                },
            )
        )
    for push in tracing_figures.pushes_late_between(within=cpath, start=start, end=as_of):
        events.append(
            (
                push["jurisdiction_path"],
                {
                    "at": push["deadline"].isoformat(),
                    "kind": "push_late",
                    "id": push["id"],
                    "number": push["number"],
                    "town": towns.get(town_of(push["jurisdiction_path"]), ""),
                },
            )
        )
    events.sort(key=lambda e: e[1]["at"])
    for path_of_event, event in events:
        for path in _owner(path_of_event, cpath, town_set):
            if len(snapshots[path]["events"]) < EVENTS_MAX:
                snapshots[path]["events"].append(event)
    return snapshots


def figures_refresh(*, day: dt.date | None = None, now: dt.datetime | None = None) -> int:
    """Recompute and store the figures of `day` (default today, Asia/Shanghai) for every
    city and its towns; returns the number of snapshot rows written. Idempotent: a second
    run replaces the day's rows (the job may run as often as wanted)."""
    now = now or timezone.now()
    day = day or timezone.localdate(now)
    written = 0
    for city in area_selectors.city_rows():
        snapshots = _city_snapshots(city, day, now)
        rows = [
            FigureSnapshot(path=path, day=day, computed_at=now, figures=figures)
            for path, figures in snapshots.items()
        ]
        with transaction.atomic():
            FigureSnapshot.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["path", "day"],
                update_fields=["computed_at", "figures"],
            )
        written += len(rows)
    return written


def figures_refresh_request(*, actor: User) -> Any:
    """Command's "刷新": enqueue the refresh job at once (audited); returns the enqueued
    task's result handle."""
    from fangkong.command.tasks import figures_refresh_job

    require(actor, Capability.FIGURES_REFRESH)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="figures.refresh",
            object_type="figures",
            jurisdiction_path=city_of(scope_path(actor)),
        )
    return figures_refresh_job.enqueue()
