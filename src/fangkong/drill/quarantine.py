"""Quarantine (隔离管控) in the reference outbreak, played on every drill day through
quarantine's services under the drill clock (decision 0006).

Each day, in the order it happens:

- a case whose lists went to the towns has its close and secondary contacts placed in one
  action an hour later (`placements_create_for_case`, by command): close contacts in the
  drill city's sites (households share multi-person rooms), secondary contacts at home;
- a contact the town has located (its pushed item marked) is transferred from home to
  the site by the town (transfer created, departed, arrived) and checked in by the site's
  staff; one not found stays planned, on the town's list;
- site staff record the twice-daily health checks (08:00, 15:00) of everyone checked in;
- the tests due are taken at the site at 08:30 (one a person a day: the earliest still
  missing), single tubes packed for a lab at 09:00; the lab receives the box and imports
  the results at 13:30 (all negative but one, below); urgent tests after a fever go the
  same way in the afternoon;
- on day 3 two persons have a fever at the afternoon check: an alert, an urgent test
  (negative, the night's import) and a transfer to hospital that is cancelled when the
  site doctor handles the alert the next morning;
- on day 5 one close contact of the first case has a fever and a cough at the morning
  check: the urgent test taken at the site is positive in the day's import, which makes
  the third case (tracing, the system account); the person goes to hospital and the
  investigators link the case to the first;
- from the end of their quarantine (the rule set's days after the last exposure) those
  whose every test is negative are released at 16:00 with a certificate and handed to
  their community for home health monitoring;
- community workers check on the persons at home (home quarantine, home monitoring)
  at 10:00, a few missed; the next morning the periodic job closes home measures that
  ended.

Nothing is written later than the next morning's 06:00 (outbreak.DAY_WRITES_UNTIL).
Deterministic for the city's seed: who has a fever, who is positive, who is missed.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal
from typing import Any

from fangkong.accounts.models import User
from fangkong.accounts.roles import Role
from fangkong.areas.models import Jurisdiction, Place, PlaceKind
from fangkong.core.errors import Conflict
from fangkong.core.paths import community_of, town_of, under
from fangkong.drill.clock import drill_clock
from fangkong.drill.models import DrillCity
from fangkong.drill.scenario import WUZHEN, at, drill_actor
from fangkong.quarantine.bulk import home_checkins_bulk_create
from fangkong.quarantine.choices import (
    AlertKind,
    AlertState,
    Measure,
    PlacementStatus,
    TestKind,
    TestResult,
    TransferKind,
    TransferStatus,
)
from fangkong.quarantine.models import HealthAlert, Placement, PlacementTest, Site, Transfer
from fangkong.quarantine.services import care as care_services
from fangkong.quarantine.services import placements as placement_services
from fangkong.testing.models import ResultValue, TransportBox
from fangkong.testing.services import boxes as box_services
from fangkong.testing.services import results as result_services
from fangkong.tracing.models import Case, CaseLink, PushItem, PushItemStatus, VerificationPush
from fangkong.tracing.services import cases as case_services
from fangkong.tracing.services import chains as chain_services

FEVER_DAY = 3  # two persons with a fever at the afternoon check (urgent tests negative)
FEVERS = 2
POSITIVE_DAY = 5  # one close contact positive at the site: the third case
PLACE_AFTER_PUSH = dt.timedelta(hours=1)
HOME_MISSED_SHARE = 0.05  # home check-ins missed (shown on the community's list)
NORMAL_TEMPERATURES = ("36.2", "36.3", "36.4", "36.5", "36.5", "36.6", "36.6", "36.7", "36.8")
HOME_MEASURES = (Measure.HOME_QUARANTINE, Measure.HOME_MONITORING)
HOME_NOTE = "电话随访，无不适"
# Above this many persons at home on a day, their check-ins go in bulk (a big city).
HOME_SERVICE_LIMIT = 1000


class _Staff:
    """The drill's accounts for quarantine: command, the towns, each site's staff, the
    labs and the community workers (made on first use)."""

    def __init__(self, root: Jurisdiction) -> None:
        self.root = root
        self.command = drill_actor("drill-command", Role.COMMAND, root)
        self._sites: dict[int, User] = {}
        self._towns: dict[str, User] = {}
        self._communities: dict[str, User] = {}
        self._labs: dict[int, User] = {}
        self.labs = list(
            Place.objects.filter(under("jurisdiction_path", root.path), kind=PlaceKind.LAB)
            .select_related("jurisdiction")
            .order_by("pk")
        )

    def site(self, site: Site | None) -> User:
        if site is None:  # only placements at a site are handed to a site's staff
            raise ValueError("a placement at home has no site staff")
        if site.pk not in self._sites:
            place = Place.objects.select_related("jurisdiction").get(pk=site.place_id)
            self._sites[site.pk] = drill_actor(
                f"drill-site-{place.pk}", Role.SITE_STAFF, place.jurisdiction, place
            )
        return self._sites[site.pk]

    def town(self, path: str) -> User:
        town_path = town_of(path)
        if town_path not in self._towns:
            town = Jurisdiction.objects.get(path=town_path)
            self._towns[town_path] = drill_actor(
                f"drill-town-{town_path[-3:]}", Role.TOWN_STAFF, town
            )
        return self._towns[town_path]

    def community(self, path: str) -> User:
        c_path = community_of(path)
        if c_path not in self._communities:
            community = Jurisdiction.objects.get(path=c_path)
            self._communities[c_path] = drill_actor(
                f"drill-community-{c_path[-6:]}", Role.COMMUNITY_WORKER, community
            )
        return self._communities[c_path]

    def lab_for(self, site: Site) -> Place:
        return self.labs[site.pk % len(self.labs)]

    def lab_user(self, lab: Place) -> User:
        if lab.pk not in self._labs:
            self._labs[lab.pk] = drill_actor(f"drill-lab-{lab.pk}", Role.LAB, lab.jurisdiction, lab)
        return self._labs[lab.pk]


def _temperature(rnd: random.Random) -> str:
    return rnd.choice(NORMAL_TEMPERATURES)


# --- placements and arrivals ------------------------------------------------------------


def _place_new_cases(staff: _Staff) -> dict[str, int]:
    """Each case whose lists went to the towns and whose contacts are not placed yet:
    its close and secondary contacts placed in one action, an hour after its lists."""
    out: dict[str, int] = defaultdict(int)
    for case in Case.objects.order_by("pk"):
        pushed = VerificationPush.objects.filter(case=case).order_by("-created_at").first()
        if pushed is None:
            continue
        contact_ids = list(
            PushItem.objects.filter(push__case=case).values_list("contact_id", flat=True)
        )
        if Placement.objects.filter(contact_id__in=contact_ids).exists():
            continue
        with drill_clock(pushed.created_at + PLACE_AFTER_PUSH):
            try:
                result = placement_services.placements_create_for_case(
                    actor=staff.command, case=case
                )
            except Conflict as exc:
                out[f"refused_{exc.code}"] += 1
                continue
        out["placed"] += len(result.placements)
        out["centralised"] += result.centralised
        out["at_home"] += result.at_home
        out["rooms_taken"] += result.rooms_taken
    return dict(out)


def _vehicle(placement: Placement) -> str:
    """A transfer vehicle's plate (嘉兴: 浙F), one per site and batch of persons."""
    return f"浙F{(placement.site_id or 0) * 100 + placement.pk % 20:05d}"


