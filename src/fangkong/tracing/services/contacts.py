"""Tracing services: contacts (密接、次密接、一般接触者、时空伴随者).

One Contact per person (UNIQUE person), one Exposure per source: the case (or, for a
secondary contact, the close contact) and the way of contact (household, workplace,
co-presence, companion, vehicle, manual). Who is close is the rule set's (protocol's
"who is close" rules): household, workplace (a shared room at work or school),
companion and vehicle make close contacts whatever the minutes when the rule set lists
them; venue co-presence is classified by the place's venue kind (small enclosed venues
from a short overlap, large venues a co-presence risk person only, other venues by
summed minutes). The latest exposure date drives every protocol date, computed by
`tracing.rules.contacts.contact_dates` with the rule set of the case whose exposure it
is; contact finding never downgrades a contact (a close contact stays close), only an
investigator does (`contact_reclassify`, with a reason). Every change of a contact's
classification, last exposure or dates is announced inside the transaction
(`tracing.signals.contact_dates_changed`).

Set-based where it matters: candidates are found with a bounded number of queries
(household and workplace in one query each, co-presence in one statement per 200
stops), existing contacts and persons are loaded by id in chunks, and contacts and
exposures are written with bulk_create / bulk_update.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require, require_in_scope
from fangkong.accounts.roles import Capability
from fangkong.accounts.services import audit_record
from fangkong.areas import selectors as area_selectors
from fangkong.core.errors import Conflict, DomainError, InvalidInput
from fangkong.people import rules as people_rules
from fangkong.people import selectors as people_selectors
from fangkong.people.services import person_find_by_phone, person_get_or_create
from fangkong.protocol import rules as protocol_rules
from fangkong.protocol.rules import Protocol, latest_exposure
from fangkong.scans import selectors as scan_selectors
from fangkong.tracing import signals
from fangkong.tracing.models import (
    Case,
    Contact,
    ContactClass,
    ContactStatus,
    Exposure,
    ExposureKind,
    ItineraryStop,
)
from fangkong.tracing.rules import contacts as rules
from fangkong.tracing.selectors import contacts as contact_selectors
from fangkong.tracing.services import chains as chain_services

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.areas.models import Jurisdiction
    from fangkong.people.models import Person
    from fangkong.protocol.models import RuleSet

CHUNK = 2000
MAX_TOLERANCE_MINUTES = 24 * 60
MANUAL_CLASSES = (ContactClass.CLOSE, ContactClass.GENERAL, ContactClass.CO_PRESENCE)
# The ways of contact an investigator may name by hand (同乘交通工具 among them).
MANUAL_KINDS = (
    ExposureKind.MANUAL,
    ExposureKind.VEHICLE,
    ExposureKind.HOUSEHOLD,
    ExposureKind.WORKPLACE,
    ExposureKind.COMPANION,
)
# What an investigator may promote or demote a contact to.
RECLASSIFY_CLASSES = (
    ContactClass.CLOSE,
    ContactClass.SECONDARY,
    ContactClass.CO_PRESENCE,
    ContactClass.GENERAL,
)
REASON_MAX = 500


# --- settings (how scans are read; who is close is the rule set's) -----------------------


def default_tolerance() -> int:
    """Minutes a stop is widened by on both sides (FANGKONG_COPRESENCE_TOLERANCE_MINUTES)."""
    return int(
        getattr(settings, "FANGKONG_COPRESENCE_TOLERANCE_MINUTES", rules.DEFAULT_TOLERANCE_MINUTES)
    )


def dwell_minutes() -> int:
    """Minutes a scan stands for (FANGKONG_COPRESENCE_DWELL_MINUTES)."""
    return int(getattr(settings, "FANGKONG_COPRESENCE_DWELL_MINUTES", rules.DEFAULT_DWELL_MINUTES))


def _local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _chunks(values: Sequence[int], size: int = CHUNK) -> Iterator[Sequence[int]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _protocol(ruleset: RuleSet, cache: dict[int, Protocol] | None = None) -> Protocol:
    if cache is None:
        return Protocol.from_ruleset(ruleset)
    protocol = cache.get(ruleset.pk)
    if protocol is None:
        protocol = cache[ruleset.pk] = Protocol.from_ruleset(ruleset)
    return protocol


def _venue_minutes(
    hit: scan_selectors.PersonCoPresence, venue_kinds: dict[int, str]
) -> list[tuple[str, int]]:
    """A co-presence hit's minutes per stop, with the venue kind of the stop's place."""
    return [(venue_kinds.get(e.place_id, ""), e.overlap_minutes) for e in hit.evidence()]


def _dates_changed(contact_ids: Iterable[int]) -> None:
    """Tell the apps above that these contacts' classification, last exposure or dates
    changed (quarantine recomputes open placements). Sent inside the transaction, so
    that the receivers' writes commit or roll back with ours."""
    ids = sorted(set(contact_ids))
    if ids:
        signals.contact_dates_changed.send(sender=Contact, contact_ids=ids)


# --- results ------------------------------------------------------------------------------


@dataclass
class ContactFindResult:
    """What one run of contact finding did; `by_class` counts this run's contacts by their
    (resulting) classification."""

    case_id: int
    stops: int
    found: int = 0
    created: int = 0
    updated: int = 0
    exposures_created: int = 0
    exposures_updated: int = 0
    by_class: dict[str, int] = field(default_factory=dict)


