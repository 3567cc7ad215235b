"""The situation at a glance after the drill's days: every figure equals a direct count
of the base tables, for command (the city) and for a town (its own rows only)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fangkong.accounts.roles import Role
from fangkong.areas.models import Jurisdiction, Zone, ZoneState
from fangkong.command.models import FigureSnapshot
from fangkong.command.selectors.figures import situation
from fangkong.command.services.figures import day_bounds, figures_refresh
from fangkong.core.errors import PermissionDenied
from fangkong.core.paths import town_of, under
from fangkong.drill.city import drill_city_build
from fangkong.drill.outbreak import LAST_DAY, drill_outbreak
from fangkong.quarantine.models import Placement, Room
from fangkong.testing.models import Recheck, ResultValue, RoundTarget, Sample, TubeResult
from fangkong.tracing.models import Case, Contact, PushItem, VerificationPush

pytestmark = pytest.mark.django_db

CLASSES = {"close": "close", "secondary": "secondary", "risk": "co_presence"}


@pytest.fixture
def played(db: None) -> Any:
    city = drill_city_build(population=1500, days=5, seed=11).drill_city
    drill_outbreak(through_day=LAST_DAY)
    return city


def _direct(prefix: str, day: dt.date, now: dt.datetime) -> dict[str, Any]:
    """The figures counted straight from the base tables under `prefix` (a city or a
    town), with the definitions of `command.selectors.figures.situation`."""
    start, end = day_bounds(day)
    cases = Case.objects.filter(under("jurisdiction_path", prefix), reported_at__lt=end)
    new = cases.filter(reported_at__gte=start)
    contacts: dict[str, dict[str, int]] = {}
    for key, code in CLASSES.items():
        of_class = Contact.objects.filter(under("jurisdiction_path", prefix), classification=code)
        items = PushItem.objects.filter(
            under("jurisdiction_path", prefix), contact__classification=code
        )
        contacts[key] = {
            "found": of_class.count(),
            "pushed": items.values("contact_id").distinct().count(),
            "controlled_24h": items.filter(
                status__in=("centralised", "home", "hospital"),
                marked_at__lte=F("push__created_at") + dt.timedelta(hours=24),
            )
            .values("contact_id")
            .distinct()
            .count(),
            "placed": of_class.filter(status="controlled").count(),
            "released": of_class.filter(status="released").count(),
        }
    pushes = VerificationPush.objects.filter(under("jurisdiction_path", prefix))
    rooms = Room.objects.filter(under("site__jurisdiction_path", prefix))
    active_rooms = set(
        Placement.objects.filter(status="active", room__isnull=False).values_list(
            "room_id", flat=True
        )
    )
    occupied_ids = set(rooms.filter(state="occupied").values_list("pk", flat=True))
    placements = Placement.objects.filter(under("jurisdiction_path", prefix))
    return {
        "cases": {
            "new": new.count(),
            "total": cases.count(),
            "new_confirmed": new.filter(kind="confirmed").count(),
            "new_asymptomatic": new.filter(kind="asymptomatic").count(),
            "total_confirmed": cases.filter(kind="confirmed").count(),
            "total_asymptomatic": cases.filter(kind="asymptomatic").count(),
            "source_known": cases.filter(source_unknown=False).count(),
            "source_unknown": cases.filter(source_unknown=True).count(),
        },
        "contacts": contacts,
        "pushes": {
            "open": pushes.filter(status="open").count(),
            "on_time": pushes.filter(status="done", completed_at__lte=F("deadline")).count(),
            "late": pushes.filter(status="done", completed_at__gt=F("deadline")).count(),
            "open_overdue": pushes.filter(status="open", deadline__lt=now).count(),
        },
        "rechecks_due": Recheck.objects.filter(
            under("jurisdiction_path", prefix), status__in=("pending", "sampled")
        ).count(),
        "quarantine": {
            "rooms": rooms.exclude(state="out_of_service").count(),
            "occupied": len(occupied_ids & active_rooms),
            "reserved": len(occupied_ids - active_rooms),
            "free": rooms.filter(state="ready").count(),
            "placed": placements.filter(status__in=("planned", "in_transit", "active")).count(),
            "released": placements.filter(status="released").count(),
        },
        "zones": set(
            Zone.objects.filter(
                under("jurisdiction_path", prefix), state=ZoneState.ACTIVE
            ).values_list("pk", flat=True)
        ),
        "onset": dict(
            cases.filter(onset_date__isnull=False)
            .values_list("onset_date")
            .annotate(n=Count("id"))
            .values_list("onset_date", "n")
        ),
        "report_days": {
            timezone.localtime(at).date() for at in cases.values_list("reported_at", flat=True)
        },
    }


def _round_direct(round_id: int, prefix: str) -> dict[str, int]:
    samples = Sample.objects.filter(under("jurisdiction_path", prefix), round_id=round_id)
    positive_tubes = TubeResult.objects.filter(
        round_id=round_id, result=ResultValue.POSITIVE, tube__pool_size=1
    ).values("tube_id")
    resulted_tubes = TubeResult.objects.values("tube_id")
    return {
        "target": RoundTarget.objects.filter(
            under("jurisdiction_path", prefix), round_id=round_id
        ).count(),
        "sampled": samples.filter(walk_in=False).values("person_id").distinct().count(),
        "resulted": samples.filter(walk_in=False, tube_id__in=resulted_tubes)
        .values("person_id")
        .distinct()
        .count(),
        "positives": samples.filter(tube_id__in=positive_tubes)
        .values("person_id")
        .distinct()
        .count(),
    }


def _assert_equal(figures: dict[str, Any], direct: dict[str, Any], day: dt.date) -> None:
    assert figures["cases"] == direct["cases"]
    assert figures["contacts"] == direct["contacts"]
    assert figures["pushes"] == direct["pushes"]
    assert figures["testing"]["rechecks_due"] == direct["rechecks_due"]
    assert figures["quarantine"] == direct["quarantine"]
    assert {z["id"] for z in figures["zones"]} == direct["zones"]
    assert sum(figures["zones_by_level"].values()) == len(direct["zones"])
    curve = figures["curve"]
    onset = {d: n for d, n in zip(curve["dates"], curve["onset"], strict=True) if n}
    assert onset == {d.isoformat(): n for d, n in direct["onset"].items()}
    assert sum(curve["report"]) == direct["cases"]["total"]
    reported = {d for d, n in zip(curve["dates"], curve["report"], strict=True) if n}
    assert reported == {d.isoformat() for d in direct["report_days"]}
    assert figures["day"] == day


def _town_with_cases(city_path: str) -> tuple[str, str]:
    """The town with the most cases, and another town."""
    by_town: dict[str, int] = {}
    for path in Case.objects.filter(under("jurisdiction_path", city_path)).values_list(
        "jurisdiction_path", flat=True
    ):
        by_town[town_of(path)] = by_town.get(town_of(path), 0) + 1
    busiest = max(by_town, key=lambda t: by_town[t])
    towns = Jurisdiction.objects.filter(level="town", parent__path=city_path).order_by("path")
    other = next(t.path for t in towns if t.path != busiest)
    return busiest, other


def test_figures_equal_direct_counts_for_command_and_a_town(played: Any, make_user: Any) -> None:
    city = Jurisdiction.objects.filter(level="city").order_by("path").first()
    now = timezone.now()
    day = timezone.localdate(now)
    figures_refresh(day=day, now=now)
    command = make_user(Role.COMMAND, city)
    busiest, other = _town_with_cases(city.path)
    town_user = make_user(Role.TOWN_STAFF, Jurisdiction.objects.get(path=busiest))
    other_user = make_user(Role.TOWN_STAFF, Jurisdiction.objects.get(path=other))

    city_figures = situation(user=command, day=day)
    town_figures = situation(user=town_user, day=day)
    other_figures = situation(user=other_user, day=day)

    # The drill played cases, contacts, pushes, rounds, rechecks and placements.
    assert city_figures["cases"]["total"] >= 2
    assert city_figures["contacts"]["close"]["found"] > 0
    assert city_figures["contacts"]["close"]["pushed"] > 0
    assert city_figures["quarantine"]["rooms"] > 0
    assert city_figures["testing"]["round"] is not None
    _assert_equal(city_figures, _direct(city.path, day, now), day)
    _assert_equal(town_figures, _direct(busiest, day, now), day)
    _assert_equal(other_figures, _direct(other, day, now), day)
    assert city_figures["scope_path"] == city.path
    assert town_figures["scope_path"] == busiest
    assert town_figures["scope_name"] == Jurisdiction.objects.get(path=busiest).name
    # A town sees only its own: its cases are not the other town's, and its case points
    # are all in its own communities.
    assert town_figures["cases"]["total"] > 0
    assert (
        town_figures["cases"]["total"] < city_figures["cases"]["total"]
        or not Case.objects.exclude(under("jurisdiction_path", busiest)).exists()
    )
    assert all(town_of(p) == busiest for p in town_figures["case_points"])
    assert all(town_of(p) == other for p in other_figures["case_points"])
    case_numbers = set(
        Case.objects.filter(under("jurisdiction_path", busiest)).values_list("number", flat=True)
    )
    for event in other_figures["events"]:
        assert not any(number in event["text"] for number in case_numbers)
    # The round's progress, for the city and for the town.
    rnd = city_figures["testing"]["round"]
    city_round = {k: rnd[k] for k in ("target", "sampled", "resulted", "positives")}
    assert city_round == _round_direct(rnd["id"], city.path)
    trnd = town_figures["testing"]["round"]
    assert trnd is not None
    town_round = {k: trnd[k] for k in ("target", "sampled", "resulted", "positives")}
    assert town_round == _round_direct(trnd["id"], busiest)
    # Towns add up to the city (nothing counted twice or lost).
    town_paths = [t.path for t in Jurisdiction.objects.filter(level="town", parent__path=city.path)]
    rows = {r.path: r.figures for r in FigureSnapshot.objects.filter(day=day, path__in=town_paths)}
    assert sum(r["cases"]["total"] for r in rows.values()) == city_figures["cases"]["total"]
    assert sum(r["pushes"]["open"] for r in rows.values()) == city_figures["pushes"]["open"]


def test_the_pages_show_the_figures_and_count_no_base_table(
    played: Any, make_user: Any, client: Any
) -> None:
    city = Jurisdiction.objects.filter(level="city").order_by("path").first()
    figures_refresh()
    command = make_user(Role.COMMAND, city)
    busiest, other = _town_with_cases(city.path)
    town_user = make_user(Role.TOWN_STAFF, Jurisdiction.objects.get(path=busiest))
    expected = situation(user=command)
    client.force_login(command)

    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("command:dashboard"))

    assert page.status_code == 200
    html = page.content.decode()
    # No base table is counted per request: only the snapshot (and the shell's reads).
    counted = [
        q["sql"]
        for q in queries.captured_queries
        if re.search(r'"(tracing|testing|quarantine)_', q["sql"])
    ]
    assert counted == []
    assert len(queries.captured_queries) <= 25
    total = re.search(r'data-figure="cases-total">.*?<a href="([^"]+)">(\d+)</a>', html, re.S)
    assert total and int(total.group(2)) == expected["cases"]["total"]
    assert "/tracing/cases/?until=" in total.group(1)
    assert 'id="epi-curve"' in html and 'data-testid="zone-map"' in html
    assert "数据截至" in html
    # The home page is the same dashboard for command.
    home = client.get("/")
    assert 'data-figure="cases-total"' in home.content.decode()
    # The town's page: its own town, its own numbers.
    client.force_login(town_user)
    town_page = client.get(reverse("command:dashboard")).content.decode()
    town_total = re.search(
        r'data-figure="cases-total">.*?<a href="[^"]+">(\d+)</a>', town_page, re.S
    )
    assert town_total and int(town_total.group(1)) == situation(user=town_user)["cases"]["total"]
    assert f"指挥大屏 · {Jurisdiction.objects.get(path=busiest).name}" in town_page
    assert f"指挥大屏 · {Jurisdiction.objects.get(path=other).name}" not in town_page
    assert 'data-testid="figures-refresh"' not in town_page  # command's action only


def test_wrong_roles_and_scopes_are_refused(tree: Any, make_user: Any, client: Any) -> None:
    for role, where in (
        (Role.LAB, tree.city),
        (Role.SAMPLER, tree.community_a),
        (Role.COMMUNITY_WORKER, tree.community_a),
        (Role.SITE_STAFF, tree.town_a),
    ):
        user = make_user(role, where)
        with pytest.raises(PermissionDenied):
            situation(user=user)
        client.force_login(user)
        assert client.get(reverse("command:dashboard")).status_code == 403
    # dashboard.view but bound below a town: refused too (the figures are the city's and
    # the towns').
    investigator = make_user(Role.INVESTIGATOR, tree.community_a)
    with pytest.raises(PermissionDenied) as refused:
        situation(user=investigator)
    assert refused.value.code == "dashboard_scope"


def test_refresh_is_commands_job_and_audited(
    tree: Any, command_user: Any, town_a_user: Any, client: Any
) -> None:
    from fangkong.accounts.models import AuditEvent

    client.force_login(town_a_user)
    assert client.post(reverse("command:figures_refresh")).status_code == 403
    assert not FigureSnapshot.objects.exists()

    client.force_login(command_user)
    response = client.post(reverse("command:figures_refresh"))

    assert response.status_code == 302
    day = timezone.localdate()
    paths = set(FigureSnapshot.objects.filter(day=day).values_list("path", flat=True))
    assert {tree.city.path, tree.town_a.path, tree.town_b.path} <= paths
    assert AuditEvent.objects.filter(action="figures.refresh", actor=command_user).count() == 1
    assert client.get(reverse("command:figures_refresh")).status_code == 405


def test_periodic_enqueues_the_refresh(tree: Any) -> None:
    from django.core.management import call_command

    call_command("periodic")

    assert FigureSnapshot.objects.filter(path=tree.town_a.path, day=timezone.localdate()).exists()


def test_a_town_sees_only_its_own_cases(
    tree: Any, town_a_user: Any, town_b_user: Any, command_user: Any
) -> None:
    from fangkong.testkit import tracing as tracing_kit

    now = timezone.now()
    tracing_kit.case_in(tree.community_a, reported_at=now - dt.timedelta(hours=1))
    tracing_kit.case_in(
        tree.community_a, "李四", reported_at=now - dt.timedelta(hours=2), kind="confirmed"
    )
    tracing_kit.case_in(tree.community_b, "赵六", reported_at=now - dt.timedelta(days=1))
    figures_refresh(now=now)

    a = situation(user=town_a_user)
    b = situation(user=town_b_user)
    city = situation(user=command_user)

    assert (a["cases"]["new"], a["cases"]["total"], a["cases"]["new_confirmed"]) == (2, 2, 1)
    assert (b["cases"]["new"], b["cases"]["total"]) == (0, 1)
    assert (city["cases"]["new"], city["cases"]["total"]) == (2, 3)
    assert len(a["events"]) == 2 and b["events"] == []
    assert set(a["case_points"]) == {tree.community_a.path}
    assert set(b["case_points"]) == {tree.community_b.path}
    assert a["computed_at"] == now


def test_a_reload_reads_the_kept_figures_and_a_new_snapshot_shows_at_once(
    tree: Any, make_user: Any, client: Any
) -> None:
    """The rendered figures are kept per scope, day, snapshot and language: a reload reads
    only the snapshots' stamps, never the figures again; a new snapshot (refresh) is on
    the next page; another scope never gets them."""
    now = timezone.now()
    figures_refresh(now=now)
    command = make_user(Role.COMMAND, tree.city)
    town_user = make_user(Role.TOWN_STAFF, tree.town_a)
    client.force_login(command)
    url = reverse("command:dashboard")

    def snapshot_reads() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            page = client.get(url)
        assert page.status_code == 200
        reads = [q for q in queries.captured_queries if "command_figuresnapshot" in q["sql"]]
        return len(reads), page.content.decode()

    first, _page = snapshot_reads()
    again, html_again = snapshot_reads()
    assert (first, again) == (2, 1)  # the stamps and the figures; then the stamps only
    assert 'data-figure="cases-total"' in html_again
    # A new snapshot of the city (what the job writes): its figures are on the next page.
    row = FigureSnapshot.objects.get(path=tree.city.path, day=timezone.localdate(now))
    row.figures["cases"]["total"] = 4321
    row.computed_at = now + dt.timedelta(minutes=5)
    row.save(update_fields=["figures", "computed_at"])
    reads, fresh = snapshot_reads()
    assert reads == 2
    assert re.search(r'data-figure="cases-total">.*?<a href="[^"]+">4321</a>', fresh, re.S)
    # The town's page is its own, not the city's kept figures.
    client.force_login(town_user)
    town_page = client.get(url).content.decode()
    assert not re.search(r'data-figure="cases-total">.*?<a href="[^"]+">4321</a>', town_page, re.S)
    assert f"指挥大屏 · {tree.town_a.name}" in town_page