def _arrivals(staff: _Staff, until: dt.datetime) -> dict[str, int]:
    """Persons the towns have located are taken to their site and checked in: the town's
    transfer is created 10 minutes after the person was found, leaves 20 minutes later
    and arrives in an hour; the site's staff check the person in 10 minutes after.
    Every step up to `until` (a later one waits for the next day)."""
    waiting = list(
        Placement.objects.filter(
            measure=Measure.CENTRALISED,
            status__in=[PlacementStatus.PLANNED, PlacementStatus.IN_TRANSIT],
            contact__isnull=False,
        )
        .select_related("site", "person__household")
        .order_by("pk")
    )
    found: dict[int | None, dt.datetime] = {}
    for contact_id, marked_at in (
        PushItem.objects.filter(
            contact_id__in=[p.contact_id for p in waiting], marked_at__isnull=False
        )
        .exclude(status__in=[PushItemStatus.NOT_FOUND, PushItemStatus.OUTSIDE])
        .order_by("marked_at")
        .values_list("contact_id", "marked_at")
    ):
        if marked_at is not None:
            found.setdefault(contact_id, marked_at)
    counts: dict[str, int] = defaultdict(int)
    for placement in waiting:
        located = found.get(placement.contact_id)
        if located is None:
            continue
        start = max(located, placement.created_at)
        town = staff.town(placement.jurisdiction_path)
        transfer = (
            Transfer.objects.filter(placement=placement, kind=TransferKind.TO_SITE)
            .exclude(status=TransferStatus.CANCELLED)
            .first()
        )
        steps = (
            (dt.timedelta(minutes=10), "create"),
            (dt.timedelta(minutes=30), "depart"),
            (dt.timedelta(minutes=90), "arrive"),
            (dt.timedelta(minutes=100), "check_in"),
        )
        for offset, step in steps:
            moment = start + offset
            if moment > until:
                break
            with drill_clock(moment):
                if step == "create" and transfer is None:
                    transfer = placement_services.transfer_create(
                        actor=town,
                        placement=placement,
                        vehicle=_vehicle(placement),
                        planned_at=moment + dt.timedelta(minutes=20),
                    )
                    counts["transfers"] += 1
                elif step == "depart" and transfer and transfer.status == TransferStatus.WAITING:
                    transfer = placement_services.transfer_depart(actor=town, transfer=transfer)
                elif step == "arrive" and transfer and transfer.status == TransferStatus.EN_ROUTE:
                    transfer = placement_services.transfer_arrive(actor=town, transfer=transfer)
                elif step == "check_in":
                    care_services.placement_check_in(
                        actor=staff.site(placement.site), placement=placement
                    )
                    counts["checked_in"] += 1
    return dict(counts)