@dataclass
class SecondaryFindResult:
    close_contacts: int
    found: int = 0
    created: int = 0
    updated: int = 0
    exposures_created: int = 0
    exposures_updated: int = 0
    by_class: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """One exposure to write: a person, how, when, and the evidence."""

    person_id: int
    kind: str
    classification: str
    exposed_on: dt.date
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    place_id: int | None = None
    overlap_minutes: int = 0
    evidence: dict[str, Any] = field(default_factory=dict)
    source_contact_id: int | None = None


@dataclass
class _WriteStats:
    found: int = 0
    created: int = 0
    updated: int = 0
    exposures_created: int = 0
    exposures_updated: int = 0
    by_class: dict[str, int] = field(default_factory=dict)
    # Existing contacts whose classification, exposure days or dates this write changed.
    changed_ids: list[int] = field(default_factory=list)


# --- co-presence over many stops (the path the benchmark times) -----------------------


def copresence_for_stops(
    *,
    stops: Sequence[scan_selectors.StopSpan],
    tolerance_minutes: int,
    dwell: int,
    exclude_person_ids: Iterable[int] = (),
) -> dict[int, scan_selectors.PersonCoPresence]:
    """Everyone co-present with any of the stops, one entry per person (overlaps summed
    over stops and venues, tracing.rules.contacts), computed in the database; each entry
    carries its per-stop evidence (`evidence()`, indexes into `stops`)."""
    return scan_selectors.copresence_people(
        stops=stops,
        tolerance_minutes=tolerance_minutes,
        dwell_minutes=dwell,
        exclude_person_ids=exclude_person_ids,
    ).get(0, {})


# --- the one write path: upsert contacts and exposures -----------------------------------


def _apply_dates(contact: Contact, ruleset: RuleSet, cache: dict[int, Protocol]) -> None:
    protocol = _protocol(ruleset, cache)
    dates = rules.contact_dates(
        protocol,
        classification=contact.classification,
        last_exposure_on=contact.last_exposure_on,
    )
    contact.ruleset = ruleset
    contact.quarantine_end_on = dates.quarantine_end_on
    contact.monitoring_end_on = dates.monitoring_end_on
    contact.test_dates = dates.test_dates


CONTACT_DATE_FIELDS = (
    "classification",
    "first_exposure_on",
    "last_exposure_on",
    "ruleset_id",
    "quarantine_end_on",
    "monitoring_end_on",
    "upgraded_at",
    "upgrade_reason",
    "updated_at",
)


def _update_contacts(changed: Sequence[Contact]) -> None:
    """Write the changed contacts with one UPDATE per distinct set of new values.

    Contacts found together mostly share their new values (same class, same exposure
    days, same rule set, hence the same dates), so grouping them gives a handful of
    `UPDATE ... WHERE id IN (...)` statements instead of Django's bulk_update, whose
    CASE WHEN per row grows quadratically with the batch.
    """
    groups: dict[tuple[Any, ...], list[int]] = {}
    for c in changed:
        key = (
            *(getattr(c, name) for name in CONTACT_DATE_FIELDS),
            json.dumps(c.test_dates, sort_keys=True),
        )
        groups.setdefault(key, []).append(c.pk)
    for key, ids in groups.items():
        values = dict(zip(CONTACT_DATE_FIELDS, key[:-1], strict=True))
        values["test_dates"] = json.loads(key[-1])
        for chunk in _chunks(sorted(ids)):
            Contact.objects.filter(pk__in=chunk).update(**values)


def _source_label(case: Case | None, contact: Contact | None) -> str:
    if case is not None:
        return case.number
    return _("密接 %(id)s") % {"id": contact.pk if contact else ""}


