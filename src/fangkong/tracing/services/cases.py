"""Tracing services: cases, their investigation, and overdue escalation (the itinerary is
in `itinerary`).

Every write of a case goes through here (pages, API, drill and the testing module's
positive results alike): keyword-only, atomic, validated before anything is written,
audited. A case's rule set is the one in force on its first positive sample date for the
person's jurisdiction; the look-back start and both deadlines are computed from it once,
at creation, and stored with it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.accounts.permissions import require, require_in_scope
from fangkong.accounts.roles import Capability
from fangkong.accounts.services import audit_record
from fangkong.areas.services import zones as zone_services
from fangkong.core.errors import Conflict, DomainError, NotFound
from fangkong.protocol.rules import Protocol
from fangkong.protocol.selectors import ruleset_for
from fangkong.tracing.models import (
    Case,
    CaseKind,
    CaseOrigin,
    CaseStatus,
    Contact,
    ContactStatus,
    Investigation,
)
from fangkong.tracing.rules import cases as rules
from fangkong.tracing.selectors.cases import overdue_q
from fangkong.tracing.services import notifications

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.people.models import Person

DEFAULT_CASE_NUMBER_PREFIX = "TX"
NUMBER_ATTEMPTS = 8
TEXT_MAX = 300
UNIT_MAX = 200
REASON_MAX = 500


def case_number_prefix() -> str:
    return str(getattr(settings, "FANGKONG_CASE_NUMBER_PREFIX", DEFAULT_CASE_NUMBER_PREFIX))


def audit_case(
    actor: User | None,
    action: str,
    case: Case,
    *,
    detail: dict[str, Any] | None = None,
    ip: str = "",
) -> None:
    """Audit `action` on the case (its number as the label, its jurisdiction's path)."""
    audit_record(
        actor=actor,
        action=action,
        object_type="case",
        object_id=case.pk,
        object_label=case.number,
        jurisdiction_path=case.jurisdiction_path,
        detail=detail,
        ip=ip,
    )


def require_case_manage(actor: User, case: Case) -> None:
    """The actor may manage cases, and this case lies in their scope; else 403/404."""
    require(actor, Capability.CASE_MANAGE)
    require_in_scope(actor, case.jurisdiction_path, what="case")


def locked_case(case: Case) -> Case:
    """The case row, locked for this transaction (PostgreSQL), with fresh values."""
    fresh = Case.objects.select_for_update().filter(pk=case.pk).first()
    if fresh is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="case")
    return fresh


def _transition(case: Case, target: str) -> None:
    if not rules.transition_allowed(case.status, target):
        raise Conflict(
            "case_transition_invalid",
            _("病例当前状态不允许此操作"),
            case_status=case.status,
            target=target,
        )


# What the pages call the free-text fields, for a refusal that names the field.
_TEXT_LABELS = {
    "address": gettext_lazy("地址"),
    "companions": gettext_lazy("同行人员"),
    "note": gettext_lazy("备注"),
    "reporting_unit": gettext_lazy("报告单位"),
    "symptoms": gettext_lazy("症状"),
    "vaccination": gettext_lazy("疫苗接种"),
    "interview_notes": gettext_lazy("访谈记录"),
    "reason": gettext_lazy("原因"),
}


def clean_text(value: str, field: str, limit: int = TEXT_MAX) -> str:
    """A free text stripped, or 400 `value_too_long` past `limit` (the message names the
    field and the limit: "报告单位不能超过 200 字")."""
    clean = (value or "").strip()
    if len(clean) > limit:
        label = _TEXT_LABELS.get(field)
        message = (
            _("%(label)s不能超过 %(limit)d 字") % {"label": label, "limit": limit}
            if label
            else _("内容过长")
        )
        raise DomainError("value_too_long", message, field=field, limit=limit)
    return clean


# --- cases ------------------------------------------------------------------------------