# --- health checks, tests and alerts ------------------------------------------------------


def _in_sites(moment: dt.datetime) -> list[Placement]:
    """Everyone checked in at a site by `moment` and still there."""
    return list(
        Placement.objects.filter(
            measure=Measure.CENTRALISED,
            status=PlacementStatus.ACTIVE,
            checked_in_at__lte=moment,
        )
        .select_related("site")
        .order_by("site_id", "pk")
    )


def _checks(
    rnd: random.Random,
    staff: _Staff,
    moment: dt.datetime,
    slot: str,
    unwell: dict[int, tuple[str, list[str]]],
) -> int:
    """One round of health checks by each site's staff (a minute apart, by site)."""
    done = 0
    by_site: dict[int | None, int] = defaultdict(int)
    for placement in _in_sites(moment):
        n = by_site[placement.site_id]
        by_site[placement.site_id] += 1
        temperature, symptoms = unwell.get(placement.pk, (_temperature(rnd), []))
        with drill_clock(moment + dt.timedelta(seconds=40 * n)):
            try:
                care_services.health_check_record(
                    actor=staff.site(placement.site),
                    placement=placement,
                    slot=slot,
                    temperature=temperature,
                    symptoms=symptoms,
                )
            except Conflict:  # recorded already
                continue
        done += 1
    return done


def _sample_due(
    staff: _Staff, on_date: dt.date, moment: dt.datetime, *, urgent_only: bool
) -> list[PlacementTest]:
    """The site's staff take the tests due (urgent ones, or one scheduled test a person:
    the earliest still missing) of everyone checked in by `moment`."""
    sampled: list[PlacementTest] = []
    by_site: dict[int | None, int] = defaultdict(int)
    for placement in _in_sites(moment):
        due = PlacementTest.objects.filter(
            placement=placement, tube__isnull=True, due_on__lte=on_date
        ).order_by("due_on", "pk")
        urgent = [t for t in due if t.kind == TestKind.URGENT]
        scheduled = [t for t in due if t.kind != TestKind.URGENT][:1]
        for test in urgent if urgent_only else urgent + scheduled:
            n = by_site[placement.site_id]
            by_site[placement.site_id] += 1
            with drill_clock(moment + dt.timedelta(seconds=10 * n)):
                sampled.append(
                    care_services.placement_test_sample(
                        actor=staff.site(placement.site),
                        test=test,
                        barcode=f"QT{on_date:%y%m%d}{test.pk:07d}",
                    )
                )
    return sampled


