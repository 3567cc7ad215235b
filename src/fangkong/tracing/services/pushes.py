"""Tracing services: verification pushes (推送核查) and assist requests (协查函).

A case's newly identified contacts are grouped by the town they live in into one list per
town, with a deadline from the case's rule set (`verification_push_hours`). Town staff
mark each person; the contact's status follows the mark. A person outside the city yields
an assist request to the region named in the note. Open lists past their deadline are
escalated to command once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require, require_in_scope
from fangkong.accounts.roles import Capability
from fangkong.accounts.services import audit_record
from fangkong.areas import selectors as area_selectors
from fangkong.areas.choices import Level
from fangkong.core.errors import DomainError
from fangkong.core.paths import town_of
from fangkong.core.spreadsheet import has_control_characters
from fangkong.people.rules import mask_name
from fangkong.protocol.rules import Protocol, deadline_after
from fangkong.tracing.models import (
    AssistRequest,
    Case,
    Contact,
    ContactStatus,
    PushItem,
    PushItemStatus,
    PushStatus,
    VerificationPush,
)
from fangkong.tracing.services import notifications

if TYPE_CHECKING:
    from fangkong.accounts.models import User

NOTE_MAX = 300
NUMBER_ATTEMPTS = 5

# Item marks that close an item: the person is controlled, or the town has answered
# definitively (not found: handed on; outside: an assist request goes out). "Located" is
# not final: the person still has to be put under control.
FINAL_ITEM_STATUSES: frozenset[str] = frozenset(
    {
        PushItemStatus.CENTRALISED,
        PushItemStatus.HOME,
        PushItemStatus.HOSPITAL,
        PushItemStatus.NOT_FOUND,
        PushItemStatus.OUTSIDE,
    }
)
CONTROL_ITEM_STATUSES: frozenset[str] = frozenset(
    {PushItemStatus.CENTRALISED, PushItemStatus.HOME, PushItemStatus.HOSPITAL}
)
MARKABLE_STATUSES: frozenset[str] = frozenset(PushItemStatus.values) - {PushItemStatus.PENDING}
# A contact in one of these states has moved on; a late mark must not pull it back.
SETTLED_CONTACT_STATUSES: frozenset[str] = frozenset(
    {ContactStatus.BECAME_CASE, ContactStatus.RELEASED}
)


def _local_now(now: dt.datetime) -> dt.datetime:
    return timezone.localtime(now)


def _next_number(model: Any, prefix: str) -> str:
    """The next free `prefix` + 4-digit sequence (the UNIQUE column decides under races)."""
    last = (
        model.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    seq = int(last[len(prefix) :]) + 1 if last and last[len(prefix) :].isdigit() else 1
    return f"{prefix}{seq:04d}"


def _create_numbered(model: Any, prefix: str, **fields: Any) -> Any:
    """Insert a row with the next number, retrying in a savepoint if a concurrent insert
    took it (the UNIQUE constraint on `number` is what prevents duplicates)."""
    for _attempt in range(NUMBER_ATTEMPTS):
        number = _next_number(model, prefix)
        try:
            with transaction.atomic():
                return model.objects.create(number=number, **fields)
        except IntegrityError:
            if not model.objects.filter(number=number).exists():
                raise
    raise DomainError("number_busy", _("编号生成冲突，请重试"), prefix=prefix)


def push_number_prefix(now: dt.datetime) -> str:
    """`TS20220704-`: pushes are numbered per local day."""
    return f"TS{_local_now(now):%Y%m%d}-"


def assist_number_prefix(now: dt.datetime) -> str:
    """`XC2022-`: assist requests are numbered per local year."""
    return f"XC{_local_now(now):%Y}-"


def contacts_of_case_q(case: Case) -> Q:
    """Contacts exposed to the case, and secondary contacts exposed to its contacts."""
    return Q(exposures__source_case=case) | Q(
        exposures__source_contact__exposures__source_case=case
    )


def town_path_of(path: str) -> str:
    return town_of(path)


@transaction.atomic
def pushes_create_for_case(*, actor: User, case: Case, ip: str = "") -> list[VerificationPush]:
    """Push the case's IDENTIFIED contacts to the towns they live in: one list per town.

    Idempotent: a contact already on an open list, or no longer IDENTIFIED, is not pushed
    again; a second call with nothing new returns []. The contacts move to PUSHED.
    """
    require(actor, Capability.CONTACT_MANAGE)
    require_in_scope(actor, case.jurisdiction_path, what="case")
    candidate_ids = list(
        Contact.objects.filter(contacts_of_case_q(case), status=ContactStatus.IDENTIFIED)
        .values_list("pk", flat=True)
        .distinct()
    )
    if not candidate_ids:
        return []
    # Lock the contacts, then re-check their state: a concurrent push of the same
    # contacts (from this or another case) waits here and then finds them PUSHED.
    contacts = list(
        Contact.objects.select_for_update()
        .filter(pk__in=candidate_ids, status=ContactStatus.IDENTIFIED)
        .exclude(push_items__push__status=PushStatus.OPEN)
        .order_by("pk")
    )
    if not contacts:
        return []
    by_town: dict[str, list[Contact]] = defaultdict(list)
    for contact in contacts:
        by_town[town_path_of(contact.jurisdiction_path)].append(contact)
    towns = area_selectors.jurisdictions_at(paths=by_town, level=Level.TOWN)
    missing = sorted(set(by_town) - set(towns))
    if missing:
        raise DomainError("town_not_found", _("接触者所在镇街不存在"), towns=missing)

    now = timezone.now()
    deadline = deadline_after(Protocol.from_ruleset(case.ruleset), now, "verification_push")
    prefix = push_number_prefix(now)
    created: list[VerificationPush] = []
    for town_path in sorted(by_town):
        town = towns[town_path]
        members = by_town[town_path]
        push = _create_numbered(
            VerificationPush,
            prefix,
            town=town,
            jurisdiction_path=town.path,
            case=case,
            deadline=deadline.value,
            ruleset=case.ruleset,
            created_by=actor,
        )
        PushItem.objects.bulk_create(
            [PushItem(push=push, contact=c, jurisdiction_path=c.jurisdiction_path) for c in members]
        )
        audit_record(
            actor=actor,
            action="push.create",
            object_type="verification_push",
            object_id=push.pk,
            object_label=push.number,
            jurisdiction_path=town.path,
            detail={
                "case": case.pk,
                "town": town.path,
                "items": len(members),
                "deadline": deadline.value.isoformat(),
                "rule": deadline.rule,
                "ruleset_version": deadline.ruleset_version,
            },
            ip=ip,
        )
        notifications.push_created(push, town_name=town.name, items=len(members))
        created.append(push)
    Contact.objects.filter(pk__in=[c.pk for c in contacts]).update(
        status=ContactStatus.PUSHED, updated_at=now
    )
    return created


def _clean_note(note: str) -> str:
    clean = (note or "").strip()
    # A note is exported to a town's workbook: control characters (tab and line breaks
    # excepted) have no place in it and some cannot be stored in an .xlsx cell.
    if has_control_characters(note or ""):
        raise DomainError("note_control_character", _("备注含有不可见的控制字符"))
    if len(clean) > NOTE_MAX:
        raise DomainError(
            "note_too_long", _("备注不能超过%(max)d个字符") % {"max": NOTE_MAX}, max=NOTE_MAX
        )
    return clean


def push_mark_check(*, status: str, note: str) -> str:
    """Validate a mark (no database): the clean note, or a DomainError with a stable code."""
    if status not in MARKABLE_STATUSES:
        raise DomainError("push_status_invalid", _("核查结果无效"), value=status)
    clean = _clean_note(note)
    if status == PushItemStatus.OUTSIDE and not clean:
        raise DomainError(
            "target_region_required", _("不在本市的人员须在备注中填写所在地区"), value=status
        )
    return clean


def _assist_reason(contact: Contact, push: VerificationPush) -> str:
    case_number = push.case.number if push.case_id and push.case else ""
    return _("%(case)s 的%(kind)s，末次暴露日期 %(date)s，推送清单 %(push)s") % {
        "case": case_number,
        "kind": contact.get_classification_display(),
        "date": contact.last_exposure_on.isoformat(),
        "push": push.number,
    }


def _assist_request_for(
    *, actor: User, contact: Contact, push: VerificationPush, target_region: str, ip: str
) -> AssistRequest:
    existing = AssistRequest.objects.filter(contact=contact, target_region=target_region).first()
    if existing is not None:
        return existing
    now = timezone.now()
    request = _create_numbered(
        AssistRequest,
        assist_number_prefix(now),
        contact=contact,
        jurisdiction_path=contact.jurisdiction_path,
        target_region=target_region[:200],
        reason=_assist_reason(contact, push),
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="assist_request.create",
        object_type="assist_request",
        object_id=request.pk,
        object_label=request.number,
        jurisdiction_path=contact.jurisdiction_path,
        detail={"contact": contact.pk, "push": push.pk, "target_region": request.target_region},
        ip=ip,
    )
    return request


def _contact_follow_mark(contact: Contact, status: str, now: dt.datetime) -> list[str]:
    """Move the contact to the state the mark says; the changed columns."""
    if contact.status in SETTLED_CONTACT_STATUSES:
        return []
    if status in CONTROL_ITEM_STATUSES:
        changed = []
        if contact.status != ContactStatus.CONTROLLED or contact.control_measure != status:
            contact.status = ContactStatus.CONTROLLED
            contact.control_measure = status
            changed = ["status", "control_measure"]
            if contact.controlled_at is None:
                contact.controlled_at = now
                changed.append("controlled_at")
        return changed
    target = {
        PushItemStatus.LOCATED: ContactStatus.LOCATED,
        PushItemStatus.NOT_FOUND: ContactStatus.NOT_FOUND,
        PushItemStatus.OUTSIDE: ContactStatus.OUTSIDE,
    }[PushItemStatus(status)]
    if contact.status == target:
        return []
    contact.status = target
    return ["status"]


@transaction.atomic
def push_item_mark(
    *, actor: User, item: PushItem, status: str, note: str = "", ip: str = ""
) -> PushItem:
    """The town's feedback on one person of a pushed list.

    Marking after the deadline is allowed and recorded as late (`marked_at` after the
    list's deadline; the audit record says so). Re-marking with the same status and note
    changes nothing and writes nothing. When every item of the list is final the list is
    DONE; a correction back to a non-final mark reopens it.
    """
    require(actor, Capability.PUSH_FEEDBACK)
    require_in_scope(actor, item.jurisdiction_path, what="push_item")
    clean = push_mark_check(status=status, note=note)
    item = (
        PushItem.objects.select_for_update(of=("self",))
        .select_related("push", "push__case")
        .get(pk=item.pk)
    )
    push = item.push
    if item.status == status and item.note == clean:
        return item
    now = timezone.now()
    previous = item.status
    fields = ["note", "version"]
    item.note = clean
    item.version += 1  # the row is locked: no lost increment
    if item.status != status:
        item.status = status
        item.marked_at = now
        item.marked_by = actor
        fields += ["status", "marked_at", "marked_by"]
    item.save(update_fields=fields)

    contact = Contact.objects.select_for_update().get(pk=item.contact_id)
    contact_fields = _contact_follow_mark(contact, status, now)
    if contact_fields:
        contact.save(update_fields=[*contact_fields, "updated_at"])
    assist: AssistRequest | None = None
    if status == PushItemStatus.OUTSIDE:
        assist = _assist_request_for(
            actor=actor, contact=contact, push=push, target_region=clean, ip=ip
        )

    push = VerificationPush.objects.select_for_update().get(pk=push.pk)
    all_final = not push.items.exclude(status__in=FINAL_ITEM_STATUSES).exists()
    if all_final and push.status != PushStatus.DONE:
        push.status = PushStatus.DONE
        push.completed_at = now
        push.save(update_fields=["status", "completed_at"])
    elif not all_final and push.status == PushStatus.DONE:
        push.status = PushStatus.OPEN
        push.completed_at = None
        push.save(update_fields=["status", "completed_at"])
    item.push = push

    late = bool(item.marked_at and item.marked_at > push.deadline)
    audit_record(
        actor=actor,
        action="push.mark",
        object_type="push_item",
        object_id=item.pk,
        object_label=mask_name(contact.person.name) if contact.person_id else "",
        jurisdiction_path=item.jurisdiction_path,
        detail={
            "push": push.pk,
            "from": previous,
            "to": status,
            "late": late,
            "push_done": push.status == PushStatus.DONE,
            **({"assist_request": assist.pk} if assist is not None else {}),
        },
        ip=ip,
    )
    return item


def push_items_lock(*, push: VerificationPush) -> dict[int, PushItem]:
    """The list's items locked for the caller's transaction (in id order, so two imports
    of one list cannot deadlock); id → item."""
    items = PushItem.objects.select_for_update().filter(push=push).order_by("pk")
    return {item.pk: item for item in items}


def push_item_is_late(item: PushItem, push: VerificationPush | None = None) -> bool:
    """Marked after the list's deadline (a late feedback, kept on record)."""
    push = push or item.push
    return bool(item.marked_at and item.marked_at > push.deadline)


@transaction.atomic
def pushes_escalate_overdue(*, now: dt.datetime | None = None) -> int:
    """Escalate, once, every open list past its deadline; the number escalated.

    Run by a periodic task (tasks_pushes.py); safe to run concurrently and repeatedly.
    """
    now = now or timezone.now()
    overdue = list(
        VerificationPush.objects.select_for_update()
        .filter(status=PushStatus.OPEN, deadline__lt=now, escalated_at__isnull=True)
        .order_by("pk")
    )
    for push in overdue:
        push.escalated_at = now
        audit_record(
            actor=None,
            action="push.escalate",
            object_type="verification_push",
            object_id=push.pk,
            object_label=push.number,
            jurisdiction_path=push.jurisdiction_path,
            detail={"deadline": push.deadline.isoformat(), "town": push.jurisdiction_path},
        )
    if overdue:
        VerificationPush.objects.bulk_update(overdue, ["escalated_at"])
        notifications.pushes_escalated(overdue)
    return len(overdue)