def _next_sequence(prefix: str, year: int) -> int:
    head = f"{prefix}{year}-"
    last = (
        Case.objects.filter(number__startswith=head)
        .annotate(number_len=Length("number"))
        .order_by("-number_len", "-number")
        .values_list("number", flat=True)
        .first()
    )
    current = rules.case_number_sequence(last, prefix, year) if last else None
    return (current or 0) + 1


def _insert_numbered(case: Case) -> None:
    """Insert with the next number of the city's yearly sequence.

    Race-safe: the UNIQUE number decides; the loser of a race retries with the next
    number. A collision on the person (one case per person) is `case_exists`.
    """
    prefix = case_number_prefix()
    year = timezone.localtime(case.reported_at).year
    for _attempt in range(NUMBER_ATTEMPTS):
        case.number = rules.case_number(prefix, year, _next_sequence(prefix, year))
        try:
            with transaction.atomic():
                case.save(force_insert=True)
        except IntegrityError:
            case.pk = None
            if Case.objects.filter(person_id=case.person_id).exists():
                raise _case_exists(case.person_id) from None
            continue
        return
    raise Conflict("case_number_busy", _("病例编号分配冲突，请重试"))


def _case_exists(person_id: int) -> Conflict:
    existing = Case.objects.filter(person_id=person_id).values_list("pk", flat=True).first()
    return Conflict("case_exists", _("该人员已有病例"), case=existing)


def _turn_contact_positive(actor: User, person: Person, case: Case) -> None:
    """The person was a contact: their contact record became this case."""
    contact = Contact.objects.filter(person=person).first()
    if contact is None:
        return
    from fangkong.tracing.services import contacts as contact_services

    turned_positive = getattr(contact_services, "contact_turned_positive", None)
    if turned_positive is not None:
        turned_positive(actor=actor, contact=contact, case=case)
    Contact.objects.filter(pk=contact.pk).exclude(status=ContactStatus.BECAME_CASE).update(
        status=ContactStatus.BECAME_CASE, updated_at=timezone.now()
    )
    case.from_contact = contact
    case.save(update_fields=["from_contact", "updated_at"])