def _ship_and_result(
    staff: _Staff,
    tests: list[PlacementTest],
    on_date: dt.date,
    *,
    packed: dt.datetime,
    tested: dt.datetime,
    batch: str,
    positive_person: int | None = None,
) -> dict[str, int]:
    """Each site packs its tubes for its lab; the lab receives the box and imports the
    results (the lab's API, as for any tube): negative but for `positive_person`."""
    if not tests:
        return {"results": 0, "positive": 0}
    sites = {t.placement.site_id for t in tests if t.placement.site_id is not None}
    rows: dict[int, list[dict[str, Any]]] = defaultdict(list)
    positive = 0
    last_sampled: dict[int, dt.datetime] = {}
    for test in tests:
        site_id = test.placement.site_id or 0
        if test.sampled_at and test.sampled_at > last_sampled.get(site_id, test.sampled_at):
            last_sampled[site_id] = test.sampled_at
        last_sampled.setdefault(site_id, test.sampled_at or packed)
    for site in Site.objects.filter(pk__in=sites).order_by("pk"):
        lab = staff.lab_for(site)
        # Packed when the site's last tube is in (a big site samples for a while).
        site_packed = max(packed, last_sampled[site.pk] + dt.timedelta(minutes=10))
        with drill_clock(site_packed):
            box = care_services.site_tubes_dispatch(
                actor=staff.site(site),
                lab=lab,
                box_barcode=f"QBOX{on_date:%y%m%d}{batch}{site.pk:04d}",
            )
        received = site_packed + dt.timedelta(hours=1)
        tested = max(tested, received + dt.timedelta(hours=2))
        with drill_clock(received):
            box_services.box_receive(actor=staff.lab_user(lab), box=box)
        for barcode, person_id in (
            TransportBox.objects.get(pk=box.pk)
            .tubes.order_by("barcode")
            .values_list("barcode", "samples__person_id")
        ):
            hit = person_id == positive_person
            positive += hit
            rows[lab.pk].append(
                {
                    "barcode": barcode,
                    "result": ResultValue.POSITIVE if hit else ResultValue.NEGATIVE,
                    "ct_orf1ab": 26.8 if hit else None,
                    "ct_n": 25.9 if hit else None,
                    "tested_at": tested.isoformat(),
                }
            )
    for lab_id, batch_rows in sorted(rows.items()):
        lab = next(lab for lab in staff.labs if lab.pk == lab_id)
        with drill_clock(tested + dt.timedelta(minutes=10)):
            result_services.results_submit(
                actor=staff.lab_user(lab),
                results=batch_rows,
                batch_id=f"drill-site-{on_date:%y%m%d}{batch}-{lab_id}",
            )
    return {"results": sum(len(r) for r in rows.values()), "positive": positive}


def _fever_persons(rnd: random.Random, moment: dt.datetime, exclude: set[int]) -> list[Placement]:
    present = [p for p in _in_sites(moment) if p.person_id not in exclude]
    return rnd.sample(present, min(FEVERS, len(present)))


def _positive_person(rnd: random.Random, moment: dt.datetime) -> Placement | None:
    """A close contact of the first case at a site (not one moved there from home),
    living outside the zones' town (so the third case moves no zone's counter), else any
    close contact at a site."""
    first = Case.objects.order_by("pk").first()
    present = [
        p
        for p in _in_sites(moment)
        if p.classification == "close" and not HealthAlert.objects.filter(placement=p).exists()
    ]
    if first is not None:
        of_first = set(
            PushItem.objects.filter(push__case=first).values_list("contact_id", flat=True)
        )
        present = [p for p in present if p.contact_id in of_first] or present
    # Not one moved to a site from home (a secondary contact of the first case upgraded
    # to close by a later case): tracing would link that case to the later one.
    moved = set(
        Placement.objects.filter(
            person_id__in=[p.person_id for p in present], status=PlacementStatus.CANCELLED
        ).values_list("person_id", flat=True)
    )
    present = [p for p in present if p.person_id not in moved] or present
    outside = [p for p in present if not p.jurisdiction_path.startswith(WUZHEN)]
    pool = outside or present
    return rnd.choice(pool) if pool else None


def _handle_alerts(staff: _Staff, moment: dt.datetime) -> int:
    """The site doctor handles the open fever alerts whose urgent tests are all negative
    (the person stays, the transfer to hospital is cancelled by command)."""
    handled = 0
    for alert in (
        HealthAlert.objects.filter(state=AlertState.OPEN, kind__in=[AlertKind.FEVER])
        .select_related("placement__site")
        .order_by("pk")
    ):
        placement = alert.placement
        urgent = list(placement.tests.filter(kind=TestKind.URGENT))
        if placement.status != PlacementStatus.ACTIVE or not urgent:
            continue
        if any(t.result != TestResult.NEGATIVE for t in urgent):
            continue
        with drill_clock(moment + dt.timedelta(minutes=handled)):
            care_services.alert_handle(
                actor=staff.site(placement.site),
                alert=alert,
                outcome="紧急核酸检测阴性，复测体温正常，继续隔离医学观察",
            )
            for transfer in placement.transfers.filter(
                kind=TransferKind.TO_HOSPITAL, status=TransferStatus.WAITING
            ):
                placement_services.transfer_cancel(actor=staff.command, transfer=transfer)
        handled += 1
    return handled