def _write_findings(
    *,
    actor: User,
    findings: Sequence[Finding],
    case: Case | None = None,
    source_contacts: dict[int, Contact] | None = None,
    upgrade_reason: str = "",
    news: bool = False,
) -> _WriteStats:
    """Create or update one Contact per person and one Exposure per (source, kind).

    The source is `case`, or (secondary contacts) the close contact named by each
    finding's `source_contact_id` among `source_contacts`. The rule set of the source of
    a person's newest finding counts the dates when they change. An investigator's
    reclassification stands against findings no later than the contact's last exposure,
    unless the findings are `news` (a close contact turned positive).
    """
    stats = _WriteStats()
    sources = source_contacts or {}
    by_person: dict[int, list[Finding]] = {}
    for f in findings:
        by_person.setdefault(f.person_id, []).append(f)
    person_ids = sorted(by_person)
    if not person_ids:
        return stats

    def ruleset_of(f: Finding) -> RuleSet:
        if case is not None:
            return case.ruleset
        return sources[int(f.source_contact_id or 0)].ruleset

    def source_key(f: Finding) -> int | None:
        return None if case is not None else f.source_contact_id

    paths: dict[int, str] = {}
    existing: dict[int, Contact] = {}
    for chunk in _chunks(person_ids):
        paths.update(people_selectors.person_paths(ids=chunk))
        existing.update(
            (c.person_id, c)
            for c in Contact.objects.filter(person_id__in=chunk).select_related("ruleset")
        )
    known_exposures: dict[tuple[int, str, int | None], Exposure] = {}
    contact_ids = [c.pk for c in existing.values()]
    for chunk in _chunks(contact_ids):
        qs = Exposure.objects.filter(contact_id__in=chunk)
        if case is not None:
            qs = qs.filter(source_case=case)
        else:
            qs = qs.filter(source_contact_id__in=sorted(sources))
        for e in qs:
            key = None if case is not None else e.source_contact_id
            known_exposures[(e.contact_id, e.kind, key)] = e
    now = timezone.now()
    cache: dict[int, Protocol] = {}
    new_contacts: list[Contact] = []
    changed: list[Contact] = []
    for person_id in person_ids:
        if person_id not in paths:  # deleted meanwhile: nothing to attach to
            continue
        person_findings = by_person[person_id]
        newest_finding = max(person_findings, key=lambda f: f.exposed_on)
        newest = newest_finding.exposed_on
        earliest = min(f.exposed_on for f in person_findings)
        strongest = rules.strongest([f.classification for f in person_findings])
        contact = existing.get(person_id)
        if contact is None:
            contact = Contact(
                person_id=person_id,
                jurisdiction_path=paths[person_id],
                classification=strongest,
                first_exposure_on=earliest,
                last_exposure_on=newest,
            )
            _apply_dates(contact, ruleset_of(newest_finding), cache)
            new_contacts.append(contact)
        else:
            before = (contact.classification, contact.last_exposure_on, contact.first_exposure_on)
            classification = rules.stronger(contact.classification, strongest)
            if contact.reclassified and not news and newest <= contact.last_exposure_on:
                # An investigator's decision stands against the exposures it was made on.
                classification = contact.classification
            if (
                contact.classification == ContactClass.SECONDARY
                and classification == ContactClass.CLOSE
            ):
                contact.upgraded_at = now
                contact.upgrade_reason = upgrade_reason or _("直接暴露于 %(source)s") % {
                    "source": _source_label(case, None)
                }
            contact.classification = classification
            contact.first_exposure_on = min(contact.first_exposure_on, earliest)
            # the protocol counts every period from the latest exposure
            contact.last_exposure_on = latest_exposure([contact.last_exposure_on, newest])
            if before != (
                contact.classification,
                contact.last_exposure_on,
                contact.first_exposure_on,
            ):
                # The exposure in hand brings its rule set when it is (one of) the latest;
                # an older exposure found late keeps the rule set the dates came from.
                ruleset = ruleset_of(newest_finding) if newest >= before[1] else contact.ruleset
                _apply_dates(contact, ruleset, cache)
                contact.updated_at = now
                changed.append(contact)
        stats.by_class[contact.classification] = stats.by_class.get(contact.classification, 0) + 1
    stats.found = sum(1 for p in person_ids if p in paths)
    if new_contacts:
        Contact.objects.bulk_create(new_contacts, batch_size=1000)
        stats.created = len(new_contacts)
    if changed:
        _update_contacts(changed)
        stats.updated = len(changed)
        stats.changed_ids = sorted(c.pk for c in changed)
    contacts_by_person = {c.person_id: c for c in [*existing.values(), *new_contacts]}
    creator = actor if getattr(actor, "is_authenticated", False) else None
    new_exposures: list[Exposure] = []
    updated_exposures: list[Exposure] = []
    for person_id in person_ids:
        contact = contacts_by_person.get(person_id)
        if contact is None:
            continue
        for f in by_person[person_id]:
            known = known_exposures.get((contact.pk, f.kind, source_key(f)))
            if known is not None:
                known.classification = rules.stronger(known.classification, f.classification)
                known.exposed_on = max(known.exposed_on, f.exposed_on)
                known.start, known.end = f.start, f.end
                known.place_id = f.place_id
                known.overlap_minutes = f.overlap_minutes
                known.evidence = f.evidence
                updated_exposures.append(known)
                continue
            exposure = Exposure(
                contact=contact,
                source_case=case,
                source_contact_id=source_key(f),
                kind=f.kind,
                classification=f.classification,
                place_id=f.place_id,
                start=f.start,
                end=f.end,
                exposed_on=f.exposed_on,
                overlap_minutes=f.overlap_minutes,
                evidence=f.evidence,
                created_by=creator,
            )
            new_exposures.append(exposure)
            known_exposures[(contact.pk, f.kind, source_key(f))] = exposure
    if new_exposures:
        Exposure.objects.bulk_create(new_exposures, batch_size=1000)
        stats.exposures_created = len(new_exposures)
    if updated_exposures:
        Exposure.objects.bulk_update(
            updated_exposures,
            [
                "classification",
                "exposed_on",
                "start",
                "end",
                "place",
                "overlap_minutes",
                "evidence",
            ],
            batch_size=1000,
        )
        stats.exposures_updated = len(updated_exposures)
    _dates_changed(stats.changed_ids)
    return stats


# --- finding a case's contacts ---------------------------------------------------------------


def _check_tolerance(tolerance_minutes: int | None) -> int:
    if tolerance_minutes is None:
        return default_tolerance()
    if (
        isinstance(tolerance_minutes, bool)
        or not isinstance(tolerance_minutes, int)
        or not 0 <= tolerance_minutes <= MAX_TOLERANCE_MINUTES
    ):
        raise DomainError(
            "invalid_tolerance",
            _("时间容差须在 0 到 1440 分钟之间"),
            tolerance_minutes=tolerance_minutes,
        )
    return tolerance_minutes


def case_stops(case: Case) -> list[ItineraryStop]:
    """The stops contact finding uses: the confirmed ones if any, else all of them."""
    stops = list(ItineraryStop.objects.filter(investigation__case=case).order_by("start", "pk"))
    confirmed = [s for s in stops if s.confirmed]
    return confirmed or stops


