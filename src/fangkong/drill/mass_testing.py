"""Days 1–3 of the reference outbreak: mass testing (全员核酸), played through the real
services of the testing app under the drill clock (decision 0006).

Day 1 — a round of 乌镇镇: the sealed community single tubes, the controlled communities
10-in-1, the rest of the town 20-in-1 (the rule set's pooling by zone level), 24 h
deadline. Samplers at the town's sampling points register nearly everyone on their
phones (batches through the sync service), with a few walk-ins from other towns; tubes
go in transport boxes to the labs, which receive them and send results: all negative.

Day 2 — a city-wide round. One 20-in-1 pool outside the known contacts is positive: its
members are held and rechecked in single tubes by their community; one recheck is
positive and becomes the second case, source unknown, and tracing starts again.

Day 3 — the sealed and controlled zones are screened again (daily rounds); all negative.
The later days (4 and on) screen them again in the same way (`play_zone_screening`).

Deterministic for the city's seed: who is missed, who walks in, which pool is positive.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from fangkong.accounts.models import User
from fangkong.accounts.roles import Role
from fangkong.areas.models import (
    Jurisdiction,
    Place,
    PlaceKind,
    Zone,
    ZoneAction,
    ZoneLevel,
    ZoneState,
    ZoneTransition,
)
from fangkong.core.paths import city_of, community_of, town_of, under
from fangkong.drill.clock import drill_clock
from fangkong.drill.feedback import town_feedback
from fangkong.drill.models import DrillCity
from fangkong.drill.scenario import WUZHEN, at, drill_actor, zones_close_day
from fangkong.people.models import Person
from fangkong.people.services import person_identities
from fangkong.testing.models import (
    Recheck,
    ResultValue,
    Round,
    RoundTarget,
    SamplingPoint,
    TransportBox,
    Tube,
)
from fangkong.testing.services import boxes as box_services
from fangkong.testing.services import rechecks as recheck_services
from fangkong.testing.services import results as result_services
from fangkong.testing.services import rounds as round_services
from fangkong.testing.services import sampling as sampling_services
from fangkong.testing.services.points import points_create_for_places
from fangkong.tracing.models import Case, Contact
from fangkong.tracing.services import cases as case_services
from fangkong.tracing.services import chains as chain_services
from fangkong.tracing.services import contacts as contact_services
from fangkong.tracing.services import itinerary as itinerary_services
from fangkong.tracing.services import pushes as push_services

# Shares of a round's target population: sampled on the day (the rest stay on the
# untested lists) and walk-ins from outside the scope (愿检尽检).
SAMPLED_SHARE = 0.96
WALK_IN_SHARE = 0.01
SYNC_TUBES = 40  # tubes a phone sends in one batch
FIRST_HOUR, LAST_HOUR = 6, 20  # sampling from 06:00 to 20:00


@dataclass
class _Stations:
    """The points sampling a round, with their samplers and the lab each sends to."""

    points: list[SamplingPoint]
    samplers: dict[int, User]
    labs: dict[int, Place]
    lab_users: dict[int, User]


def _stations(city_path: str, paths: list[str]) -> _Stations:
    """Sampling points under the given jurisdiction paths (made from the drill city's
    sampling-point places if need be), a drill sampler at each and a lab for each."""
    points_create_for_places(path=city_path)
    q = under("jurisdiction_path", paths[0])
    for path in paths[1:]:
        q |= under("jurisdiction_path", path)
    # A quarantine site's own point (its site tests) samples no round.
    mass = SamplingPoint.objects.filter(place__kind=PlaceKind.SAMPLING_POINT)
    points = list(mass.filter(q).select_related("place").order_by("pk"))
    if not points:
        points = list(
            mass.filter(under("jurisdiction_path", city_path))
            .select_related("place")
            .order_by("pk")[:1]
        )
    labs = list(
        Place.objects.filter(under("jurisdiction_path", city_path), kind=PlaceKind.LAB).order_by(
            "pk"
        )
    )
    samplers: dict[int, User] = {}
    lab_of: dict[int, Place] = {}
    for n, point in enumerate(points):
        samplers[point.pk] = drill_actor(
            f"drill-sampler-{point.pk}", Role.SAMPLER, point.place.jurisdiction, point.place
        )
        lab_of[point.pk] = labs[n % len(labs)]
    lab_users = {
        lab.pk: drill_actor(f"drill-lab-{lab.pk}", Role.LAB, lab.jurisdiction, lab) for lab in labs
    }
    return _Stations(points, samplers, lab_of, lab_users)


def _point_for(path: str, points: list[SamplingPoint]) -> SamplingPoint:
    """The point a person goes to: one in their community, else their town, else any."""
    for level_of in (community_of, town_of, city_of):
        near = [p for p in points if level_of(p.jurisdiction_path) == level_of(path)]
        if near:
            return near[int(path[-3:] or 0) % len(near)] if level_of is community_of else near[0]
    return points[0]


def _moment(day: dt.date, rank: int, total: int) -> dt.datetime:
    span = (LAST_HOUR - FIRST_HOUR) * 60
    minute = FIRST_HOUR * 60 + (span * rank) // max(1, total)
    return at(day, minute // 60, minute % 60)


def _sample_round(
    rnd: random.Random,
    round_: Round,
    stations: _Stations,
    on_date: dt.date,
    *,
    walk_in_pool: list[int],
    reader: User,
) -> dict[str, Any]:
    """Samplers register most of the round's targets (and a few walk-ins) in pooled
    tubes at their points, syncing in batches through the sampling service. The ID
    cards they scan carry the registry's numbers (the drill's own people), which
    `reader` (the drill's command) reveals through people, audited."""
    targets = list(
        RoundTarget.objects.filter(round=round_)
        .order_by("person_id")
        .values_list("person_id", "jurisdiction_path", "pool_size")
    )
    chosen = [t for t in targets if rnd.random() < SAMPLED_SHARE]
    walk_ins = rnd.sample(walk_in_pool, min(len(walk_in_pool), int(len(targets) * WALK_IN_SHARE)))
    people = {
        p.pk: p
        for p in Person.objects.filter(pk__in=[t[0] for t in chosen] + walk_ins).only(
            "pk",
            "name",
            "id_kind",
            "id_cipher",
            "id_masked",
            "phone_cipher",
            "phone_masked",
            "jurisdiction_path",
        )
    }
    id_numbers = {
        identity.person_id: identity.id_number
        for identity in person_identities(reader, list(people.values()), reveal=True)
    }
    # (point, pool size) -> persons in arrival order; walk-ins go 20-in-1 like precaution.
    queues: dict[tuple[int, int], list[int]] = defaultdict(list)
    for pid, path, pool in chosen:
        queues[(_point_for(path, stations.points).pk, pool)].append(pid)
    largest = max((t[2] for t in targets), default=20)
    for pid in walk_ins:
        point = _point_for(people[pid].jurisdiction_path, stations.points)
        queues[(point.pk, largest)].append(pid)
    total = sum(len(q) for q in queues.values())
    rank = 0
    tubes_by_point: dict[int, list[sampling_services.TubeIn]] = defaultdict(list)
    for (point_id, pool), persons in sorted(queues.items()):
        for start in range(0, len(persons), pool):
            members = persons[start : start + pool]
            moments = [_moment(on_date, rank + i, total) for i in range(len(members))]
            rank += len(members)
            barcode = f"{on_date:%y%m%d}{round_.pk:03d}{point_id:05d}{start // pool:05d}P{pool:02d}"
            tubes_by_point[point_id].append(
                sampling_services.TubeIn(
                    barcode=barcode,
                    round_id=round_.pk,
                    pool_size=pool,
                    opened_at=moments[0],
                    closed_at=moments[-1],
                    samples=tuple(
                        sampling_services.SampleIn(
                            client_uuid=uuid.UUID(int=rnd.getrandbits(128)),
                            id_number=id_numbers[pid],
                            id_kind=people[pid].id_kind,
                            sampled_at=moment,
                        )
                        for pid, moment in zip(members, moments, strict=True)
                    ),
                )
            )
    stored = tubes = 0
    refused: dict[str, int] = defaultdict(int)
    for point_id, batch_tubes in sorted(tubes_by_point.items()):
        sampler = stations.samplers[point_id]
        for start in range(0, len(batch_tubes), SYNC_TUBES):
            batch = batch_tubes[start : start + SYNC_TUBES]
            synced_at = max(t.closed_at or t.opened_at for t in batch) + dt.timedelta(minutes=2)
            with drill_clock(synced_at):
                result = sampling_services.sampling_sync(
                    actor=sampler, tubes=batch, point_id=point_id
                )
            stored += result.count(sampling_services.OK)
            for item in result.samples:
                if item.status == sampling_services.ERROR:
                    refused[item.code] += 1
            tubes += len(batch)
    return {
        "targets": len(targets),
        "samples": stored,
        "refused": dict(sorted(refused.items())),
        "walk_ins": len(walk_ins),
        "tubes": tubes,
    }


def _ship_and_result(
    rnd: random.Random,
    round_: Round,
    stations: _Stations,
    on_date: dt.date,
    *,
    positive_barcode: str | None = None,
) -> dict[str, Any]:
    """Each point packs its closed tubes into a box for its lab at the end of the day;
    the lab receives the boxes and sends the results (all negative but `positive_barcode`)."""
    evening = at(on_date, LAST_HOUR, 30)
    boxes: list[TransportBox] = []
    for point in stations.points:
        barcodes = list(
            Tube.objects.filter(round=round_, point=point, box__isnull=True)
            .order_by("barcode")
            .values_list("barcode", flat=True)
        )
        if not barcodes:
            continue
        sampler = stations.samplers[point.pk]
        with drill_clock(evening):
            box = box_services.box_create(
                actor=sampler,
                barcode=f"BOX{on_date:%y%m%d}{round_.pk:03d}{point.pk:05d}",
                lab=stations.labs[point.pk],
            )
            box_services.box_add_tubes(actor=sampler, box=box, barcodes=barcodes)
            box_services.box_hand_over(actor=sampler, box=box)
        boxes.append(box)
    received = at(on_date, 22, 0)
    tested = at(on_date + dt.timedelta(days=1), 1, 30)
    by_lab: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for box in boxes:
        lab_user = stations.lab_users[box.lab_id]
        with drill_clock(received + dt.timedelta(minutes=rnd.randrange(0, 60))):
            box_services.box_receive(actor=lab_user, box=box)
        for barcode in box.tubes.order_by("barcode").values_list("barcode", flat=True):
            positive = barcode == positive_barcode
            by_lab[box.lab_id].append(
                {
                    "barcode": barcode,
                    "result": "positive" if positive else "negative",
                    "ct_orf1ab": round(rnd.uniform(27.0, 33.0), 1) if positive else None,
                    "ct_n": round(rnd.uniform(26.0, 32.0), 1) if positive else None,
                    "tested_at": tested.isoformat(),
                }
            )
    # The daily job closes the day on the zones at 00:05, before the results come in
    # (01:50): a zone whose people are all resulted is screened on a counted day.
    closed = zones_close_day(on_date)
    reports = []
    for lab_id, rows in sorted(by_lab.items()):
        with drill_clock(tested + dt.timedelta(minutes=20)):
            reports.append(
                result_services.results_submit(
                    actor=stations.lab_users[lab_id],
                    results=rows,
                    batch_id=f"drill-{round_.pk}-{lab_id}",
                )
            )
    return {
        "boxes": len(boxes),
        "results": sum(len(r) for r in by_lab.values()),
        "positive_tubes": 1 if positive_barcode else 0,
        "zone_days_closed": closed,
    }


def _round(
    actor: User,
    name: str,
    on_date: dt.date,
    *,
    jurisdictions: list[Jurisdiction] | None = None,
    zones: list[Zone] | None = None,
) -> Round:
    with drill_clock(at(on_date, 5, 30)):
        planned = round_services.round_create(
            actor=actor,
            name=name,
            starts_at=at(on_date, FIRST_HOUR, 0),
            jurisdictions=jurisdictions or [],
            zones=zones or [],
        )
    with drill_clock(at(on_date, 5, 50)):
        return round_services.round_open(actor=actor, round=planned)


def _close(actor: User, round_: Round, on_date: dt.date) -> None:
    with drill_clock(at(on_date + dt.timedelta(days=1), 6, 0)):
        round_services.round_close(actor=actor, round=round_)


def play_day1(city: DrillCity, on_date: dt.date) -> dict[str, Any]:
    """A round of 乌镇镇 with the zones' pooling; all negative."""
    rnd = random.Random(f"fangkong-outbreak:{city.seed}:1")  # noqa: S311 - a reproducible drill
    root = Jurisdiction.objects.get(path=city.root_path)
    town = Jurisdiction.objects.get(path=WUZHEN)
    command = drill_actor("drill-command", Role.COMMAND, root)
    round_ = _round(command, f"{town.name}第一轮全员核酸检测", on_date, jurisdictions=[town])
    stations = _stations(root.path, [town.path])
    outside = list(
        Person.objects.filter(under("jurisdiction_path", root.path))
        .exclude(under("jurisdiction_path", town.path))
        .order_by("pk")
        .values_list("pk", flat=True)[:2000]
    )
    sampled = _sample_round(rnd, round_, stations, on_date, walk_in_pool=outside, reader=command)
    shipped = _ship_and_result(rnd, round_, stations, on_date)
    _close(command, round_, on_date)
    return {"round": round_.pk, "pools": _pool_counts(round_), **sampled, **shipped}


def _pool_counts(round_: Round) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for pool in RoundTarget.objects.filter(round=round_).values_list("pool_size", flat=True):
        counts[f"{pool}in1" if pool > 1 else "single"] += 1
    return dict(counts)


def _unknown_pool(rnd: random.Random, round_: Round) -> Tube | None:
    """A 20-in-1 tube outside 乌镇镇 none of whose members is a known contact or case."""
    known = set(Contact.objects.values_list("person_id", flat=True)) | set(
        Case.objects.values_list("person_id", flat=True)
    )
    candidates = [
        tube
        for tube in Tube.objects.filter(round=round_, pool_size=20)
        .exclude(under("jurisdiction_path", WUZHEN))
        .order_by("barcode")[:400]
        if tube.samples.count() >= 10
        and not set(tube.samples.values_list("person_id", flat=True)) & known
    ]
    return rnd.choice(candidates) if candidates else None


def _recheck(
    rnd: random.Random, round_: Round, tube: Tube, stations: _Stations, on_date: dt.date
) -> dict[str, Any]:
    """The communities recheck every held member in a single tube; the lab results them:
    one positive (the second case), the others negative and released."""
    rechecks = list(
        Recheck.objects.filter(source_tube=tube).select_related("person").order_by("person_id")
    )
    if not rechecks:
        return {"rechecks": 0}
    positive = rnd.choice(rechecks)
    morning = at(on_date + dt.timedelta(days=1), 2, 30)
    for n, recheck in enumerate(rechecks):
        community = Jurisdiction.objects.get(path=community_of(recheck.jurisdiction_path))
        worker = drill_actor(
            f"drill-community-{community.path[-6:]}", Role.COMMUNITY_WORKER, community
        )
        with drill_clock(morning + dt.timedelta(minutes=5 * n)):
            recheck_services.recheck_record_sample(
                actor=worker,
                recheck=recheck,
                barcode=f"RC{on_date:%y%m%d}{recheck.pk:07d}",
            )
    received = morning + dt.timedelta(hours=1)
    tested = received + dt.timedelta(hours=2)
    rows: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for recheck in Recheck.objects.filter(source_tube=tube).select_related("recheck_tube__box"):
        if recheck.recheck_tube is None or recheck.recheck_tube.box is None:
            continue
        box = recheck.recheck_tube.box
        lab_user = stations.lab_users[box.lab_id]
        with drill_clock(received):
            box_services.box_receive(actor=lab_user, box=box)
        hit = recheck.pk == positive.pk
        rows[box.lab_id].append(
            {
                "barcode": recheck.recheck_tube.barcode,
                "result": ResultValue.POSITIVE if hit else ResultValue.NEGATIVE,
                "ct_orf1ab": 24.6 if hit else None,
                "ct_n": 23.9 if hit else None,
                "tested_at": tested.isoformat(),
            }
        )
    for lab_id, batch in sorted(rows.items()):
        with drill_clock(tested + dt.timedelta(minutes=10)):
            result_services.results_submit(
                actor=stations.lab_users[lab_id], results=batch, batch_id=f"drill-rc-{tube.pk}"
            )
    statuses: dict[str, int] = defaultdict(int)
    for status in Recheck.objects.filter(source_tube=tube).values_list("status", flat=True):
        statuses[status] += 1
    return {
        "rechecks": len(rechecks),
        "recheck_status": dict(statuses),
        "positive_person_id": positive.person_id,
        "tested_at": tested,
    }


def _trace_new_case(person_id: int, on_date: dt.date, city_path: str, seed: int) -> dict[str, Any]:
    """The positive recheck made a case (through tracing's service); the investigators
    take it up: source unknown, itinerary from scans, contacts, lists to the towns."""
    case = Case.objects.get(person_id=person_id)
    root = Jurisdiction.objects.get(path=city_path)
    investigator = drill_actor("drill-investigator", Role.INVESTIGATOR, root)
    start = at(on_date + dt.timedelta(days=1), 7, 0)
    with drill_clock(start):
        case_services.case_start_investigation(actor=investigator, case=case)
        chain_services.case_set_source_unknown(actor=investigator, case=case, unknown=True)
    with drill_clock(start + dt.timedelta(minutes=50)):
        case_services.case_record_core_facts(
            actor=investigator,
            case=case,
            symptoms="无症状",
            vaccination="已完成两剂次接种",
            interview_notes="全员核酸混管阳性，单管复核阳性；近期无外出，感染来源不明。",
        )
    with drill_clock(start + dt.timedelta(hours=1)):
        stops = itinerary_services.itinerary_propose_from_scans(actor=investigator, case=case)
        if stops:
            itinerary_services.itinerary_confirm(actor=investigator, case=case)
    with drill_clock(start + dt.timedelta(hours=2)):
        found = contact_services.contacts_find_for_case(actor=investigator, case=case)
    with drill_clock(start + dt.timedelta(hours=3)):
        pushes = push_services.pushes_create_for_case(actor=investigator, case=case)
    # The towns answer through the day and the night, until the drill stops the next
    # morning (the last played day's writes end at 06:00): most persons are controlled
    # by then, the late ones are still pending when the demo opens.
    rnd = random.Random(f"fangkong-outbreak:{seed}:2:feedback")  # noqa: S311 - a reproducible drill
    feedback = town_feedback(rnd, pushes, until=at(on_date + dt.timedelta(days=2), 6, 0))
    return {
        "case": case.number,
        "source_unknown": True,
        "itinerary_stops": len(stops),
        "contacts": dict(found.by_class),
        "pushes": len(pushes),
        "feedback": feedback,
    }


def play_day2(city: DrillCity, on_date: dt.date) -> dict[str, Any]:
    """A city-wide round; one 20-in-1 pool outside the known contacts is positive."""
    rnd = random.Random(f"fangkong-outbreak:{city.seed}:2")  # noqa: S311 - a reproducible drill
    root = Jurisdiction.objects.get(path=city.root_path)
    command = drill_actor("drill-command", Role.COMMAND, root)
    round_ = _round(command, f"{root.name}全员核酸检测", on_date, jurisdictions=[root])
    stations = _stations(root.path, [root.path])
    sampled = _sample_round(rnd, round_, stations, on_date, walk_in_pool=[], reader=command)
    tube = _unknown_pool(rnd, round_)
    shipped = _ship_and_result(
        rnd, round_, stations, on_date, positive_barcode=tube.barcode if tube else None
    )
    summary: dict[str, Any] = {"round": round_.pk, **sampled, **shipped}
    if tube is not None:
        recheck = _recheck(rnd, round_, tube, stations, on_date)
        summary["positive_pool"] = tube.barcode
        summary["holds"] = tube.holds.count()
        tested = recheck.pop("tested_at", None)
        summary.update(recheck)
        if "positive_person_id" in recheck and tested is not None:
            summary["second_case"] = _trace_new_case(
                recheck["positive_person_id"], on_date, root.path, city.seed
            )
    _close(command, round_, on_date)
    return summary


def play_zone_screening(day: int) -> Any:
    """The player of a later day (4 and on): the daily screening of day 3 again."""

    def play(city: DrillCity, on_date: dt.date) -> dict[str, Any]:
        return play_day3(city, on_date, day=day)

    return play


def play_day3(city: DrillCity, on_date: dt.date, *, day: int = 3) -> dict[str, Any]:
    """The daily screening of the sealed and controlled zones; all negative."""
    rnd = random.Random(f"fangkong-outbreak:{city.seed}:{day}")  # noqa: S311 - a reproducible drill
    root = Jurisdiction.objects.get(path=city.root_path)
    command = drill_actor("drill-command", Role.COMMAND, root)
    zones = list(
        Zone.objects.filter(
            state=ZoneState.ACTIVE, level__in=[ZoneLevel.SEALED, ZoneLevel.CONTROLLED]
        ).order_by("pk")
    )
    if not zones:
        return {"round": None}
    round_ = _round(command, "封控区、管控区每日核酸检测", on_date, zones=zones)
    paths = RoundTarget.objects.filter(round=round_).values_list("jurisdiction_path", flat=True)
    stations = _stations(root.path, sorted({community_of(p) for p in paths}) or [WUZHEN])
    sampled = _sample_round(rnd, round_, stations, on_date, walk_in_pool=[], reader=command)
    shipped = _ship_and_result(rnd, round_, stations, on_date)
    # The daily job closed the day on the zones at 00:05 (in `_ship_and_result`); the
    # results are in by 01:50, and the round closes at 06:00: testing records the
    # screening on each zone (what a downgrade that day needs), and the system proposes
    # the downgrades that are due.
    _close(command, round_, on_date)
    screened = ZoneTransition.objects.filter(
        action=ZoneAction.SCREENING, detail__round=round_.pk
    ).count()
    return {
        "round": round_.pk,
        "zones": len(zones),
        "zones_screened": screened,
        **sampled,
        **shipped,
    }
