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
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require, require_in_scope
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
    RoomState,
    TestKind,
)
from fangkong.quarantine.models import Occupancy, Placement, PlacementTest, Room, Site

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.people.models import Person
    from fangkong.protocol.models import RuleSet
    from fangkong.tracing.models import Contact

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
