"""The care of placed persons: check-in at the site, twice-daily health checks and their
alerts (an urgent test, a transfer to hospital), the stay's tests taken at the site (a
single-tube sample through testing's services, its result landing here from the results
import), release with a certificate and the handover to home monitoring, and the
community's daily check-ins on persons at home.

Site staff act on their own site only (`User.place` is the site's place): another
site's placement is 404. Command (no place of its own) acts within its jurisdiction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from fangkong.accounts.permissions import in_scope, require, require_in_scope
from fangkong.accounts.roles import Capability
from fangkong.accounts.services import audit_record
from fangkong.core.errors import Conflict, InvalidInput, NotFound
from fangkong.protocol import rules as protocol_rules
from fangkong.quarantine.choices import (
    OPEN_STATUSES,
    AlertKind,
    AlertState,
    CheckSlot,
    Measure,
    PlacementStatus,
    RoomState,
    Symptom,
    TestKind,
    TestResult,
    TransferKind,
    TransferStatus,
)
from fangkong.quarantine.models import (
    HealthAlert,
    HealthCheck,
    HomeCheckIn,
    Occupancy,
    Placement,
    PlacementTest,
    Room,
    Transfer,
)

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.areas.models import Place

# 发热: from this temperature on (°C).
FEVER_FROM = Decimal("37.3")
TEMPERATURE_MIN = Decimal("34")
TEMPERATURE_MAX = Decimal("43")
HOME_MEASURES = (Measure.HOME_QUARANTINE, Measure.HOME_MONITORING)
RULE_URGENT = "health_check.fever_or_symptoms"


def _not_found(what: str = "placement") -> NotFound:
    return NotFound("not_found", _("未找到或不在您的辖区内"), object=what)


def can_care(actor: User, placement: Placement) -> bool:
    """May `actor` care for this placement? Site staff: a placement at their own site;
    a role without a place (command): within its jurisdiction (the person's home or
    the site's)."""
    place_id = getattr(actor, "place_id", None)
    site = placement.site
    if site is None:
        return False
    if place_id is not None:
        return bool(site.place_id == place_id)
    return in_scope(actor, placement.jurisdiction_path) or in_scope(actor, site.jurisdiction_path)


def _locked(placement: Placement) -> Placement:
    found = (
        Placement.objects.select_for_update(of=("self",))
        .select_related("site", "site__place", "ruleset")
        .filter(pk=placement.pk)
        .first()
    )
    if found is None:
        raise _not_found()
    return found


def _for_care(actor: User, placement: Placement) -> Placement:
    require(actor, Capability.PLACEMENT_CARE)
    locked = _locked(placement)
    if not can_care(actor, locked):
        raise _not_found()
    return locked


def _active(placement: Placement) -> None:
    if placement.status != PlacementStatus.ACTIVE:
        raise Conflict("placement_not_active", _("该人员不在隔离中"), state=placement.status)


def _audit(actor: User, action: str, placement: Placement, ip: str = "", **detail: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="placement",
        object_id=placement.pk,
        object_label=placement.get_measure_display(),
        jurisdiction_path=placement.jurisdiction_path,
        detail=detail,
        ip=ip,
    )


def _free_room(placement: Placement, now: dt.datetime) -> None:
    """The placement left its room: the occupancy ends once nobody open is left in it,
    and the room goes to disinfection (待消杀)."""
    if placement.occupancy_id is None:
        return
    occupancy = Occupancy.objects.select_for_update().filter(pk=placement.occupancy_id).first()
    if occupancy is None or occupancy.ended_at is not None:
        return
    if (
        Placement.objects.filter(occupancy=occupancy, status__in=OPEN_STATUSES)
        .exclude(pk=placement.pk)
        .exists()
    ):
        return
    occupancy.ended_at = now
    occupancy.save(update_fields=["ended_at"])
    Room.objects.filter(pk=occupancy.room_id).update(
        state=RoomState.DISINFECT, state_changed_at=now
    )


def temperature_value(value: object) -> Decimal:
    """A plausible body temperature (34–43 °C, one decimal), or 400
    `temperature_implausible`."""
    try:
        number = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidInput(
            "temperature_implausible", _("体温须在 34–43 ℃ 之间"), field="temperature"
        ) from None
    if not (TEMPERATURE_MIN <= number <= TEMPERATURE_MAX):
        raise InvalidInput(
            "temperature_implausible", _("体温须在 34–43 ℃ 之间"), field="temperature"
        )
    return number


def symptom_values(symptoms: Iterable[str]) -> list[str]:
    out = []
    for s in symptoms or ():
        if s not in Symptom.values:
            raise InvalidInput("symptom_invalid", _("未知的症状"), field="symptoms", symptom=s)
        if s not in out:
            out.append(s)
    return out


# --- check-in -----------------------------------------------------------------------------


@transaction.atomic
def placement_check_in(*, actor: User, placement: Placement, ip: str = "") -> Placement:
    """The person arrived at the site (入住登记): the placement becomes active, its
    transfers to the site arrive. Site staff of that site only. Refusals:
    `already_checked_in`, `placement_closed`, `room_required`."""
    require(actor, Capability.PLACEMENT_CARE)
    placement = _locked(placement)
    if placement.site is None or placement.site.place_id != getattr(actor, "place_id", None):
        raise _not_found()
    if placement.status == PlacementStatus.ACTIVE:
        raise Conflict("already_checked_in", _("该人员已入住"))
    if placement.status not in OPEN_STATUSES:
        raise Conflict("placement_closed", _("该隔离管控已结束"), state=placement.status)
    if placement.room_id is None:
        raise Conflict("room_required", _("请先分配房间"))
    now = timezone.now()
    placement.status = PlacementStatus.ACTIVE
    placement.checked_in_at = now
    placement.save(update_fields=["status", "checked_in_at", "updated_at"])
    Transfer.objects.filter(
        placement=placement,
        kind=TransferKind.TO_SITE,
        status__in=[TransferStatus.WAITING, TransferStatus.EN_ROUTE],
    ).update(status=TransferStatus.ARRIVED, arrived_at=now)
    _audit(actor, "placement.check_in", placement, ip, room=placement.room_id)
    return placement


# --- health checks and alerts ---------------------------------------------------------------


def slot_now(moment: dt.datetime | None = None) -> str:
    """The check slot of a moment: morning before noon, afternoon after."""
    local = timezone.localtime(moment or timezone.now())
    return CheckSlot.MORNING if local.hour < 12 else CheckSlot.AFTERNOON


def _raise_alert(
    placement: Placement, kind: str, now: dt.datetime, health_check: HealthCheck | None = None
) -> HealthAlert:
    return HealthAlert.objects.create(
        placement=placement, health_check=health_check, kind=kind, raised_at=now
    )


@transaction.atomic
def health_check_record(
    *,
    actor: User,
    placement: Placement,
    slot: str,
    temperature: object,
    symptoms: Sequence[str] = (),
    note: str = "",
    ip: str = "",
) -> HealthCheck:
    """Today's check of a slot (am/pm, once each: `health_check_exists`). A fever
    (≥ 37.3 ℃) or any symptom raises an alert to the site doctor and command, an urgent
    test due today and a transfer to hospital (waiting)."""
    placement = _for_care(actor, placement)
    _active(placement)
    if slot not in CheckSlot.values:
        raise InvalidInput("slot_invalid", _("未知的时段"), field="slot")
    value = temperature_value(temperature)
    found = symptom_values(symptoms)
    now = timezone.now()
    check = HealthCheck(
        placement=placement,
        on_date=timezone.localdate(now),
        slot=slot,
        temperature=value,
        symptoms=found,
        note=(note or "").strip()[:300],
        checked_at=now,
        checked_by=actor,
    )
    try:
        with transaction.atomic():
            check.save(force_insert=True)
    except IntegrityError:
        raise Conflict("health_check_exists", _("该时段已记录健康监测")) from None
    fever = value >= FEVER_FROM
    alert = None
    if fever or found:
        alert = _raise_alert(
            placement, AlertKind.FEVER if fever else AlertKind.SYMPTOMS, now, check
        )
        if not placement.tests.filter(kind=TestKind.URGENT, tube__isnull=True).exists():
            PlacementTest.objects.create(
                placement=placement,
                kind=TestKind.URGENT,
                due_on=check.on_date,
                rule=RULE_URGENT,
            )
        if not placement.transfers.filter(
            kind=TransferKind.TO_HOSPITAL,
            status__in=[TransferStatus.WAITING, TransferStatus.EN_ROUTE],
        ).exists():
            Transfer.objects.create(
                placement=placement,
                kind=TransferKind.TO_HOSPITAL,
                status=TransferStatus.WAITING,
                origin=placement.site.name if placement.site else "",
                destination=_("定点医院"),
                planned_at=now,
                created_by=actor,
            )
    _audit(
        actor,
        "health_check.record",
        placement,
        ip,
        slot=slot,
        temperature=str(value),
        symptoms=found,
        alert=alert.pk if alert else None,
    )
    return check


@transaction.atomic
def alert_handle(*, actor: User, alert: HealthAlert, outcome: str, ip: str = "") -> HealthAlert:
    """The site doctor or command handled an alert (处置), with what was done."""
    require(actor, Capability.PLACEMENT_CARE)
    alert = HealthAlert.objects.select_for_update().filter(pk=alert.pk).first() or alert
    placement = Placement.objects.select_related("site").get(pk=alert.placement_id)
    if not can_care(actor, placement):
        raise _not_found("alert")
    text = (outcome or "").strip()
    if not text:
        raise InvalidInput("outcome_required", _("请填写处置情况"), field="outcome")
    if alert.state != AlertState.OPEN:
        raise Conflict("alert_handled", _("该预警已处置"))
    alert.state = AlertState.HANDLED
    alert.handled_at = timezone.now()
    alert.handled_by = actor
    alert.outcome = text[:300]
    alert.save(update_fields=["state", "handled_at", "handled_by", "outcome"])
    _audit(actor, "alert.handle", placement, ip, alert=alert.pk, kind=alert.kind)
    return alert


@transaction.atomic
def transfer_hospital_depart(
    *, actor: User, transfer: Transfer, vehicle: str = "", ip: str = ""
) -> Transfer:
    """The vehicle leaves the site with the person for hospital (vehicle optional):
    the transfer is en route."""
    placement = _for_care(actor, transfer.placement)
    transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
    if transfer.kind != TransferKind.TO_HOSPITAL:
        raise Conflict("transfer_kind_invalid", _("不是送医转运"))
    if transfer.status != TransferStatus.WAITING:
        raise Conflict("transfer_not_waiting", _("该转运不是待转运状态"))
    transfer.status = TransferStatus.EN_ROUTE
    transfer.departed_at = timezone.now()
    fields = ["status", "departed_at"]
    if (vehicle or "").strip():
        transfer.vehicle = vehicle.strip()[:32]
        fields.append("vehicle")
    transfer.save(update_fields=fields)
    _audit(actor, "transfer.depart", placement, ip, transfer=transfer.pk)
    return transfer


@transaction.atomic
def transfer_hospital_arrive(*, actor: User, transfer: Transfer, ip: str = "") -> Placement:
    """The person reached hospital (after the departure): the transfer arrives, the
    placement's status becomes hospital, its room goes to disinfection."""
    placement = _for_care(actor, transfer.placement)
    transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
    if transfer.kind != TransferKind.TO_HOSPITAL:
        raise Conflict("transfer_kind_invalid", _("不是送医转运"))
    if transfer.status in (TransferStatus.ARRIVED, TransferStatus.CANCELLED):
        raise Conflict("transfer_done", _("该转运已结束"))
    if transfer.status != TransferStatus.EN_ROUTE:
        raise Conflict("transfer_not_en_route", _("请先登记转运出发"))
    now = timezone.now()
    transfer.status = TransferStatus.ARRIVED
    transfer.arrived_at = now
    transfer.save(update_fields=["status", "arrived_at"])
    placement.status = PlacementStatus.HOSPITAL
    placement.closed_at = now
    placement.save(update_fields=["status", "closed_at", "updated_at"])
    _free_room(placement, now)
    _audit(actor, "placement.to_hospital", placement, ip, transfer=transfer.pk)
    return placement


# --- tests at the site ----------------------------------------------------------------------


@transaction.atomic
def placement_test_sample(
    *,
    actor: User,
    test: PlacementTest,
    barcode: str,
    sampled_at: dt.datetime | None = None,
    ip: str = "",
) -> PlacementTest:
    """A due test taken at the site: a single-tube sample through testing
    (`site_sample_record`), its tube kept on the test so the lab's result lands here.
    Refusals: `test_sampled`, `test_not_due`, `tube_barcode_taken` (testing's)."""
    from fangkong.testing.services.site_samples import site_sample_record

    placement = _for_care(actor, test.placement)
    _active(placement)
    test = PlacementTest.objects.select_for_update().get(pk=test.pk)
    # A test whose result came back invalid is taken again (a new tube; the lab's
    # result of the old one stays in testing).
    if test.tube_id is not None and test.result != TestResult.INVALID:
        raise Conflict("test_sampled", _("该检测已采样"))
    now = timezone.now()
    if test.due_on > timezone.localdate(now):
        raise Conflict("test_not_due", _("未到应检日期"), due_on=test.due_on.isoformat())
    site = placement.site
    if site is None or site.place_id != getattr(actor, "place_id", None):
        raise _not_found()
    tube = site_sample_record(
        actor=actor,
        site_place=site.place,
        person=placement.person,
        barcode=barcode,
        sampled_at=sampled_at,
        ip=ip,
    )
    test.tube = tube
    test.sampled_at = tube.closed_at
    test.sampled_by = actor
    test.result = TestResult.PENDING
    test.resulted_at = None
    test.save(update_fields=["tube", "sampled_at", "sampled_by", "result", "resulted_at"])
    _audit(actor, "placement.test_sample", placement, ip, test=test.pk, tube=tube.barcode)
    return test


def site_tubes_dispatch(*, actor: User, lab: Place, box_barcode: str, ip: str = "") -> Any:
    """The site's sampled tubes packed in one box and handed over to `lab` (testing's
    `site_tubes_hand_over`: the lab then receives the box and imports as for any tube)."""
    from fangkong.testing.services.site_samples import site_tubes_hand_over

    require(actor, Capability.PLACEMENT_CARE)
    place_id = getattr(actor, "place_id", None)
    from fangkong.quarantine.models import Site

    site = (
        Site.objects.select_related("place").filter(place_id=place_id).first()
        if place_id is not None
        else None
    )
    if site is None:
        raise _not_found("site")
    return site_tubes_hand_over(
        actor=actor, site_place=site.place, lab=lab, box_barcode=box_barcode, ip=ip
    )


RESULT_OF = {
    "negative": TestResult.NEGATIVE,
    "positive": TestResult.POSITIVE,
    "invalid": TestResult.INVALID,
}


def results_land(*, outcomes: dict[int, str], ip: str = "") -> int:
    """Lab results of site tubes land on their tests (set-based lookup by tube); a
    positive makes a case through tracing in the system account's name, the contact's
    secondary contacts are upgraded, the placement becomes a case, its room goes to
    disinfection and an alert (positive) goes to the site and command. Returns the
    number of tests updated."""
    ids = list(outcomes)
    if not ids:
        return 0
    tests: list[PlacementTest] = []
    for start in range(0, len(ids), 2000):
        tests.extend(
            PlacementTest.objects.filter(tube_id__in=ids[start : start + 2000]).select_related(
                "placement", "placement__person", "placement__site"
            )
        )
    now = timezone.now()
    for test in tests:
        result = RESULT_OF.get(outcomes[test.tube_id or 0], TestResult.INVALID)
        test.result = result
        test.resulted_at = now
        test.save(update_fields=["result", "resulted_at"])
        if result == TestResult.POSITIVE:
            _placement_positive(test, now, ip)
    return len(tests)


def _placement_positive(test: PlacementTest, now: dt.datetime, ip: str) -> None:
    from fangkong.testing.services.actors import system_actor
    from fangkong.tracing.services.cases import case_create_from_positive
    from fangkong.tracing.services.contacts import contact_turned_positive

    placement = _locked(test.placement)
    system = system_actor(city_path=placement.jurisdiction_path)
    contact = placement.contact
    # The open placements of the contact's secondary contacts, found before tracing
    # upgrades them to close contacts (which re-records their exposures).
    secondaries = (
        list(
            Placement.objects.filter(
                contact__exposures__source_contact_id=contact.pk, status__in=OPEN_STATUSES
            )
            .values_list("contact_id", flat=True)
            .distinct()
        )
        if contact is not None
        else []
    )
    case = case_create_from_positive(
        actor=system,
        person=placement.person,
        sampled_on=timezone.localdate(test.sampled_at or now),
        reporting_unit=_("隔离点检测阳性"),
        ip=ip,
    )
    if contact is not None:
        contact.refresh_from_db()
        if contact.status != "became_case":
            contact_turned_positive(actor=system, contact=contact, case=case, ip=ip)
    if secondaries:
        # Their dates follow now (and again, unchanged, if tracing also sends
        # contact_dates_changed).
        from fangkong.quarantine.services.placements import placements_recompute

        placements_recompute(contact_ids=secondaries, actor=system)
    if placement.status in OPEN_STATUSES:
        placement.status = PlacementStatus.BECAME_CASE
        placement.closed_at = now
        placement.save(update_fields=["status", "closed_at", "updated_at"])
        _free_room(placement, now)
    _raise_alert(placement, AlertKind.POSITIVE, now)
    _audit(system, "placement.became_case", placement, ip, case=case.pk, test=test.pk)


# --- release ---------------------------------------------------------------------------------


def _stay_tests(placement: Placement) -> list[protocol_rules.StayTest]:
    return [
        protocol_rules.StayTest(
            t.due_on if t.kind != TestKind.URGENT else None, t.tube_id is not None, t.result
        )
        for t in placement.tests.all()
    ]


def _negatives_first(results: list[str]) -> int:
    n = 0
    for r in results:
        if r != TestResult.NEGATIVE:
            break
        n += 1
    return n


def close_contact_results_many(placements: Iterable[Placement]) -> dict[int, list[str]]:
    """For the secondary contacts' placements among these: the results of their close
    contacts' scheduled tests, in the order they were due (of the close contact that is
    furthest behind; [] when none is placed), by placement id. Two queries. The close
    contact is the exposure's source contact (tracing), read through its placement."""
    secondary = {
        p.pk: p.contact_id
        for p in placements
        if p.classification == "secondary" and p.contact_id is not None
    }
    if not secondary:
        return {}
    sources: dict[int, set[int]] = {}
    for source_pk, contact_id in (
        Placement.objects.filter(contact__caused_exposures__contact_id__in=set(secondary.values()))
        .exclude(status=PlacementStatus.CANCELLED)
        .values_list("pk", "contact__caused_exposures__contact_id")
    ):
        sources.setdefault(contact_id, set()).add(source_pk)
    results: dict[int, list[str]] = {}
    for placement_id, result in (
        PlacementTest.objects.filter(
            placement_id__in={pk for pks in sources.values() for pk in pks},
            kind=TestKind.SCHEDULED,
        )
        .order_by("due_on", "pk")
        .values_list("placement_id", "result")
    ):
        results.setdefault(placement_id, []).append(result)
    out: dict[int, list[str]] = {}
    for pk, contact_id in secondary.items():
        lists = [results.get(s, []) for s in sorted(sources.get(contact_id, ()))]
        out[pk] = min(lists, key=_negatives_first) if lists else []
    return out


def close_contact_results(placement: Placement) -> list[str] | None:
    """For a secondary contact's placement: its close contacts' results (see
    `close_contact_results_many`); None for anyone else."""
    return close_contact_results_many([placement]).get(placement.pk)


_LOOK_UP: Any = object()


def release_check(
    placement: Placement,
    today: dt.date | None = None,
    close_results: list[str] | None = _LOOK_UP,
) -> protocol_rules.Eligibility:
    """May this placement be released today (protocol.rules.release_eligible)? A list
    of many passes `close_results` from `close_contact_results_many`."""
    day = today or timezone.localdate()
    if close_results is _LOOK_UP:
        close_results = close_contact_results(placement)
    end = release_on(placement)
    return protocol_rules.release_eligible(
        protocol_rules.Protocol.from_ruleset(placement.ruleset),
        today=day,
        end_on=end,
        tests=_stay_tests(placement),
        close_contact_results=close_results,
    )


RELEASE_MESSAGES = {
    protocol_rules.RELEASE_NOT_DUE: _l("未到解除日期"),
    protocol_rules.RELEASE_TEST_POSITIVE: _l("有阳性检测结果"),
    protocol_rules.RELEASE_TEST_MISSING: _l("有应检未检的检测"),
    protocol_rules.RELEASE_TEST_PENDING: _l("有检测尚未出结果"),
    protocol_rules.RELEASE_CLOSE_PENDING: _l("所接触密接的前两次检测尚未均为阴性"),
}


def release_on(placement: Placement) -> dt.date:
    """The first day the placement may be released (its end date)."""
    return placement.quarantine_end_on or placement.monitoring_end_on or placement.start_on


def release_reason(code: str, placement: Placement | None = None) -> str:
    """The words of a release refusal; not yet due says the release date."""
    if code == protocol_rules.RELEASE_NOT_DUE and placement is not None:
        return _("未到解除日期（%(date)s）") % {"date": release_on(placement).isoformat()}
    return str(RELEASE_MESSAGES.get(code, code))


def certificate_number(placement: Placement, on: dt.date) -> str:
    return f"GL{on.year}-{placement.pk:06d}"


@transaction.atomic
def placement_release(*, actor: User, placement: Placement, ip: str = "") -> Placement:
    """Release (解除隔离) when the protocol allows it (else 409 with the rule's code:
    `not_due`, `test_missing`, `test_positive`, `test_pending`,
    `close_contact_tests_pending`): certificate number, closed, room to disinfection, and
    a follow-on home monitoring placement handed to the person's community while
    monitoring days remain."""
    placement = _for_care(actor, placement)
    _active(placement)
    now = timezone.now()
    today = timezone.localdate(now)
    verdict = release_check(placement, today)
    if not verdict.ok:
        raise Conflict(verdict.reason_code, release_reason(verdict.reason_code, placement))
    placement.status = PlacementStatus.RELEASED
    placement.closed_at = now
    placement.certificate_number = certificate_number(placement, today)
    placement.save(update_fields=["status", "closed_at", "certificate_number", "updated_at"])
    _free_room(placement, now)
    follow = None
    if (
        placement.monitoring_end_on
        and placement.quarantine_end_on
        and placement.monitoring_end_on > placement.quarantine_end_on
        and placement.monitoring_end_on >= today
    ):
        follow = Placement.objects.create(
            person=placement.person,
            jurisdiction_path=placement.jurisdiction_path,
            contact=placement.contact,
            source=placement.source,
            classification=placement.classification,
            measure=Measure.HOME_MONITORING,
            status=PlacementStatus.ACTIVE,
            ruleset=placement.ruleset,
            last_exposure_on=placement.last_exposure_on,
            start_on=max(today, placement.quarantine_end_on + dt.timedelta(days=1)),
            quarantine_end_on=None,
            monitoring_end_on=placement.monitoring_end_on,
            follows=placement,
            created_by=actor,
        )
    _audit(
        actor,
        "placement.release",
        placement,
        ip,
        certificate=placement.certificate_number,
        follow_on=follow.pk if follow else None,
    )
    return placement


# --- at home ---------------------------------------------------------------------------------


def home_end_on(placement: Placement) -> dt.date | None:
    if placement.measure == Measure.HOME_QUARANTINE:
        return placement.quarantine_end_on or placement.monitoring_end_on
    return placement.monitoring_end_on


@transaction.atomic
def home_checkin_record(
    *,
    actor: User,
    placement: Placement,
    temperature: object = None,
    symptoms: Sequence[str] = (),
    note: str = "",
    ip: str = "",
) -> HomeCheckIn:
    """A community worker's check-in today on a person at home (once a day:
    `home_checkin_exists`), until the end date (`placement_ended`). Own community only
    (else 404). A fever or symptoms raise an alert."""
    require(actor, Capability.HOME_MONITOR)
    placement = _locked(placement)
    require_in_scope(actor, placement.jurisdiction_path, what="placement")
    if placement.measure not in HOME_MEASURES:
        raise _not_found()
    _active(placement)
    now = timezone.now()
    today = timezone.localdate(now)
    end = home_end_on(placement)
    if end is not None and today > end:
        raise Conflict("placement_ended", _("居家管控已期满"), end_on=end.isoformat())
    value = None if temperature in (None, "") else temperature_value(temperature)
    found = symptom_values(symptoms)
    checkin = HomeCheckIn(
        placement=placement,
        on_date=today,
        temperature=value,
        symptoms=found,
        note=(note or "").strip()[:300],
        checked_at=now,
        checked_by=actor,
    )
    try:
        with transaction.atomic():
            checkin.save(force_insert=True)
    except IntegrityError:
        raise Conflict("home_checkin_exists", _("今日已打卡")) from None
    if (value is not None and value >= FEVER_FROM) or found:
        fever = value is not None and value >= FEVER_FROM
        _raise_alert(placement, AlertKind.FEVER if fever else AlertKind.SYMPTOMS, now)
    _audit(actor, "home_checkin.record", placement, ip, temperature=str(value or ""))
    return checkin


def home_placements_close_due(*, today: dt.date | None = None) -> int:
    """Placements at home past their end date are closed (released); run by
    `fangkong periodic`. Returns how many."""
    day = today or timezone.localdate()
    now = timezone.now()
    ended = 0
    for measure, field in (
        (Measure.HOME_QUARANTINE, "quarantine_end_on"),
        (Measure.HOME_MONITORING, "monitoring_end_on"),
    ):
        ended += Placement.objects.filter(
            measure=measure, status=PlacementStatus.ACTIVE, **{f"{field}__lt": day}
        ).update(status=PlacementStatus.RELEASED, closed_at=now, updated_at=now)
    return ended


def certificate_name(*, actor: User, placement: Placement, ip: str = "") -> str | None:
    """The certificate's name in clear for an actor allowed to reveal it (person.reveal:
    an audited reveal, recorded as the certificate's, the ID number staying masked);
    None for anyone else (the page keeps the masked name)."""
    from fangkong.accounts.permissions import has_capability
    from fangkong.people.services import RevealRecord, person_identities

    if not has_capability(actor, Capability.PERSON_REVEAL):
        return None
    if not in_scope(actor, placement.person.jurisdiction_path):
        return None
    record = RevealRecord(
        action="placement.certificate",
        object_type="placement",
        object_id=placement.pk,
        object_label=placement.certificate_number,
        jurisdiction_path=placement.jurisdiction_path,
        detail={"field": "name"},
    )
    return person_identities(actor, [placement.person], reveal=True, record=record, ip=ip)[0].name