def _case_excluded_person_ids(person_ids: Iterable[int]) -> set[int]:
    """Persons who are cases themselves are never anyone's contacts."""
    ids = sorted(set(person_ids))
    found: set[int] = set()
    for chunk in _chunks(ids):
        found.update(Case.objects.filter(person_id__in=chunk).values_list("person_id", flat=True))
    return found


def _companion_findings(*, actor: User, case: Case) -> tuple[list[Finding], list[str]]:
    """Close contacts from the companions typed in the case's confirmed stops (one
    finding per person, the stops with them as evidence), and the names no one could be
    matched to (for the investigator to resolve by hand). Companions are close when the
    case's rule set lists them as always close."""
    tz = _local_tz()
    protocol = _protocol(case.ruleset)
    by_person: dict[int, list[contact_selectors.CompanionMatch]] = {}
    unmatched: list[str] = []
    for m in contact_selectors.companions_of_case(user=actor, case=case):
        if m.person_id is None:
            unmatched.append(m.name)
        else:
            by_person.setdefault(m.person_id, []).append(m)
    findings = []
    for person_id, ms in by_person.items():
        last = max(ms, key=lambda m: m.stop.end).stop
        findings.append(
            Finding(
                person_id=person_id,
                kind=ExposureKind.COMPANION,
                classification=rules.classify_exposure(protocol, kind=ExposureKind.COMPANION),
                exposed_on=rules.local_date(last.end, tz),
                start=min(m.stop.start for m in ms),
                end=last.end,
                place_id=last.place_id,
                evidence={
                    "companions": [
                        {
                            "name": m.name,
                            "stop": m.stop.pk,
                            "place": m.stop.place_id,
                            "address": m.stop.address,
                            "start": m.stop.start.isoformat(),
                        }
                        for m in ms
                    ]
                },
            )
        )
    return findings, unmatched


def _case_findings(
    case: Case, *, tolerance: int, extra: Sequence[Finding] = ()
) -> tuple[list[Finding], int]:
    tz = _local_tz()
    protocol = _protocol(case.ruleset)
    household_id, workplace_id = people_selectors.person_ties(pk=case.person_id)
    stops = case_stops(case)
    findings: list[Finding] = []
    reported_on = rules.local_date(case.reported_at, tz)
    if household_id is not None:
        for pid, _hid in people_selectors.members_of_households(household_ids=[household_id]):
            if pid != case.person_id:
                findings.append(
                    Finding(
                        person_id=pid,
                        kind=ExposureKind.HOUSEHOLD,
                        classification=rules.classify_exposure(
                            protocol, kind=ExposureKind.HOUSEHOLD
                        ),
                        exposed_on=reported_on,
                        evidence={"household": household_id},
                    )
                )
    if workplace_id is not None:
        at_work = [s for s in stops if s.place_id == workplace_id]
        work_on = (
            rules.local_date(max(s.end for s in at_work), tz)
            if at_work
            else case.first_positive_sampled_on
        )
        for pid in people_selectors.workplace_members(workplace_id=workplace_id):
            if pid != case.person_id:
                findings.append(
                    Finding(
                        person_id=pid,
                        kind=ExposureKind.WORKPLACE,
                        classification=rules.classify_exposure(
                            protocol, kind=ExposureKind.WORKPLACE
                        ),
                        exposed_on=work_on,
                        place_id=workplace_id,
                        evidence={"workplace": workplace_id},
                    )
                )
    place_stops = [s for s in stops if s.place_id is not None]
    spans = [
        scan_selectors.StopSpan(place_id=int(s.place_id or 0), start=s.start, end=s.end)
        for s in place_stops
    ]
    dwell = dwell_minutes()
    stop_ids = [s.pk for s in place_stops]
    venue_kinds = area_selectors.place_venue_kinds(pks=[s.place_id for s in spans])
    thresholds = {
        "small_venue_close_minutes": protocol.small_venue_close_minutes,
        "venue_close_minutes": protocol.venue_close_minutes,
    }
    for pid, hit in copresence_for_stops(
        stops=spans,
        tolerance_minutes=tolerance,
        dwell=dwell,
        exclude_person_ids=[case.person_id],
    ).items():
        evidence = hit.evidence()
        findings.append(
            Finding(
                person_id=pid,
                kind=ExposureKind.CO_PRESENCE,
                classification=rules.classify_copresence(
                    protocol, _venue_minutes(hit, venue_kinds)
                ),
                exposed_on=rules.local_date(hit.last_scan, tz),
                start=hit.first_scan,
                end=hit.last_scan + dt.timedelta(minutes=dwell),
                place_id=hit.best_place_id,
                overlap_minutes=hit.overlap_minutes,
                evidence={
                    "stops": [
                        {
                            "stop": stop_ids[e.index],
                            "place": e.place_id,
                            "first_scan": e.first_scan.isoformat(),
                            "overlap_minutes": e.overlap_minutes,
                            "venue_kind": venue_kinds.get(e.place_id, ""),
                        }
                        for e in evidence
                    ],
                    "tolerance_minutes": tolerance,
                    "dwell_minutes": dwell,
                    **thresholds,
                },
            )
        )
    findings.extend(extra)
    excluded = _case_excluded_person_ids(f.person_id for f in findings)
    excluded.add(case.person_id)
    return [f for f in findings if f.person_id not in excluded], len(stops)


