"""Placements (隔离管控措施): a person under a measure chosen by the rule set, a room
taken at a site, transfers to the site, and dates recomputed when the exposure or the
rule set changes.

**No room is ever double-booked.** A room in use has one open `Occupancy` (a database
constraint, `occupancy_one_open_per_room`); a placer locks the room row, finds its open
occupancy under a row lock, and either joins it (same party: one household sharing a
multi-person room, or a companion) while beds remain, or inserts a new one. Two placers
racing for the last free room: one insert wins, the other's insert breaks the constraint
and becomes `Conflict("room_taken")`. Bulk placement picks free rooms with
`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent bulk placers take
different rooms.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require, require_in_scope, scope_q
from fangkong.accounts.roles import Capability
from fangkong.accounts.services import audit_record
from fangkong.core.errors import Conflict, InvalidInput, NotFound
from fangkong.protocol import rules as protocol_rules
from fangkong.protocol import selectors as protocol_selectors
from fangkong.quarantine.choices import (
    OPEN_STATUSES,
    Measure,
    PlacementSource,
    PlacementStatus,
    RoomKind,
    RoomState,
    TestKind,
    TestResult,
    TransferKind,
    TransferStatus,
)
from fangkong.quarantine.models import Occupancy, Placement, PlacementTest, Room, Site, Transfer

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.people.models import Person
    from fangkong.protocol.models import RuleSet
    from fangkong.tracing.models import Case, Contact

# A minor under this age or an elderly person from this age is placed with a companion.
MINOR_BELOW_AGE = 14
ELDERLY_FROM_AGE = 80
OCCUPANCY_CONSTRAINT = "occupancy_one_open_per_room"
OPEN_PERSON_CONSTRAINT = "placement_one_open_per_person"
SOURCES_BY_CLASS = {
    "close": PlacementSource.CONTACT,
    "secondary": PlacementSource.CONTACT,
    "co_presence": PlacementSource.RISK_PERSON,
}


# --- parties and rooms ----------------------------------------------------------------


def party_of(person: Any) -> str:
    """The party a person occupies a room as: their household ("h<id>"), else themselves."""
    household_id = getattr(person, "household_id", None)
    return f"h{household_id}" if household_id else f"p{person.pk}"


def needs_companion(birth_year: int | None, *, on_date: dt.date) -> bool:
    """A minor (under 14) or an elderly person (80 and over) is placed with a companion."""
    if not birth_year:
        return False
    age = on_date.year - int(birth_year)
    return age < MINOR_BELOW_AGE or age >= ELDERLY_FROM_AGE


def _constraint_broken(exc: IntegrityError, name: str) -> bool:
    return name in str(exc) or (
        connection.vendor == "sqlite" and "UNIQUE constraint failed" in str(exc)
    )


def _room_for_update(room: Room) -> Room:
    return Room.objects.select_for_update().select_related("site").get(pk=room.pk)


def _occupy(room: Room, *, party: str, joining: Occupancy | None = None) -> Occupancy:
    """Take `room` (locked by the caller) for `party`, or join its open occupancy.

    Joining is allowed for the same party (a household in a multi-person room) or for
    a companion (`joining` is the accompanied person's occupancy) while beds remain.
    Refusals: `room_shared_with_other_party`, `room_full`, `room_not_ready`,
    `room_taken` (a concurrent placer took it first)."""
    current = Occupancy.objects.select_for_update().filter(room=room, ended_at__isnull=True).first()
    if current is not None:
        if joining is None and current.party != party:
            raise Conflict(
                "room_shared_with_other_party",
                _("该房间已由其他人员入住，不同住户不能同住"),
                room=room.pk,
            )
        if joining is not None and current.pk != joining.pk:
            raise Conflict("room_taken", _("该房间已被占用"), room=room.pk)
        used = Placement.objects.filter(occupancy=current, status__in=OPEN_STATUSES).count()
        if used >= room.beds:
            raise Conflict("room_full", _("该房间床位已满"), room=room.pk, beds=room.beds)
        return current
    if room.state != RoomState.READY:
        raise Conflict("room_not_ready", _("该房间当前不可入住"), room=room.pk, state=room.state)
    now = timezone.now()
    try:
        with transaction.atomic():
            occupancy = Occupancy.objects.create(room=room, party=party, started_at=now)
    except IntegrityError as exc:
        if _constraint_broken(exc, OCCUPANCY_CONSTRAINT):
            raise Conflict("room_taken", _("该房间已被其他人员占用"), room=room.pk) from exc
        raise
    Room.objects.filter(pk=room.pk).update(state=RoomState.OCCUPIED, state_changed_at=now)
    room.state = RoomState.OCCUPIED
    return occupancy


def _release_occupancy(occupancy_id: int | None, *, now: dt.datetime) -> None:
    """End an occupancy once no open placement holds it; its room goes to disinfection."""
    if occupancy_id is None:
        return
    occupancy = Occupancy.objects.select_for_update().filter(pk=occupancy_id).first()
    if occupancy is None or occupancy.ended_at is not None:
        return
    if Placement.objects.filter(occupancy=occupancy, status__in=OPEN_STATUSES).exists():
        return
    occupancy.ended_at = now
    occupancy.save(update_fields=["ended_at"])
    Room.objects.filter(pk=occupancy.room_id).update(
        state=RoomState.DISINFECT, state_changed_at=now
    )


def placement_room_free(*, placement: Placement, now: dt.datetime | None = None) -> None:
    """For the services that close a placement (release, hospital, case): call after the
    placement's status left the open ones, inside the same transaction. Its occupancy
    ends once nobody open is left in it, and the room goes to disinfection."""
    _release_occupancy(placement.occupancy_id, now=now or timezone.now())


def _check_room_fits(room: Room, *, site: Site, needs_accessible: bool) -> None:
    if room.site_id != site.pk:
        raise InvalidInput("room_not_at_site", _("该房间不属于所选隔离点"), room=room.pk)
    if needs_accessible and not room.accessible:
        raise InvalidInput("room_not_accessible", _("该人员需要无障碍房间"), room=room.pk)


# --- dates ------------------------------------------------------------------------------


def _schedule(
    ruleset: RuleSet,
    *,
    classification: str,
    last_exposure_on: dt.date | None,
    start_on: dt.date,
) -> protocol_rules.PlacementSchedule:
    return protocol_rules.placement_schedule(
        protocol_rules.Protocol.from_ruleset(ruleset),
        classification=classification,
        last_exposure_on=last_exposure_on,
        start_on=start_on,
    )


def _dates_of(schedule: protocol_rules.PlacementSchedule, measure: str) -> dict[str, Any]:
    """The placement's date fields under `measure` (home monitoring alone ends with the
    monitoring end; a quarantine ends with the quarantine end)."""
    quarantine_end = schedule.quarantine_end_on.value if schedule.quarantine_end_on else None
    return {
        "last_exposure_on": schedule.last_exposure_on,
        "quarantine_end_on": None if measure == Measure.HOME_MONITORING else quarantine_end,
        "monitoring_end_on": schedule.monitoring_end_on.value,
    }


def _scheduled_tests(
    placement_id: int, schedule: protocol_rules.PlacementSchedule
) -> list[PlacementTest]:
    return [
        PlacementTest(
            placement_id=placement_id,
            kind=TestKind.SCHEDULED,
            due_on=t.value,
            rule=t.rule[:64],
        )
        for t in schedule.tests
    ]


# --- one placement ------------------------------------------------------------------------


def _active_site(site: Site | None) -> Site:
    if site is None:
        raise InvalidInput("site_required", _("集中隔离须选择隔离点"))
    site = Site.objects.get(pk=site.pk)
    if not site.active:
        raise Conflict("site_inactive", _("该隔离点未启用"), site=site.pk)
    return site


@transaction.atomic
def placement_create(
    *,
    actor: User,
    person: Person,
    measure: str | None = None,
    contact: Contact | None = None,
    source: str | None = None,
    site: Site | None = None,
    room: Room | None = None,
    note: str = "",
    needs_accessible: bool = False,
    companion_of: Placement | None = None,
    start_on: dt.date | None = None,
) -> Placement:
    """Place one person: the measure and dates from the person's rule set and last
    exposure (the contact's), the scheduled tests as due tests; a room taken when one is
    named (a companion shares the accompanied person's room). Refusals: `already_placed`
    (an open placement), `site_required`, `room_*` (see `_occupy`)."""
    require(actor, Capability.PLACEMENT_MANAGE)
    require_in_scope(actor, person.jurisdiction_path, what="person")
    today = timezone.localdate()
    start_on = start_on or today
    classification = ""
    last_exposure_on = None
    if contact is not None:
        if contact.person_id != person.pk:
            raise InvalidInput("contact_not_person", _("接触者记录与人员不符"))
        classification = contact.classification
        last_exposure_on = contact.last_exposure_on
    if source is None:
        source = SOURCES_BY_CLASS.get(classification, PlacementSource.OTHER)
    if source not in PlacementSource.values:
        raise InvalidInput("invalid_source", _("未知的来源"), source=source)
    if source == PlacementSource.RISK_PERSON and not classification:
        classification = "co_presence"
    ruleset = protocol_selectors.ruleset_for(on_date=start_on, path=person.jurisdiction_path)
    schedule = _schedule(
        ruleset,
        classification=classification,
        last_exposure_on=last_exposure_on,
        start_on=start_on,
    )
    measure = measure or schedule.measure
    if measure not in Measure.values:
        raise InvalidInput("invalid_measure", _("未知的管控措施"), measure=measure)
    if companion_of is not None:
        companion_of = Placement.objects.select_for_update().get(pk=companion_of.pk)
        if companion_of.status not in OPEN_STATUSES or companion_of.room_id is None:
            raise Conflict("companion_not_placed", _("被陪护人员尚未分配房间"))
        require_in_scope(actor, companion_of.jurisdiction_path, what="placement")
        measure, site, room = Measure.CENTRALISED, companion_of.site, companion_of.room
    occupancy = None
    if measure == Measure.CENTRALISED:
        site = _active_site(site if site is not None else (room.site if room else None))
        if room is not None:
            room = _room_for_update(room)
            _check_room_fits(room, site=site, needs_accessible=needs_accessible)
            joining = companion_of.occupancy if companion_of is not None else None
            occupancy = _occupy(room, party=party_of(person), joining=joining)
    else:
        site, room = None, None
    placement = Placement(
        person=person,
        jurisdiction_path=person.jurisdiction_path,
        contact=contact,
        source=source,
        classification=classification,
        measure=measure,
        status=PlacementStatus.PLANNED
        if measure == Measure.CENTRALISED
        else PlacementStatus.ACTIVE,
        site=site,
        room=room,
        occupancy=occupancy,
        companion_of=companion_of,
        needs_accessible=needs_accessible,
        ruleset=ruleset,
        start_on=start_on,
        note=note.strip()[:300],
        created_by=actor,
        **_dates_of(schedule, measure),
    )
    try:
        with transaction.atomic():
            placement.save()
    except IntegrityError as exc:
        if _constraint_broken(exc, OPEN_PERSON_CONSTRAINT):
            raise Conflict("already_placed", _("该人员已在隔离管控中"), person=person.pk) from exc
        raise
    PlacementTest.objects.bulk_create(_scheduled_tests(placement.pk, schedule))
    audit_record(
        actor=actor,
        action="placement.create",
        object_type="placement",
        object_id=placement.pk,
        object_label=placement.get_measure_display(),
        jurisdiction_path=placement.jurisdiction_path,
        detail={
            "measure": measure,
            "site": site.pk if site else None,
            "room": room.pk if room else None,
            "ruleset": ruleset.version,
        },
    )
    return placement


def _placement_for_write(actor: User, placement: Placement) -> Placement:
    locked = Placement.objects.select_for_update().filter(pk=placement.pk).first()
    if locked is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="placement")
    require_in_scope(actor, locked.jurisdiction_path, what="placement")
    return locked


@transaction.atomic
def placement_room_assign(*, actor: User, placement: Placement, room: Room) -> Placement:
    """Put an open centralised placement in `room` (manual override of the automatic
    assignment, or a first assignment): the old room's occupancy ends when nobody is
    left in it. Refusals as `_occupy`, and `placement_closed`, `not_centralised`."""
    require(actor, Capability.PLACEMENT_MANAGE)
    placement = _placement_for_write(actor, placement)
    if placement.status not in OPEN_STATUSES:
        raise Conflict("placement_closed", _("该隔离管控已结束"), placement=placement.pk)
    if placement.measure != Measure.CENTRALISED:
        raise Conflict("not_centralised", _("非集中隔离不分配房间"), placement=placement.pk)
    room = _room_for_update(room)
    site = _active_site(room.site)
    if placement.room_id == room.pk:
        return placement
    _check_room_fits(room, site=site, needs_accessible=placement.needs_accessible)
    person = placement.person
    joining = None
    if placement.companion_of_id is not None:
        joining = Placement.objects.get(pk=placement.companion_of_id).occupancy
    occupancy = _occupy(room, party=party_of(person), joining=joining)
    before = placement.room_id
    old_occupancy = placement.occupancy_id
    placement.site, placement.room, placement.occupancy = site, room, occupancy
    placement.save(update_fields=["site", "room", "occupancy", "updated_at"])
    _release_occupancy(old_occupancy, now=timezone.now())
    audit_record(
        actor=actor,
        action="placement.room_assign",
        object_type="placement",
        object_id=placement.pk,
        object_label=f"{site.name} {room}",
        jurisdiction_path=placement.jurisdiction_path,
        detail={"from": before, "to": room.pk},
    )
    return placement


# --- bulk: a case's contacts placed in one action ---------------------------------------


@dataclass
class BulkResult:
    """What a bulk placement did: the placements made, the persons skipped (already
    placed), those placed alone who need a companion (a minor or an elderly person with
    no household member among the placed), and how many went into rooms."""

    placements: list[Placement] = field(default_factory=list)
    skipped_person_ids: list[int] = field(default_factory=list)
    needs_companion_ids: list[int] = field(default_factory=list)
    rooms_taken: int = 0
    centralised: int = 0
    at_home: int = 0
    moved: int = 0  # placements at home closed for a move to a site


def _close_moved(placements: Iterable[Placement], *, now: dt.datetime) -> None:
    """Close open placements at home marked `needs_move`, before their centralised
    replacement is made (one open placement per person)."""
    for p in placements:
        p.status = PlacementStatus.CANCELLED
        p.closed_at = now
        p.needs_move = False
        p.note = (f"{p.note} " if p.note else "") + str(_("已转集中隔离"))
        p.note = p.note[:300]
        p.save(update_fields=["status", "closed_at", "needs_move", "note", "updated_at"])


def _free_rooms(
    site_ids: Sequence[int], *, multi: bool, limit: int, exclude: Iterable[int] = ()
) -> list[Room]:
    """Up to `limit` free rooms (ready, no open occupancy) of active sites, locked; rows
    another placer has locked are skipped (PostgreSQL). Multi-person rooms with most beds
    first when `multi`, else single rooms first and accessible rooms last (kept for
    those who need them)."""
    from django.db.models import Case as SqlCase
    from django.db.models import Exists, IntegerField, OuterRef, Value, When

    if limit <= 0:
        return []
    taken = Occupancy.objects.filter(room=OuterRef("pk"), ended_at__isnull=True)
    qs = Room.objects.filter(
        ~Exists(taken), site_id__in=list(site_ids), site__active=True, state=RoomState.READY
    ).exclude(pk__in=list(exclude))
    if multi:
        qs = qs.filter(kind=RoomKind.MULTI, beds__gte=2).order_by(
            "-beds", "site_id", "building", "floor", "number"
        )
    else:
        single_first = SqlCase(
            When(kind=RoomKind.SINGLE, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
        qs = qs.annotate(single_first=single_first).order_by(
            "accessible", "single_first", "site_id", "building", "floor", "number"
        )
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    return list(qs[:limit])


def _rulesets_by_path(paths: Iterable[str], on_date: dt.date) -> dict[str, RuleSet]:
    return {p: protocol_selectors.ruleset_for(on_date=on_date, path=p) for p in set(paths)}


@transaction.atomic
def placements_create_for_contacts(
    *,
    actor: User,
    contacts: Sequence[Contact],
    site_ids: Sequence[int] | None = None,
) -> BulkResult:
    """Place many contacts in one action: each gets the measure and dates of its rule
    set; those under centralised quarantine get rooms automatically: members of one
    household together in a multi-person room when one with enough beds is free, else
    one room each; everyone else one room each (single rooms first, accessible rooms
    last). All or nothing: `no_free_room` when the free rooms do not suffice. Persons
    with an open placement are skipped, except an open placement at home marked
    `needs_move` (recompute): it is closed (cancelled, audited
    `placement.move_centralised`) and the centralised one opened in the same
    transaction. Contacts need `person` loaded."""
    require(actor, Capability.PLACEMENT_MANAGE)
    for c in contacts:
        require_in_scope(actor, c.jurisdiction_path, what="contact")
    today = timezone.localdate()
    result = BulkResult()
    open_rows = list(
        Placement.objects.select_for_update()
        .filter(person_id__in=[c.person_id for c in contacts], status__in=OPEN_STATUSES)
        .order_by("pk")
    )
    # Open placements at home marked for a move to a site: closed and replaced below.
    moving = {p.person_id: p for p in open_rows if p.needs_move}
    already = {p.person_id for p in open_rows if not p.needs_move}
    seen: set[int] = set()
    todo: list[Contact] = []
    for c in contacts:
        if c.person_id in already or c.person_id in seen:
            result.skipped_person_ids.append(c.person_id)
            continue
        seen.add(c.person_id)
        todo.append(c)
    if not todo:
        return result
    rulesets = _rulesets_by_path((c.person.jurisdiction_path for c in todo), today)
    planned: list[tuple[Contact, RuleSet, protocol_rules.PlacementSchedule]] = []
    for c in todo:
        rs = rulesets[c.person.jurisdiction_path]
        schedule = _schedule(
            rs,
            classification=c.classification,
            last_exposure_on=c.last_exposure_on,
            start_on=today,
        )
        planned.append((c, rs, schedule))
    central = [row for row in planned if row[2].measure == Measure.CENTRALISED]
    # A person marked for a move whose measure is no longer centralised stays as is.
    central_persons = {c.person_id for c, _rs, _s in central}
    for person_id in [p for p in moving if p not in central_persons]:
        del moving[person_id]
        planned = [row for row in planned if row[0].person_id != person_id]
        result.skipped_person_ids.append(person_id)
    if not planned:
        return result
    if site_ids is None:
        site_ids = list(Site.objects.filter(active=True).values_list("pk", flat=True))
    # Parties: a household's members together, everyone else alone.
    households: dict[int, list[int]] = {}
    for i, (c, _rs, _s) in enumerate(central):
        if c.person.household_id:
            households.setdefault(c.person.household_id, []).append(i)
    groups = sorted((g for g in households.values() if len(g) > 1), key=len, reverse=True)
    room_of: dict[int, Room] = {}
    multi_rooms = _free_rooms(site_ids, multi=True, limit=len(groups))
    beds_left = sorted(multi_rooms, key=lambda r: -r.beds)
    grouped: set[int] = set()
    for group in groups:
        fit = next((r for r in beds_left if r.beds >= len(group)), None)
        if fit is None:
            continue
        beds_left.remove(fit)
        for i in group:
            room_of[i] = fit
            grouped.add(i)
    alone = [i for i in range(len(central)) if i not in grouped]
    used_multi = {r.pk for r in room_of.values()}
    singles = _free_rooms(site_ids, multi=False, limit=len(alone), exclude=used_multi)
    if len(singles) < len(alone):
        raise Conflict(
            "no_free_room",
            _("空闲房间不足：需要 %(needed)d 间，可用 %(free)d 间")
            % {"needed": len(alone) + len(used_multi), "free": len(singles) + len(used_multi)},
            needed=len(alone) + len(used_multi),
            free=len(singles) + len(used_multi),
        )
    for i, single in zip(alone, singles, strict=False):
        room_of[i] = single
    for i in alone:
        person = central[i][0].person
        if needs_companion(person.birth_year, on_date=today):
            result.needs_companion_ids.append(person.pk)
    # One occupancy per room taken.
    now = timezone.now()
    occupancy_by_room: dict[int, Occupancy] = {}
    for i, taken in room_of.items():
        if taken.pk not in occupancy_by_room:
            occupancy_by_room[taken.pk] = Occupancy(
                room=taken, party=party_of(central[i][0].person), started_at=now
            )
    try:
        with transaction.atomic():
            Occupancy.objects.bulk_create(list(occupancy_by_room.values()), batch_size=1000)
    except IntegrityError as exc:
        raise Conflict("room_taken", _("房间已被其他人员占用，请重试"), rooms=len(room_of)) from exc
    Room.objects.filter(pk__in=list(occupancy_by_room)).update(
        state=RoomState.OCCUPIED, state_changed_at=now
    )
    central_index = {id(row[0]): i for i, row in enumerate(central)}
    rows: list[Placement] = []
    for c, rs, schedule in planned:
        measure = schedule.measure
        index = central_index.get(id(c))
        room = room_of.get(index) if index is not None else None
        rows.append(
            Placement(
                person_id=c.person_id,
                jurisdiction_path=c.person.jurisdiction_path,
                contact_id=c.pk,
                source=SOURCES_BY_CLASS.get(c.classification, PlacementSource.OTHER),
                classification=c.classification,
                measure=measure,
                status=PlacementStatus.PLANNED
                if measure == Measure.CENTRALISED
                else PlacementStatus.ACTIVE,
                site_id=room.site_id if room else None,
                room=room,
                occupancy=occupancy_by_room[room.pk] if room else None,
                ruleset=rs,
                start_on=today,
                created_by=actor,
                **_dates_of(schedule, measure),
            )
        )
    _close_moved(moving.values(), now=now)
    for row in rows:
        moved = moving.get(row.person_id)
        if moved is not None:
            row.note = (_("由居家措施转集中隔离（原管控 %(id)d）") % {"id": moved.pk})[:300]
    try:
        with transaction.atomic():
            Placement.objects.bulk_create(rows, batch_size=1000)
    except IntegrityError as exc:
        raise Conflict("already_placed", _("部分人员已在隔离管控中，请重试")) from exc
    new_by_person = {row.person_id: row for row in rows}
    for moved in moving.values():
        audit_record(
            actor=actor,
            action="placement.move_centralised",
            object_type="placement",
            object_id=moved.pk,
            object_label=moved.get_measure_display(),
            jurisdiction_path=moved.jurisdiction_path,
            detail={"from": moved.pk, "to": new_by_person[moved.person_id].pk},
        )
    tests: list[PlacementTest] = []
    for placement, (_c, _rs, schedule) in zip(rows, planned, strict=True):
        tests.extend(_scheduled_tests(placement.pk, schedule))
    PlacementTest.objects.bulk_create(tests, batch_size=2000)
    result.placements = rows
    result.moved = len(moving)
    result.rooms_taken = len(occupancy_by_room)
    result.centralised = len(central)
    result.at_home = len(rows) - len(central)
    audit_record(
        actor=actor,
        action="placement.bulk_create",
        object_type="placement",
        object_label=_("批量安排 %(n)d 人") % {"n": len(rows)},
        jurisdiction_path=getattr(actor, "scope_path", "") or "",
        detail={
            "placements": len(rows),
            "rooms": result.rooms_taken,
            "skipped": len(result.skipped_person_ids),
            "moved": sorted(p.pk for p in moving.values()),
            "sites": sorted({r.site_id for r in rows if r.site_id}),
        },
    )
    return result


def _unplaced_contacts(actor: User) -> QuerySet[Contact]:
    from fangkong.tracing.selectors import contacts as tracing_contacts

    placed = Placement.objects.filter(
        person_id=OuterRef("person_id"), status__in=OPEN_STATUSES, needs_move=False
    )
    return (
        tracing_contacts.contacts_in_scope(user=actor)
        .filter(classification__in=["close", "secondary"])
        .exclude(status__in=["released", "became_case", "not_found", "outside"])
        .filter(~Exists(placed))
    )


def contacts_to_place(
    *, actor: User, case: Case | None = None, case_number: str = "", limit: int = 5000
) -> list[Contact]:
    """The close and secondary contacts (of `case`, or of the case numbered
    `case_number`) in the actor's scope not yet placed (no open placement, or an open
    one at home marked `needs_move`: to be moved to a site), with their
    persons: the list the bulk page shows. The case itself may lie outside the actor's
    scope (a town places its residents exposed to another town's case)."""
    require(actor, Capability.PLACEMENT_MANAGE)
    qs = _unplaced_contacts(actor)
    if case is not None:
        qs = qs.filter(
            Q(exposures__source_case=case)
            | Q(exposures__source_contact__exposures__source_case=case)
        )
    elif case_number:
        qs = qs.filter(
            Q(exposures__source_case__number=case_number)
            | Q(exposures__source_contact__exposures__source_case__number=case_number)
        )
    else:
        return []
    return list(qs.distinct().select_related("person").order_by("classification", "pk")[:limit])


def cases_with_unplaced_contacts(*, actor: User, limit: int = 50) -> list[tuple[str, int]]:
    """(case number, unplaced close/secondary contacts in the actor's scope), most first."""
    require(actor, Capability.PLACEMENT_MANAGE)
    counts: dict[str, int] = {}
    qs = _unplaced_contacts(actor)
    for via in (
        "exposures__source_case__number",
        "exposures__source_contact__exposures__source_case__number",
    ):
        for number, n in (
            qs.exclude(**{f"{via}__isnull": True})
            .values_list(via)
            .annotate(n=Count("pk", distinct=True))
            .order_by()
        ):
            counts[number] = counts.get(number, 0) + n
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def persons_to_move(*, actor: User, person_ids: Iterable[int]) -> set[int]:
    """Of `person_ids`, those whose open placement (in the actor's scope) is at home and
    marked `needs_move`: placing them moves them to a site."""
    require(actor, Capability.PLACEMENT_MANAGE)
    return set(
        Placement.objects.filter(
            scope_q(actor, "jurisdiction_path"),
            person_id__in=list(person_ids),
            status__in=OPEN_STATUSES,
            needs_move=True,
        ).values_list("person_id", flat=True)
    )


def contacts_to_place_of_case(*, actor: User, case: Case) -> list[Contact]:
    """The case's close and secondary contacts to place (`contacts_to_place`)."""
    return contacts_to_place(actor=actor, case=case)


def placements_create_for_case(
    *, actor: User, case: Case, site_ids: Sequence[int] | None = None
) -> BulkResult:
    """A case's close and secondary contacts not yet placed, placed in one action
    (`placements_create_for_contacts`)."""
    contacts = contacts_to_place_of_case(actor=actor, case=case)
    return placements_create_for_contacts(actor=actor, contacts=contacts, site_ids=site_ids)


# --- transfers (转运) ----------------------------------------------------------------------


def _transfer_for_write(actor: User, transfer: Transfer) -> Transfer:
    locked = (
        Transfer.objects.select_for_update()
        .select_related("placement")
        .filter(pk=transfer.pk)
        .first()
    )
    if locked is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="transfer")
    require_in_scope(actor, locked.placement.jurisdiction_path, what="transfer")
    return locked


def _audit_transfer(actor: User, action: str, transfer: Transfer, **detail: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="transfer",
        object_id=transfer.pk,
        object_label=transfer.vehicle or transfer.get_kind_display(),
        jurisdiction_path=transfer.placement.jurisdiction_path,
        detail={"placement": transfer.placement_id, **detail},
    )


@transaction.atomic
def transfer_create(
    *,
    actor: User,
    placement: Placement,
    vehicle: str = "",
    planned_at: dt.datetime | None = None,
    origin: str = "",
    kind: str = TransferKind.TO_SITE,
) -> Transfer:
    """A transfer of a planned centralised placement from the home address to its site
    (the town hands the person over). One open transfer to the site at a time."""
    require(actor, Capability.PLACEMENT_MANAGE)
    placement = _placement_for_write(actor, placement)
    if kind != TransferKind.TO_SITE:
        raise InvalidInput("invalid_transfer_kind", _("此处只能安排转运至隔离点"), kind=kind)
    if placement.measure != Measure.CENTRALISED or placement.site_id is None:
        raise Conflict("not_centralised", _("非集中隔离无需转运"), placement=placement.pk)
    if placement.status != PlacementStatus.PLANNED:
        raise Conflict("placement_not_planned", _("该人员已不在待转运状态"), placement=placement.pk)
    if Transfer.objects.filter(
        placement=placement,
        kind=TransferKind.TO_SITE,
        status__in=[TransferStatus.WAITING, TransferStatus.EN_ROUTE],
    ).exists():
        raise Conflict("transfer_exists", _("该人员已有待执行的转运"), placement=placement.pk)
    household = placement.person.household if placement.person.household_id else None
    if not origin and household is not None:
        origin = household.address
    site = placement.site
    transfer = Transfer.objects.create(
        placement=placement,
        kind=kind,
        vehicle=vehicle.strip()[:32],
        origin=origin.strip()[:300],
        destination=(site.place.address or site.name)[:300] if site else "",
        planned_at=planned_at,
        created_by=actor,
    )
    _audit_transfer(actor, "transfer.create", transfer, vehicle=transfer.vehicle)
    return transfer


@transaction.atomic
def transfer_depart(*, actor: User, transfer: Transfer, at: dt.datetime | None = None) -> Transfer:
    """The vehicle leaves with the person: the placement is in transit."""
    require(actor, Capability.PLACEMENT_MANAGE)
    transfer = _transfer_for_write(actor, transfer)
    if transfer.status != TransferStatus.WAITING:
        raise Conflict("transfer_not_waiting", _("该转运不是待转运状态"), transfer=transfer.pk)
    transfer.status = TransferStatus.EN_ROUTE
    transfer.departed_at = at or timezone.now()
    transfer.save(update_fields=["status", "departed_at"])
    Placement.objects.filter(pk=transfer.placement_id, status=PlacementStatus.PLANNED).update(
        status=PlacementStatus.IN_TRANSIT, updated_at=timezone.now()
    )
    _audit_transfer(actor, "transfer.depart", transfer)
    return transfer


@transaction.atomic
def transfer_arrive(*, actor: User, transfer: Transfer, at: dt.datetime | None = None) -> Transfer:
    """The vehicle arrives at the site. The site's staff then check the person in (the
    care part's check-in makes the placement active)."""
    require(actor, Capability.PLACEMENT_MANAGE)
    transfer = _transfer_for_write(actor, transfer)
    if transfer.status != TransferStatus.EN_ROUTE:
        raise Conflict("transfer_not_en_route", _("该转运不在途中"), transfer=transfer.pk)
    transfer.status = TransferStatus.ARRIVED
    transfer.arrived_at = at or timezone.now()
    if transfer.departed_at and transfer.arrived_at < transfer.departed_at:
        raise InvalidInput("arrival_before_departure", _("到达时间不能早于出发时间"))
    transfer.save(update_fields=["status", "arrived_at"])
    _audit_transfer(actor, "transfer.arrive", transfer)
    return transfer


@transaction.atomic
def transfer_cancel(*, actor: User, transfer: Transfer) -> Transfer:
    """Cancel a transfer not yet arrived; a placement in transit goes back to planned."""
    require(actor, Capability.PLACEMENT_MANAGE)
    transfer = _transfer_for_write(actor, transfer)
    if transfer.status not in (TransferStatus.WAITING, TransferStatus.EN_ROUTE):
        raise Conflict("transfer_closed", _("该转运已结束"), transfer=transfer.pk)
    transfer.status = TransferStatus.CANCELLED
    transfer.save(update_fields=["status"])
    Placement.objects.filter(pk=transfer.placement_id, status=PlacementStatus.IN_TRANSIT).update(
        status=PlacementStatus.PLANNED, updated_at=timezone.now()
    )
    _audit_transfer(actor, "transfer.cancel", transfer)
    return transfer


# --- recompute: a new exposure or a rule-set change ---------------------------------------


def _replan_tests(placement: Placement, schedule: protocol_rules.PlacementSchedule) -> int:
    """Replace the scheduled tests not yet sampled by the new schedule's (a day already
    sampled keeps its test). Returns the number of tests now planned."""
    open_tests = PlacementTest.objects.filter(
        placement=placement,
        kind=TestKind.SCHEDULED,
        sampled_at__isnull=True,
        tube__isnull=True,
        result=TestResult.PENDING,
    )
    open_tests.delete()
    kept = set(
        PlacementTest.objects.filter(placement=placement, kind=TestKind.SCHEDULED).values_list(
            "due_on", flat=True
        )
    )
    new = [t for t in _scheduled_tests(placement.pk, schedule) if t.due_on not in kept]
    PlacementTest.objects.bulk_create(new)
    return len(new)


@transaction.atomic
def placements_recompute(
    *,
    contact_ids: Sequence[int] | None = None,
    ruleset_id: int | None = None,
    actor: User | None = None,
) -> int:
    """Recompute the dates of open placements (planned, in transit, active): those of
    `contact_ids` (a new exposure, an upgrade: the contact's classification and last
    exposure) or, on a rule-set change, every open placement (the rule set in force
    today for the person's home is looked up again). Their scheduled tests not yet
    sampled are re-planned. Closed placements are never touched. An open placement at
    home whose new classification's measure is centralised keeps its measure but is
    marked `needs_move` (it is listed again among the case's contacts to place; placing
    it moves the person to a site), and the mark is cleared when the measure is no
    longer centralised. Each change is audited (by the system when no actor). Returns
    the number of placements changed."""
    qs = Placement.objects.select_for_update(of=("self",)).select_related("contact", "ruleset")
    qs = qs.filter(status__in=OPEN_STATUSES)
    if contact_ids is not None:
        qs = qs.filter(contact_id__in=list(contact_ids))
    elif ruleset_id is None:
        return 0
    today = timezone.localdate()
    rulesets: dict[str, RuleSet] = {}
    changed = 0
    for placement in qs.order_by("pk"):
        path = placement.jurisdiction_path
        if ruleset_id is not None:
            if path not in rulesets:
                rulesets[path] = protocol_selectors.ruleset_for(on_date=today, path=path)
            ruleset = rulesets[path]
        else:
            ruleset = placement.ruleset
        classification = placement.classification
        last_exposure_on = placement.last_exposure_on
        if placement.contact is not None:
            classification = placement.contact.classification
            last_exposure_on = placement.contact.last_exposure_on
        schedule = _schedule(
            ruleset,
            classification=classification,
            last_exposure_on=last_exposure_on,
            start_on=placement.start_on,
        )
        dates = _dates_of(schedule, placement.measure)
        # At home but now due at a site (e.g. a secondary contact upgraded to close):
        # never kept silently, the placement is marked for the move (bulk page).
        needs_move = (
            schedule.measure == Measure.CENTRALISED and placement.measure != Measure.CENTRALISED
        )
        before = {
            "ruleset": placement.ruleset.version,
            "classification": placement.classification,
            "needs_move": placement.needs_move,
            **{k: str(getattr(placement, k)) for k in dates},
        }
        after = {
            "ruleset": ruleset.version,
            "classification": classification,
            "needs_move": needs_move,
            **{k: str(v) for k, v in dates.items()},
        }
        if before == after and ruleset.pk == placement.ruleset_id:
            continue
        placement.ruleset = ruleset
        placement.classification = classification
        placement.needs_move = needs_move
        for k, v in dates.items():
            setattr(placement, k, v)
        placement.save(
            update_fields=["ruleset", "classification", "needs_move", *dates.keys(), "updated_at"]
        )
        planned = _replan_tests(placement, schedule)
        detail: dict[str, Any] = {"before": before, "after": after, "tests": planned}
        if schedule.measure != placement.measure:
            detail["measure_now"] = schedule.measure
        audit_record(
            actor=actor,
            action="placement.recompute",
            object_type="placement",
            object_id=placement.pk,
            object_label=placement.get_measure_display(),
            jurisdiction_path=path,
            detail=detail,
        )
        changed += 1
    return changed