@transaction.atomic
def case_create(
    *,
    actor: User,
    person: Person,
    kind: str,
    first_positive_sampled_on: dt.date,
    onset_date: dt.date | None = None,
    origin: str = CaseOrigin.LOCAL,
    reported_at: dt.datetime | None = None,
    reporting_unit: str = "",
    ip: str = "",
) -> Case:
    """Report a case for `person` (one per person: Conflict `case_exists`)."""
    require(actor, Capability.CASE_MANAGE)
    require_in_scope(actor, person.jurisdiction_path, what="person")
    if kind not in CaseKind.values:
        raise DomainError("case_kind_invalid", _("病例类型无效"), kind=kind)
    if origin not in CaseOrigin.values:
        raise DomainError("case_origin_invalid", _("病例来源无效"), origin=origin)
    now = timezone.now()
    reported = reported_at or now
    if timezone.is_naive(reported):
        raise DomainError("naive_datetime", _("时间必须带时区"), field="reported_at")
    if reported > now + dt.timedelta(minutes=5):
        raise DomainError("date_in_future", _("日期不能晚于今天"), field="reported_at")
    rules.check_case_dates(
        kind=kind,
        onset_date=onset_date,
        first_positive_sampled_on=first_positive_sampled_on,
        reported_on=timezone.localdate(reported),
        today=timezone.localdate(now),
    )
    unit = clean_text(reporting_unit, "reporting_unit", UNIT_MAX)
    if Case.objects.filter(person=person).exists():
        raise _case_exists(person.pk)
    ruleset = ruleset_for(on_date=first_positive_sampled_on, path=person.jurisdiction_path)
    protocol = Protocol.from_ruleset(ruleset)
    lookback = rules.case_lookback_start(
        protocol,
        kind=kind,
        onset_date=onset_date,
        first_positive_sampled_on=first_positive_sampled_on,
    )
    deadlines = rules.case_deadlines(protocol, reported_at=reported)
    case = Case(
        person=person,
        jurisdiction_path=person.jurisdiction_path,
        kind=kind,
        origin=origin,
        onset_date=onset_date,
        first_positive_sampled_on=first_positive_sampled_on,
        reported_at=reported,
        reporting_unit=unit,
        ruleset=ruleset,
        lookback_start=lookback.value,
        core_facts_due_at=deadlines.core_facts.value,
        report_due_at=deadlines.report.value,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    _insert_numbered(case)
    _turn_contact_positive(actor, person, case)
    zone_services.zones_record_case_at_home(  # a case at home in a zone escalates it
        actor=actor,
        path=case.jurisdiction_path,
        on_date=timezone.localdate(reported),
        case_label=case.number,
        ip=ip,
    )
    audit_case(
        actor,
        "case.create",
        case,
        detail={
            "kind": kind,
            "origin": origin,
            "ruleset": ruleset.version,
            "lookback_start": lookback.value.isoformat(),
            "lookback_rule": lookback.rule,
            "from_contact": case.from_contact_id,
        },
        ip=ip,
    )
    notifications.case_created(case)
    return case


def case_create_from_positive(
    *,
    actor: User,
    person: Person,
    sampled_on: dt.date,
    kind: str = CaseKind.ASYMPTOMATIC,
    reporting_unit: str = "",
    ip: str = "",
) -> Case:
    """A positive result makes a case (testing module). A person who already is a case
    keeps it: the existing case is returned, nothing is written."""
    require(actor, Capability.CASE_MANAGE)
    require_in_scope(actor, person.jurisdiction_path, what="person")
    existing = Case.objects.filter(person=person).first()
    if existing is not None:
        return existing
    try:
        return case_create(
            actor=actor,
            person=person,
            kind=kind,
            first_positive_sampled_on=sampled_on,
            reporting_unit=reporting_unit,
            ip=ip,
        )
    except Conflict as exc:  # a concurrent report of the same person
        if exc.code != "case_exists":
            raise
        return Case.objects.get(person=person)


# --- lifecycle --------------------------------------------------------------------------


def _start(
    actor: User, case: Case, investigator: User | None, now: dt.datetime, ip: str
) -> Investigation:
    _transition(case, CaseStatus.INVESTIGATING)
    investigation, _created = Investigation.objects.get_or_create(
        case=case,
        defaults={
            "investigator": investigator or actor,
            "started_at": now,
        },
    )
    case.status = CaseStatus.INVESTIGATING
    case.save(update_fields=["status", "updated_at"])
    audit_case(
        actor,
        "case.start_investigation",
        case,
        detail={"investigator": getattr(investigation.investigator, "username", "")},
        ip=ip,
    )
    return investigation


@transaction.atomic
def case_start_investigation(
    *, actor: User, case: Case, investigator: User | None = None, ip: str = ""
) -> Investigation:
    """reported → investigating: the investigation (interview and itinerary) begins."""
    require_case_manage(actor, case)
    case = locked_case(case)
    return _start(actor, case, investigator, timezone.now(), ip)


def open_investigation(actor: User, case: Case, ip: str) -> tuple[Case, Investigation]:
    """The case (locked) and its investigation, started if the case is only reported;
    Conflict once the report is complete."""
    case = locked_case(case)
    if case.status not in rules.ITINERARY_OPEN_STATUSES:
        raise Conflict(
            "case_transition_invalid", _("病例当前状态不允许此操作"), case_status=case.status
        )
    if case.status == CaseStatus.REPORTED:
        return case, _start(actor, case, None, timezone.now(), ip)
    return case, Investigation.objects.get(case=case)


@transaction.atomic
def case_record_core_facts(
    *,
    actor: User,
    case: Case,
    symptoms: str = "",
    vaccination: str = "",
    interview_notes: str = "",
    ip: str = "",
) -> Case:
    """Record the core facts (核心信息); marks them done the first time."""
    require_case_manage(actor, case)
    case, investigation = open_investigation(actor, case, ip)
    investigation.symptoms = clean_text(symptoms, "symptoms", 2000) or investigation.symptoms
    investigation.vaccination = (
        clean_text(vaccination, "vaccination", 200) or investigation.vaccination
    )
    notes = clean_text(interview_notes, "interview_notes", 20000)
    if notes:
        investigation.interview_notes = notes
    investigation.save(update_fields=["symptoms", "vaccination", "interview_notes"])
    first = case.core_facts_done_at is None
    late = False
    if first:
        done = timezone.now()
        late = done > case.core_facts_due_at
        case.core_facts_done_at = done
        case.save(update_fields=["core_facts_done_at", "updated_at"])
    audit_case(actor, "case.core_facts", case, detail={"first": first, "late": late}, ip=ip)
    return case


@transaction.atomic
def case_complete_report(
    *,
    actor: User,
    case: Case,
    interview_notes: str = "",
    symptoms: str = "",
    vaccination: str = "",
    ip: str = "",
) -> Case:
    """investigating → investigated: the report is complete; the itinerary must be
    confirmed (`itinerary_not_confirmed`)."""
    require_case_manage(actor, case)
    case = locked_case(case)
    _transition(case, CaseStatus.INVESTIGATED)
    investigation = Investigation.objects.get(case=case)
    if investigation.itinerary_confirmed_at is None:
        raise Conflict("itinerary_not_confirmed", _("活动轨迹尚未确认"))
    notes = clean_text(interview_notes, "interview_notes", 20000)
    now = timezone.now()
    if notes:
        investigation.interview_notes = notes
    investigation.symptoms = clean_text(symptoms, "symptoms", 2000) or investigation.symptoms
    investigation.vaccination = (
        clean_text(vaccination, "vaccination", 200) or investigation.vaccination
    )
    investigation.completed_at = now
    investigation.save()
    case.status = CaseStatus.INVESTIGATED
    case.report_done_at = now
    case.core_facts_done_at = case.core_facts_done_at or now
    case.save(update_fields=["status", "report_done_at", "core_facts_done_at", "updated_at"])
    audit_case(
        actor, "case.complete_report", case, detail={"late": now > case.report_due_at}, ip=ip
    )
    return case


@transaction.atomic
def case_close(*, actor: User, case: Case, reason: str, ip: str = "") -> Case:
    """investigated → closed (结案), with the reason in the audit record."""
    require_case_manage(actor, case)
    clean = clean_text(reason, "reason", REASON_MAX)
    if not clean:
        raise DomainError("close_reason_required", _("请填写结案原因"), field="reason")
    case = locked_case(case)
    _transition(case, CaseStatus.CLOSED)
    case.status = CaseStatus.CLOSED
    case.save(update_fields=["status", "updated_at"])
    audit_case(actor, "case.close", case, detail={"reason": clean}, ip=ip)
    return case


# --- overdue ----------------------------------------------------------------------------


@transaction.atomic
def cases_escalate_overdue(*, now: dt.datetime | None = None) -> list[Case]:
    """Mark the open cases past their core-facts or report deadline (not done) as
    escalated to command, once each, and audit `case.escalate`. Safe to run twice."""
    moment = now or timezone.now()
    escalated: list[Case] = []
    told: list[tuple[Case, list[str]]] = []
    candidates = list(
        Case.objects.filter(overdue_q(moment), escalated_at__isnull=True).order_by("pk")[:5000]
    )
    for case in candidates:
        if not Case.objects.filter(pk=case.pk, escalated_at__isnull=True).update(
            escalated_at=moment
        ):
            continue  # a concurrent run took it
        case.escalated_at = moment
        missed = []
        if case.core_facts_done_at is None and case.core_facts_due_at < moment:
            missed.append("core_facts")
        if case.report_done_at is None and case.report_due_at < moment:
            missed.append("report")
        audit_case(None, "case.escalate", case, detail={"missed": missed})
        escalated.append(case)
        told.append((case, missed))
    notifications.cases_escalated(told)
    return escalated