@transaction.atomic
def contacts_find_for_case(
    *, actor: User, case: Case, tolerance_minutes: int | None = None, ip: str = ""
) -> ContactFindResult:
    """Find a case's contacts: household members and co-workers/classmates (close by the
    case's rule set), and everyone co-present with its stops (close or co-presence risk
    person by the venue kinds and thresholds of the rule set). Re-running updates what
    it found before (no duplicates)."""
    require(actor, Capability.CONTACT_MANAGE)
    require_in_scope(actor, case.jurisdiction_path, what="case")
    tolerance = _check_tolerance(tolerance_minutes)
    companions, _unmatched = _companion_findings(actor=actor, case=case)
    findings, stop_count = _case_findings(case, tolerance=tolerance, extra=companions)
    stats = _write_findings(actor=actor, case=case, findings=findings)
    result = ContactFindResult(
        case_id=case.pk,
        stops=stop_count,
        found=stats.found,
        created=stats.created,
        updated=stats.updated,
        exposures_created=stats.exposures_created,
        exposures_updated=stats.exposures_updated,
        by_class=stats.by_class,
    )
    audit_record(
        actor=actor,
        action="contacts.find",
        object_type="case",
        object_id=case.pk,
        object_label=case.number,
        jurisdiction_path=case.jurisdiction_path,
        detail={
            "stops": stop_count,
            "tolerance_minutes": tolerance,
            "found": stats.found,
            "created": stats.created,
            "by_class": stats.by_class,
        },
        ip=ip,
    )
    return result


@dataclass
class CompanionResult:
    found: int
    created: int
    unmatched: list[str]


@transaction.atomic
def contacts_from_companions(*, actor: User, case: Case, ip: str = "") -> CompanionResult:
    """The companions typed in the case's confirmed stops become its close contacts
    (way of contact 同行), written like every other finding (one contact per person, one
    exposure per source and way); the names that match no one, or several, are
    returned for the investigator to resolve. Run when the itinerary is confirmed."""
    require(actor, Capability.CONTACT_MANAGE)
    require_in_scope(actor, case.jurisdiction_path, what="case")
    companions, unmatched = _companion_findings(actor=actor, case=case)
    excluded = _case_excluded_person_ids(f.person_id for f in companions)
    excluded.add(case.person_id)
    findings = [f for f in companions if f.person_id not in excluded]
    stats = _write_findings(actor=actor, case=case, findings=findings)
    if findings or unmatched:
        audit_record(
            actor=actor,
            action="contacts.companions",
            object_type="case",
            object_id=case.pk,
            object_label=case.number,
            jurisdiction_path=case.jurisdiction_path,
            detail={"found": stats.found, "created": stats.created, "unmatched": len(unmatched)},
            ip=ip,
        )
    return CompanionResult(found=stats.found, created=stats.created, unmatched=unmatched)


# --- manual contacts -----------------------------------------------------------------------


def _manual_person(
    *,
    actor: User,
    name: str,
    id_kind: str,
    id_number: str,
    phone: str,
    jurisdiction: Jurisdiction,
    ip: str,
) -> Person:
    """The person named by the investigator, never duplicated: by ID number through
    people.services.person_get_or_create; without an ID, by phone when exactly one person
    in the actor's scope has it (people.services.person_find_by_phone); otherwise a new
    person without ID. Both are people's audited, budgeted lookups, which run in their
    own transactions: never call this inside one."""
    if id_kind == "none" or not (id_number or "").strip():
        if not (phone or "").strip():
            raise DomainError("contact_identity_required", _("请填写证件号码或手机号码"))
        found = person_find_by_phone(actor=actor, phone=phone, ip=ip)
        if found is not None:
            return found
        id_kind, id_number = "none", ""
    person, _created = person_get_or_create(
        actor=actor,
        name=name,
        id_kind=id_kind,
        id_number=id_number,
        phone=phone,
        jurisdiction=jurisdiction,
        ip=ip,
    )
    return person


def contact_add_manual(
    *,
    actor: User,
    case: Case,
    name: str,
    id_kind: str = "ric",
    id_number: str = "",
    phone: str = "",
    jurisdiction: Jurisdiction,
    classification: str | None = ContactClass.CLOSE,
    kind: str = ExposureKind.MANUAL,
    exposed_on: dt.date,
    note: str = "",
    ip: str = "",
) -> Contact:
    """A contact the investigator names (by ID number or phone), with the way of contact
    (`kind`: manual, same vehicle trip, household, workplace, companion), classified as
    they say; with `classification` None, by the case's rule set (a kind it lists as
    always close makes a close contact; a plain manual addition is close).

    Not one transaction on purpose: the person is found or registered first, through
    people's lookups, whose audit records (the trace of the answer and the budget's
    counter) must be committed whatever this service answers next; then the contact is
    written in one transaction (`_manual_contact_write`). Must not be called inside a
    transaction (people.lookups.lookup_run refuses to run in one).
    """
    require(actor, Capability.CONTACT_MANAGE)
    require_in_scope(actor, case.jurisdiction_path, what="case")
    if kind not in MANUAL_KINDS:
        raise DomainError("invalid_exposure_kind", _("未知的接触方式"), kind=kind)
    if classification is None:
        classification = (
            ContactClass.CLOSE
            if kind == ExposureKind.MANUAL
            else rules.classify_exposure(_protocol(case.ruleset), kind=kind)
        )
    if classification not in MANUAL_CLASSES:
        raise DomainError(
            "invalid_classification",
            _("人工添加的接触者只能判定为密接、一般接触者或时空伴随者"),
            classification=classification,
        )
    if not isinstance(exposed_on, dt.date) or exposed_on > timezone.localdate():
        raise DomainError("invalid_exposure_date", _("暴露日期不能晚于今天"))
    if len(note) > 300:
        raise DomainError("note_too_long", _("备注不能超过 300 字"))
    person = _manual_person(
        actor=actor,
        name=name,
        id_kind=id_kind,
        id_number=id_number,
        phone=phone,
        jurisdiction=jurisdiction,
        ip=ip,
    )
    return _manual_contact_write(
        actor=actor,
        case=case,
        person=person,
        classification=classification,
        kind=kind,
        exposed_on=exposed_on,
        note=note,
        ip=ip,
    )