def _third_case(staff: _Staff, placement: Placement, on_date: dt.date) -> dict[str, Any]:
    """The positive site test made a case: the person goes to hospital, the alerts are
    handled, and the investigators link the case to the first (a close contact of hers,
    in quarantine since)."""
    placement.refresh_from_db()
    case = Case.objects.filter(person_id=placement.person_id).first()
    if case is None:
        return {}
    site_staff = staff.site(placement.site)
    with drill_clock(at(on_date, 14, 20)):
        for alert in HealthAlert.objects.filter(placement=placement, state=AlertState.OPEN):
            care_services.alert_handle(
                actor=site_staff,
                alert=alert,
                outcome="紧急核酸检测阳性，已报告并转运至定点医院",
            )
    for transfer in placement.transfers.filter(
        kind=TransferKind.TO_HOSPITAL, status=TransferStatus.WAITING
    ):
        with drill_clock(at(on_date, 14, 30)):
            transfer = placement_services.transfer_depart(actor=staff.command, transfer=transfer)
        with drill_clock(at(on_date, 15, 10)):
            placement_services.transfer_arrive(actor=staff.command, transfer=transfer)
    investigator = drill_actor("drill-investigator", Role.INVESTIGATOR, staff.root)
    first = Case.objects.order_by("pk").first()
    with drill_clock(at(on_date, 15, 30)):
        case_services.case_start_investigation(actor=investigator, case=case)
        # Tracing links a contact's case to its source itself; else the investigator.
        linked = CaseLink.objects.filter(infectee=case).exists()
        if first is not None and first.pk != case.pk and not linked:
            chain_services.case_link_create(
                actor=investigator,
                infector=first,
                infectee=case,
                evidence="首例病例的密切接触者，集中隔离期间出现发热，隔离点紧急核酸检测阳性",
            )
    with drill_clock(at(on_date, 16, 10)):
        case_services.case_record_core_facts(
            actor=investigator,
            case=case,
            symptoms="发热、咳嗽",
            vaccination="已完成三剂次接种",
            interview_notes="首例病例的密切接触者，自第 0 天起集中隔离，隔离期间无外出。",
        )
    return {"case": case.number, "linked_to": first.number if first else None}


# --- releases and the persons at home -----------------------------------------------------


def _releases(staff: _Staff, on_date: dt.date) -> dict[str, int]:
    """Everyone at a site whose quarantine ends today or ended is released at 16:00 when
    the protocol allows it (every test negative); the others wait."""
    counts: dict[str, int] = defaultdict(int)
    moment = at(on_date, 16, 0)
    for n, placement in enumerate(
        p for p in _in_sites(moment) if p.quarantine_end_on and p.quarantine_end_on <= on_date
    ):
        with drill_clock(moment + dt.timedelta(seconds=20 * n)):
            try:
                care_services.placement_release(
                    actor=staff.site(placement.site), placement=placement
                )
            except Conflict as exc:
                counts[f"held_{exc.code}"] += 1
                continue
        counts["released"] += 1
    return dict(counts)


def _home_checkins(rnd: random.Random, staff: _Staff, on_date: dt.date) -> dict[str, int]:
    """Community workers check on everyone at home (from 10:00, or an hour after a
    placement made later that day, by 22:00); a few are missed.
    Through the service (`home_checkin_record`, one call each); a big city's thousands
    of secondary contacts at home through the set-based path (`home_checkins_bulk_create`,
    the same rows without an audit event each), which takes seconds instead of minutes."""
    moment = at(on_date, 10, 0)
    counts: dict[str, int] = defaultdict(int)
    at_home = [
        p
        for p in Placement.objects.filter(
            measure__in=HOME_MEASURES,
            status=PlacementStatus.ACTIVE,
            start_on__lte=on_date,
            created_at__lte=at(on_date, 21, 0),
        )
        .exclude(home_checkins__on_date=on_date)
        .order_by("jurisdiction_path", "pk")
        if (care_services.home_end_on(p) or on_date) >= on_date
    ]
    bulk = len(at_home) > HOME_SERVICE_LIMIT
    rows: list[dict[str, Any]] = []
    for n, placement in enumerate(at_home):
        if rnd.random() < HOME_MISSED_SHARE:
            counts["missed"] += 1
            continue
        checked_at = max(moment, placement.created_at + dt.timedelta(hours=1)) + dt.timedelta(
            seconds=5 * n
        )
        worker = staff.community(placement.jurisdiction_path)
        temperature = _temperature(rnd)
        counts["recorded"] += 1
        if bulk:
            rows.append(
                {
                    "placement_id": placement.pk,
                    "on_date": on_date,
                    "temperature": Decimal(temperature),
                    "note": HOME_NOTE,
                    "checked_at": checked_at,
                    "checked_by_id": worker.pk,
                }
            )
            continue
        with drill_clock(checked_at):
            care_services.home_checkin_record(
                actor=worker, placement=placement, temperature=temperature, note=HOME_NOTE
            )
    if rows:
        home_checkins_bulk_create(rows=rows)
        counts["recorded_in_bulk"] = len(rows)
    return dict(counts)