@transaction.atomic
def _manual_contact_write(
    *,
    actor: User,
    case: Case,
    person: Person,
    classification: str,
    kind: str,
    exposed_on: dt.date,
    note: str,
    ip: str,
) -> Contact:
    """The manual contact's exposure and its audit record (contacts.add_manual)."""
    if person.pk == case.person_id or _case_excluded_person_ids([person.pk]):
        raise Conflict("contact_is_case", _("该人员本身是病例，不能作为接触者"))
    _write_findings(
        actor=actor,
        case=case,
        findings=[
            Finding(
                person_id=person.pk,
                kind=kind,
                classification=classification,
                exposed_on=exposed_on,
                evidence={"note": note} if note else {},
            )
        ],
    )
    contact = Contact.objects.select_related("person", "ruleset").get(person=person)
    audit_record(
        actor=actor,
        action="contacts.add_manual",
        object_type="contact",
        object_id=contact.pk,
        object_label=people_rules.mask_name(person.name),
        jurisdiction_path=contact.jurisdiction_path,
        detail={"case": case.pk, "classification": classification, "kind": kind},
        ip=ip,
    )
    return contact


# --- promote or demote a contact -------------------------------------------------------------


@transaction.atomic
def contact_reclassify(
    *, actor: User, contact: Contact, classification: str, reason: str, ip: str = ""
) -> Contact:
    """An investigator promotes or demotes a contact (close ↔ secondary ↔ co-presence
    risk person ↔ general), with a reason: recorded on the contact (`upgraded_at`,
    `upgrade_reason`) and audited with before and after; the dates are recounted from
    its last exposure with its rule set. Codes: `reason_required`, `reason_too_long`,
    `invalid_classification` (400), `classification_unchanged`, `contact_became_case`
    (409); a wrong role 403, a contact outside the actor's scope 404."""
    require(actor, Capability.CONTACT_MANAGE)
    require_in_scope(actor, contact.jurisdiction_path, what="contact")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason_required", _("请填写改判原因"))
    if len(reason) > REASON_MAX:
        raise InvalidInput("reason_too_long", _("改判原因不能超过 500 字"))
    if classification not in RECLASSIFY_CLASSES:
        raise InvalidInput(
            "invalid_classification",
            _("只能改判为密接、次密接、时空伴随者或一般接触者"),
            classification=classification,
        )
    locked = (
        Contact.objects.select_for_update().select_related("ruleset", "person").get(pk=contact.pk)
    )
    if locked.status == ContactStatus.BECAME_CASE:
        raise Conflict("contact_became_case", _("该接触者已转为病例，不能改判"))
    if locked.classification == classification:
        raise Conflict("classification_unchanged", _("判定未改变"), classification=classification)
    fields = ("classification", "quarantine_end_on", "monitoring_end_on", "test_dates")

    def snapshot() -> dict[str, Any]:
        values = {name: getattr(locked, name) for name in fields}
        return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items()}

    before = snapshot()
    locked.classification = classification
    _apply_dates(locked, locked.ruleset, {})
    locked.upgraded_at = timezone.now()
    locked.upgrade_reason = reason
    locked.reclassified = True
    locked.save(
        update_fields=[
            "classification",
            "ruleset",
            "quarantine_end_on",
            "monitoring_end_on",
            "test_dates",
            "upgraded_at",
            "upgrade_reason",
            "reclassified",
            "updated_at",
        ]
    )
    after = snapshot()
    audit_record(
        actor=actor,
        action="contacts.reclassify",
        object_type="contact",
        object_id=locked.pk,
        object_label=people_rules.mask_name(locked.person.name),
        jurisdiction_path=locked.jurisdiction_path,
        detail={
            "before": before,
            "after": after,
            "reason": reason,
            "ruleset": locked.ruleset.version,
        },
        ip=ip,
    )
    _dates_changed([locked.pk])
    return locked


# --- secondary contacts -----------------------------------------------------------------------


def _exposure_starts(contacts: Sequence[Contact]) -> dict[int, dt.datetime]:
    """When each contact was first exposed: the earliest start among its exposures that
    have one (co-presence), else the start of its first exposure day (household,
    workplace, manual). Its own scans count from then on."""
    tz = _local_tz()
    starts: dict[int, dt.datetime] = {}
    ids = [c.pk for c in contacts]
    for chunk in _chunks(ids):
        rows = (
            Exposure.objects.filter(contact_id__in=chunk)
            .exclude(start=None)
            .values_list("contact_id", "start")
        )
        for contact_id, start in rows:
            if start is not None and (contact_id not in starts or start < starts[contact_id]):
                starts[contact_id] = start
    for c in contacts:
        if c.pk not in starts:
            starts[c.pk] = dt.datetime.combine(c.first_exposure_on, dt.time.min, tzinfo=tz)
    return starts


def _secondary_findings(
    contacts: Sequence[Contact], *, now: dt.datetime
) -> dict[int, list[Finding]]:
    """Per close contact: household members and persons co-present with the contact's
    own scans from first exposure until controlled (or now): household members always
    secondary, co-presence only from the rule set's `secondary_copresence_minutes`
    summed over venues (large venues: nothing)."""
    tz = _local_tz()
    cache: dict[int, Protocol] = {}
    protocols = {c.pk: _protocol(c.ruleset, cache) for c in contacts}
    threshold = min((protocol_rules.secondary_minutes_floor(p) for p in cache.values()), default=0)
    dwell = dwell_minutes()
    tolerance = default_tolerance()
    result: dict[int, list[Finding]] = {c.pk: [] for c in contacts}
    by_person = {c.person_id: c for c in contacts}
    household_of: dict[int, int | None] = {}
    for chunk in _chunks(sorted(by_person)):
        household_of.update(people_selectors.person_households(ids=chunk))
    households: dict[int, list[int]] = {}
    household_ids = sorted({hid for hid in household_of.values() if hid})
    for chunk in _chunks(household_ids):
        for pid, hid in people_selectors.members_of_households(household_ids=chunk):
            households.setdefault(hid, []).append(pid)
    starts = _exposure_starts(contacts)
    windows = {c.pk: (starts[c.pk], c.controlled_at or now) for c in contacts}
    for c in contacts:
        household_id = household_of.get(c.person_id)
        until = windows[c.pk][1]
        household_class = rules.classify_secondary_exposure(
            protocols[c.pk], kind=ExposureKind.HOUSEHOLD
        )
        if household_id and household_class is not None:
            for pid in households.get(household_id, []):
                if pid != c.person_id:
                    result[c.pk].append(
                        Finding(
                            person_id=pid,
                            kind=ExposureKind.HOUSEHOLD,
                            classification=household_class,
                            exposed_on=rules.local_date(until, tz),
                            evidence={"household": household_id},
                            source_contact_id=c.pk,
                        )
                    )
    # The close contacts' own scans in their windows: one query per chunk of persons.
    spans: list[scan_selectors.StopSpan] = []
    owners: list[int] = []
    if contacts:
        low = min(w[0] for w in windows.values())
        high = max(w[1] for w in windows.values())
        for chunk in _chunks(sorted(by_person)):
            rows = scan_selectors.scans_of_persons(person_ids=chunk, since=low, until=high)
            for person_id, place_id, scanned_at in rows:
                contact = by_person[person_id]
                since, until = windows[contact.pk]
                if since <= scanned_at <= until:
                    spans.append(
                        scan_selectors.StopSpan(
                            place_id=place_id,
                            start=scanned_at,
                            end=scanned_at + dt.timedelta(minutes=dwell),
                        )
                    )
                    owners.append(contact.pk)
    # Every close contact's scans are one group of stops: one statement per batch of
    # stops for all the contacts together, one row per (contact, co-present person).
    # Only persons at or over the close threshold become secondary contacts: the
    # database drops the rest of a busy venue's crowd before it reaches Python.
    per_contact = scan_selectors.copresence_people(
        stops=spans,
        tolerance_minutes=tolerance,
        dwell_minutes=dwell,
        groups=owners,
        min_overlap_minutes=threshold,
    )
    person_of = {c.pk: c.person_id for c in contacts}
    venue_kinds = area_selectors.place_venue_kinds(pks={s.place_id for s in spans})
    for owner, hits in per_contact.items():
        protocol = protocols[owner]
        for pid, m in hits.items():
            if pid == person_of[owner]:
                continue
            classification = rules.classify_secondary_copresence(
                protocol, _venue_minutes(m, venue_kinds)
            )
            if classification is None:
                continue
            result[owner].append(
                Finding(
                    person_id=pid,
                    kind=ExposureKind.CO_PRESENCE,
                    classification=classification,
                    exposed_on=rules.local_date(m.last_scan, tz),
                    start=m.first_scan,
                    end=m.last_scan + dt.timedelta(minutes=dwell),
                    place_id=m.best_place_id,
                    overlap_minutes=m.overlap_minutes,
                    evidence={
                        "places": list(m.place_ids),
                        "tolerance_minutes": tolerance,
                        "dwell_minutes": dwell,
                        "secondary_copresence_minutes": protocol.secondary_copresence_minutes,
                    },
                    source_contact_id=owner,
                )
            )
    return result


def _secondary_run(*, actor: User, contacts: Sequence[Contact]) -> SecondaryFindResult:
    now = timezone.now()
    findings = _secondary_findings(contacts, now=now)
    all_person_ids = {f.person_id for fs in findings.values() for f in fs}
    excluded = _case_excluded_person_ids(all_person_ids)
    flat = [f for fs in findings.values() for f in fs if f.person_id not in excluded]
    stats = _write_findings(actor=actor, findings=flat, source_contacts={c.pk: c for c in contacts})
    return SecondaryFindResult(
        close_contacts=len(contacts),
        found=stats.found,
        created=stats.created,
        updated=stats.updated,
        exposures_created=stats.exposures_created,
        exposures_updated=stats.exposures_updated,
        by_class=stats.by_class,
    )