# --- the day -------------------------------------------------------------------------------


def quarantine_day(city: DrillCity, day: int, on_date: dt.date) -> dict[str, Any]:
    """Quarantine's part of a drill day (the module's docstring), played after the day's
    other events; returns its figures for the day's summary."""
    rnd = random.Random(f"fangkong-outbreak:{city.seed}:{day}:quarantine")  # noqa: S311 - a reproducible drill
    root = Jurisdiction.objects.get(path=city.root_path)
    if not Site.objects.filter(under("jurisdiction_path", root.path)).exists():
        return {}
    staff = _Staff(root)
    until = at(on_date + dt.timedelta(days=1), 6, 0)
    summary: dict[str, Any] = {}
    placed = _place_new_cases(staff)
    if placed:
        summary["placements"] = placed
    # Arrivals first: a check-in's time decides which checks and tests the person gets.
    summary["arrivals"] = _arrivals(staff, until)
    summary["handled_alerts"] = _handle_alerts(staff, at(on_date, 8, 10))

    unwell_am: dict[int, tuple[str, list[str]]] = {}
    positive = None
    if day == POSITIVE_DAY:
        positive = _positive_person(rnd, at(on_date, 8, 0))
        if positive is not None:
            unwell_am[positive.pk] = ("38.3", ["fever", "cough"])
    checks = _checks(rnd, staff, at(on_date, 8, 0), "am", unwell_am)
    morning = _sample_due(staff, on_date, at(on_date, 8, 30), urgent_only=False)
    results = _ship_and_result(
        staff,
        morning,
        on_date,
        packed=at(on_date, 9, 0),
        tested=at(on_date, 13, 30),
        batch="A",
        positive_person=positive.person_id if positive else None,
    )
    if positive is not None and results["positive"]:
        summary["third_case"] = _third_case(staff, positive, on_date)
    summary["home_checkins"] = _home_checkins(rnd, staff, on_date)

    unwell_pm: dict[int, tuple[str, list[str]]] = {}
    if day == FEVER_DAY:
        for placement in _fever_persons(rnd, at(on_date, 15, 0), set()):
            unwell_pm[placement.pk] = (rnd.choice(("37.6", "37.8", "38.1")), [])
    checks += _checks(rnd, staff, at(on_date, 15, 0), "pm", unwell_pm)
    summary["health_checks"] = checks
    if unwell_pm:
        summary["fevers"] = len(unwell_pm)
    afternoon = _sample_due(staff, on_date, at(on_date, 15, 30), urgent_only=True)
    late = _ship_and_result(
        staff,
        afternoon,
        on_date,
        packed=at(on_date, 16, 0),
        tested=at(on_date, 21, 0),
        batch="B",
    )
    summary["site_tests"] = {
        "sampled": len(morning) + len(afternoon),
        "resulted": results["results"] + late["results"],
        "positive": results["positive"] + late["positive"],
    }
    summary["releases"] = _releases(staff, on_date)
    # The periodic job at 00:10: home measures that ended yesterday are closed.
    with drill_clock(at(on_date + dt.timedelta(days=1), 0, 10)):
        summary["home_closed"] = care_services.home_placements_close_due(
            today=on_date + dt.timedelta(days=1)
        )
    return summary


def quarantine_figures() -> dict[str, int]:
    """The drill's quarantine so far, counted (for the command's summary and tests)."""
    counts: dict[str, int] = defaultdict(int)
    for measure, status in Placement.objects.values_list("measure", "status"):
        counts[f"{measure}_{status}"] += 1
    return dict(sorted(counts.items()))


__all__ = ["FEVER_DAY", "POSITIVE_DAY", "quarantine_day", "quarantine_figures"]