@transaction.atomic
def secondary_contacts_find(*, actor: User, contact: Contact, ip: str = "") -> SecondaryFindResult:
    """Secondary contacts (密接的密接) of one close contact, each linked to it by
    Exposure.source_contact; an existing close contact keeps its class."""
    require(actor, Capability.CONTACT_MANAGE)
    require_in_scope(actor, contact.jurisdiction_path, what="contact")
    if contact.classification != ContactClass.CLOSE:
        raise Conflict(
            "not_close_contact",
            _("只有密切接触者才能查找次密接"),
            classification=contact.classification,
        )
    result = _secondary_run(actor=actor, contacts=[contact])
    audit_record(
        actor=actor,
        action="contacts.find_secondary",
        object_type="contact",
        object_id=contact.pk,
        jurisdiction_path=contact.jurisdiction_path,
        detail={"found": result.found, "created": result.created, "by_class": result.by_class},
        ip=ip,
    )
    return result


def close_contacts_of_case(case: Case) -> list[Contact]:
    """The case's close contacts (through its exposures), oldest first."""
    return list(
        Contact.objects.filter(
            classification=ContactClass.CLOSE,
            pk__in=Exposure.objects.filter(source_case=case).values("contact_id"),
        )
        .exclude(status=ContactStatus.BECAME_CASE)
        .select_related("ruleset")
        .order_by("pk")
    )


@transaction.atomic
def secondary_contacts_find_for_case(
    *, actor: User, case: Case, ip: str = ""
) -> SecondaryFindResult:
    """Secondary contacts of every close contact of a case (set-based over all of them)."""
    require(actor, Capability.CONTACT_MANAGE)
    require_in_scope(actor, case.jurisdiction_path, what="case")
    result = _secondary_run(actor=actor, contacts=close_contacts_of_case(case))
    audit_record(
        actor=actor,
        action="contacts.find_secondary",
        object_type="case",
        object_id=case.pk,
        object_label=case.number,
        jurisdiction_path=case.jurisdiction_path,
        detail={
            "close_contacts": result.close_contacts,
            "found": result.found,
            "created": result.created,
            "by_class": result.by_class,
        },
        ip=ip,
    )
    return result


# --- a contact turns positive ----------------------------------------------------------------


@transaction.atomic
def contact_turned_positive(*, actor: User, contact: Contact, case: Case, ip: str = "") -> int:
    """The contact is now `case`: its status becomes became_case, and every secondary
    contact linked to it is upgraded to close contact (with when and why), its exposure
    re-recorded against the new case and its dates recounted with the case's rule set.
    Returns the number of contacts upgraded."""
    require(actor, Capability.CONTACT_MANAGE)
    if case.person_id != contact.person_id:
        raise DomainError("case_person_mismatch", _("病例与接触者不是同一人"))
    now = timezone.now()
    contact.status = ContactStatus.BECAME_CASE
    contact.save(update_fields=["status", "updated_at"])
    links = list(
        Exposure.objects.filter(source_contact=contact).select_related(
            "contact", "contact__ruleset"
        )
    )
    reason = _("所接触的密接转为病例 %(case)s") % {"case": case.number}
    findings: list[Finding] = []
    upgraded_ids: set[int] = set()
    for link in links:
        secondary = link.contact
        if secondary.status == ContactStatus.BECAME_CASE:
            continue
        if secondary.classification == ContactClass.SECONDARY:
            upgraded_ids.add(secondary.pk)
        findings.append(
            Finding(
                person_id=secondary.person_id,
                kind=link.kind,
                classification=ContactClass.CLOSE,
                exposed_on=link.exposed_on,
                start=link.start,
                end=link.end,
                place_id=link.place_id,
                overlap_minutes=link.overlap_minutes,
                evidence={**link.evidence, "via_contact": contact.pk},
            )
        )
    _write_findings(actor=actor, case=case, findings=findings, upgrade_reason=reason, news=True)
    # The upgrade stamps the moment and reason even when no later exposure changed dates.
    Contact.objects.filter(pk__in=upgraded_ids).update(upgraded_at=now, upgrade_reason=reason)
    audit_record(
        actor=actor,
        action="contacts.became_case",
        object_type="contact",
        object_id=contact.pk,
        # The object is the contact: named by its person (masked), then the case it became.
        object_label=f"{people_rules.mask_name(contact.person.name)} → {case.number}",
        jurisdiction_path=contact.jurisdiction_path,
        detail={"case": case.pk, "upgraded": sorted(upgraded_ids)},
        ip=ip,
    )
    _link_source_cases(actor=actor, contact=contact, case=case, ip=ip)
    return len(upgraded_ids)


def _link_source_cases(*, actor: User, contact: Contact, case: Case, ip: str) -> None:
    """The new case came from a known contact: link it to the cases the contact was
    exposed to most closely (infector → infectee, the exposures as evidence), through
    the chains' own service. A link it refuses (already there, a cycle, a case outside the actor's
    jurisdiction) is left out: the investigator can still link by hand."""
    exposed = list(
        Exposure.objects.filter(contact=contact, source_case__isnull=False)
        .exclude(source_case=case)
        .values_list("source_case_id", "classification")
    )
    if not exposed:
        return
    # Only the exposures of the strongest class: a close contact of one case who merely
    # passed another at a venue was infected by the first, as far as tracing can tell.
    strongest = rules.strongest([c for _pk, c in exposed])
    ids = sorted({pk for pk, c in exposed if c == strongest})
    for source in Case.objects.filter(pk__in=ids).order_by("pk"):
        try:
            chain_services.case_link_create(actor=actor, infector=source, infectee=case, ip=ip)
        except DomainError:
            continue
