"""Services of inspections against the standard (对照标准): the editable checklist, an
inspection of a site with one answer per active item, each failed item a rectification
(整改) with an owner and a deadline, its completion, and the escalation of overdue ones.

Who may:
- the checklist and inspections: `inspection.manage` (command), the site in scope;
- completing a rectification: the site's own staff (`rectification.update`, own site
  only) or `inspection.manage` in scope;
- escalation: the system (`fangkong periodic`), once per rectification.
Every write is atomic and audited; a refusal writes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import has_capability, require, require_in_scope
from fangkong.accounts.roles import Capability, Role
from fangkong.accounts.services import audit_record
from fangkong.core.errors import Conflict, InvalidInput, NotFound
from fangkong.protocol import selectors as protocol_selectors
from fangkong.quarantine.choices import RectificationStatus
from fangkong.quarantine.models import ChecklistItem, Finding, Inspection, Rectification, Site
from fangkong.quarantine.rules.inspections import rectification_deadline
from fangkong.quarantine.selectors.inspections import bound_to_site
from fangkong.quarantine.services import notifications

if TYPE_CHECKING:
    from fangkong.accounts.models import User

CODE_PATTERN = re.compile(r"^[A-Z][0-9]{2,3}$")
CATEGORY_MAX = 50
TEXT_MAX = 300
NOTE_MAX = 300
SUMMARY_MAX = 2000
OWNER_NAME_MAX = 50
ORDER_MAX = 32767


def _audit(
    actor: User | None,
    action: str,
    object_type: str,
    object_id: int,
    label: str,
    path: str = "",
    ip: str = "",
    **detail: Any,
) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_label=label,
        jurisdiction_path=path,
        detail=detail,
        ip=ip,
    )


def _text(value: Any, *, field: str, limit: int, code: str, message: str) -> str:
    text = str(value or "").strip()
    if not text:
        raise InvalidInput(code, message, field=field)
    if len(text) > limit:
        raise InvalidInput(f"{field}_too_long", _("内容过长"), field=field, limit=limit)
    return text


def _order(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= ORDER_MAX:
        raise InvalidInput("order_invalid", _("顺序须为 0 到 32767 之间的整数"), field="order")
    return value


# --- the checklist ---------------------------------------------------------------------


@transaction.atomic
def checklist_item_create(
    *, actor: User, code: str, category: str, text: str, order: int, ip: str = ""
) -> ChecklistItem:
    """Add an item to the standard (an active one: the next inspections must answer it)."""
    require(actor, Capability.INSPECTION_MANAGE)
    code = str(code or "").strip().upper()
    if not CODE_PATTERN.match(code):
        raise InvalidInput(
            "checklist_code_invalid", _("编号须为一个大写字母加两到三位数字，如 A01"), field="code"
        )
    category = _text(
        category,
        field="category",
        limit=CATEGORY_MAX,
        code="category_required",
        message=_("请填写类别"),
    )
    text = _text(
        text, field="text", limit=TEXT_MAX, code="text_required", message=_("请填写标准要求")
    )
    if ChecklistItem.objects.filter(code=code).exists():
        raise Conflict("checklist_code_exists", _("该编号已存在"), item=code)
    try:
        with transaction.atomic():
            item = ChecklistItem.objects.create(
                code=code, category=category, text=text, order=_order(order)
            )
    except IntegrityError as exc:  # a concurrent add of the same code
        raise Conflict("checklist_code_exists", _("该编号已存在"), item=code) from exc
    _audit(actor, "checklist.create", "checklist_item", item.pk, code, ip=ip, category=category)
    return item


@transaction.atomic
def checklist_item_update(
    *, actor: User, item: ChecklistItem, category: str, text: str, order: int, ip: str = ""
) -> ChecklistItem:
    """Edit an item's category, text and order (old inspections show the new text: the
    standard's wording, not what was found, which is the finding's note)."""
    require(actor, Capability.INSPECTION_MANAGE)
    category = _text(
        category,
        field="category",
        limit=CATEGORY_MAX,
        code="category_required",
        message=_("请填写类别"),
    )
    text = _text(
        text, field="text", limit=TEXT_MAX, code="text_required", message=_("请填写标准要求")
    )
    order = _order(order)
    before = {"category": item.category, "text": item.text, "order": item.order}
    item.category, item.text, item.order = category, text, order
    item.save(update_fields=["category", "text", "order"])
    changed = {k: v for k, v in before.items() if getattr(item, k) != v}
    _audit(
        actor,
        "checklist.update",
        "checklist_item",
        item.pk,
        item.code,
        ip=ip,
        changed=sorted(changed),
    )
    return item


@transaction.atomic
def checklist_item_retire(
    *, actor: User, item: ChecklistItem, active: bool = False, ip: str = ""
) -> ChecklistItem:
    """Retire an item (no longer asked; kept in old inspections) or restore it."""
    require(actor, Capability.INSPECTION_MANAGE)
    if item.active == active:
        return item
    item.active = active
    item.save(update_fields=["active"])
    action = "checklist.restore" if active else "checklist.retire"
    _audit(actor, action, "checklist_item", item.pk, item.code, ip=ip)
    return item


# --- inspections -----------------------------------------------------------------------


def _owner_checked(site: Site, owner: User | None) -> None:
    if owner is None:
        return
    if owner.role != Role.SITE_STAFF or owner.place_id != site.place_id or not owner.is_active:
        raise InvalidInput(
            "owner_not_site_staff", _("整改责任人账户须为本隔离点的工作人员"), field="owner"
        )


def _results_checked(
    results: Mapping[int, tuple[bool, str]], items: list[ChecklistItem]
) -> list[tuple[ChecklistItem, bool, str]]:
    by_id = {item.pk: item for item in items}
    unknown = [key for key in results if key not in by_id]
    if unknown:
        raise InvalidInput(
            "item_unknown", _("检查结果含有不在现行标准中的条目"), items=sorted(unknown)
        )
    missing = [item.code for item in items if item.pk not in results]
    if missing:
        raise InvalidInput(
            "item_unanswered",
            _("以下条目尚未作答：%(codes)s") % {"codes": "、".join(missing)},
            items=missing,
        )
    answers = []
    for item in items:
        passed, note = results[item.pk]
        if not isinstance(passed, bool):
            raise InvalidInput("item_unanswered", _("请选择符合或不符合"), items=[item.code])
        note = str(note or "").strip()
        if len(note) > NOTE_MAX:
            raise InvalidInput("note_too_long", _("问题描述过长"), items=[item.code])
        if not passed and not note:
            raise InvalidInput(
                "note_required",
                _("不符合的条目须填写问题描述：%(code)s") % {"code": item.code},
                items=[item.code],
            )
        answers.append((item, passed, note))
    return answers


@transaction.atomic
def inspection_create(
    *,
    actor: User,
    site: Site,
    inspected_on: dt.date,
    results: Mapping[int, tuple[bool, str]],
    summary: str = "",
    owner_name: str = "",
    owner: User | None = None,
    deadline_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
    ip: str = "",
) -> Inspection:
    """Record an inspection of `site` against the active checklist.

    `results` maps every active item's id to (passed, note); a failed item needs a note
    and becomes a rectification owned by `owner_name` (or the site-staff account `owner`,
    whose name it takes) with a deadline of `deadline_at`, by default now plus the rule
    set's `rectification_hours` for the site's jurisdiction.
    """
    require(actor, Capability.INSPECTION_MANAGE)
    require_in_scope(actor, site.jurisdiction_path, what="site")
    now = now or timezone.now()
    if inspected_on > timezone.localdate(now):
        raise InvalidInput("inspected_on_future", _("检查日期不能晚于今天"), field="inspected_on")
    summary = str(summary or "").strip()
    if len(summary) > SUMMARY_MAX:
        raise InvalidInput("summary_too_long", _("检查小结过长"), field="summary")
    items = list(ChecklistItem.objects.filter(active=True).order_by("order", "code", "pk"))
    if not items:
        raise Conflict("checklist_empty", _("检查标准没有启用的条目"))
    answers = _results_checked(results, items)
    failed = [a for a in answers if not a[1]]
    owner_name = str(owner_name or "").strip()
    if failed:
        _owner_checked(site, owner)
        if not owner_name and owner is not None:
            owner_name = (owner.display_name or owner.username)[:OWNER_NAME_MAX]
        if not owner_name:
            raise InvalidInput(
                "owner_required", _("有不符合的条目，请填写整改责任人"), field="owner_name"
            )
        if len(owner_name) > OWNER_NAME_MAX:
            raise InvalidInput("owner_name_too_long", _("责任人姓名过长"), field="owner_name")
        if deadline_at is not None:
            if timezone.is_naive(deadline_at):
                raise InvalidInput("deadline_invalid", _("整改时限须带时区"), field="deadline_at")
            if deadline_at <= now:
                raise InvalidInput("deadline_past", _("整改时限须晚于现在"), field="deadline_at")
        else:
            ruleset = protocol_selectors.ruleset_for(
                on_date=timezone.localdate(now), path=site.jurisdiction_path
            )
            deadline_at = rectification_deadline(recorded_at=now, hours=ruleset.rectification_hours)
    inspection = Inspection.objects.create(
        site=site, inspected_on=inspected_on, inspector=actor, summary=summary
    )
    findings = Finding.objects.bulk_create(
        [
            Finding(inspection=inspection, item=item, passed=passed, note=note)
            for item, passed, note in answers
        ]
    )
    rectifications = Rectification.objects.bulk_create(
        [
            Rectification(
                finding=finding,
                site=site,
                owner_name=owner_name,
                owner=owner,
                deadline_at=deadline_at,  # type: ignore[misc]  # not None when any failed
            )
            for finding in findings
            if not finding.passed
        ]
    )
    _audit(
        actor,
        "inspection.create",
        "inspection",
        inspection.pk,
        f"{site.name} {inspected_on.isoformat()}",
        site.jurisdiction_path,
        ip,
        site=site.pk,
        failed=[f.item.code for f in findings if not f.passed],
        rectifications=[r.pk for r in rectifications],
    )
    if rectifications and deadline_at is not None:
        notifications.rectifications_created(
            inspection, site, count=len(rectifications), deadline_at=deadline_at
        )
    return inspection


# --- rectifications --------------------------------------------------------------------


def _require_rectify(actor: User, rectification: Rectification) -> None:
    """Command (inspection.manage in scope) or the site's own staff (rectification.update
    at the site); anyone else is refused (403), another site's staff get a 404."""
    site = rectification.site
    if has_capability(actor, Capability.INSPECTION_MANAGE) and not bound_to_site(actor):
        require_in_scope(actor, site.jurisdiction_path, what="rectification")
        return
    require(actor, Capability.RECTIFICATION_UPDATE)
    if not bound_to_site(actor) or not actor.place_id or actor.place_id != site.place_id:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="rectification")


@transaction.atomic
def rectification_complete(
    *, actor: User, rectification: Rectification, note: str, ip: str = ""
) -> Rectification:
    """Mark a rectification done with what was done (整改情况)."""
    _require_rectify(actor, rectification)
    note = str(note or "").strip()
    if not note:
        raise InvalidInput("note_required", _("请填写整改情况"), field="note")
    if len(note) > NOTE_MAX:
        raise InvalidInput("note_too_long", _("整改情况过长"), field="note")
    locked = Rectification.objects.select_for_update().get(pk=rectification.pk)
    if locked.status != RectificationStatus.OPEN:
        raise Conflict("rectification_done", _("该整改已完成"))
    now = timezone.now()
    locked.status = RectificationStatus.DONE
    locked.done_at = now
    locked.done_note = note
    locked.save(update_fields=["status", "done_at", "done_note"])
    site = rectification.site
    _audit(
        actor,
        "rectification.complete",
        "rectification",
        locked.pk,
        f"{site.name} {locked.owner_name}",
        site.jurisdiction_path,
        ip,
        late=locked.deadline_at < now,
        escalated=locked.escalated_at is not None,
    )
    rectification.status, rectification.done_at, rectification.done_note = (
        locked.status,
        locked.done_at,
        locked.done_note,
    )
    return rectification


@transaction.atomic
def rectification_reassign(
    *,
    actor: User,
    rectification: Rectification,
    owner_name: str,
    owner: User | None = None,
    deadline_at: dt.datetime,
    now: dt.datetime | None = None,
    ip: str = "",
) -> Rectification:
    """Command names another owner or sets another deadline of an open rectification. A
    new deadline clears the escalation, so that missing it escalates again (the earlier
    escalation stays in the audit log)."""
    require(actor, Capability.INSPECTION_MANAGE)
    site = rectification.site
    require_in_scope(actor, site.jurisdiction_path, what="rectification")
    now = now or timezone.now()
    _owner_checked(site, owner)
    owner_name = str(owner_name or "").strip()
    if not owner_name and owner is not None:
        owner_name = (owner.display_name or owner.username)[:OWNER_NAME_MAX]
    if not owner_name:
        raise InvalidInput("owner_required", _("请填写整改责任人"), field="owner_name")
    if len(owner_name) > OWNER_NAME_MAX:
        raise InvalidInput("owner_name_too_long", _("责任人姓名过长"), field="owner_name")
    if timezone.is_naive(deadline_at):
        raise InvalidInput("deadline_invalid", _("整改时限须带时区"), field="deadline_at")
    if deadline_at <= now:
        raise InvalidInput("deadline_past", _("整改时限须晚于现在"), field="deadline_at")
    locked = Rectification.objects.select_for_update().get(pk=rectification.pk)
    if locked.status != RectificationStatus.OPEN:
        raise Conflict("rectification_done", _("该整改已完成"))
    before = {"owner_name": locked.owner_name, "deadline_at": locked.deadline_at.isoformat()}
    locked.owner_name, locked.owner = owner_name, owner
    if deadline_at != locked.deadline_at:
        locked.deadline_at = deadline_at
        locked.escalated_at = None
    locked.save(update_fields=["owner_name", "owner", "deadline_at", "escalated_at"])
    _audit(
        actor,
        "rectification.reassign",
        "rectification",
        locked.pk,
        f"{site.name} {owner_name}",
        site.jurisdiction_path,
        ip,
        before=before,
        owner_name=owner_name,
        deadline_at=deadline_at.isoformat(),
    )
    rectification.owner_name, rectification.owner = locked.owner_name, locked.owner
    rectification.deadline_at, rectification.escalated_at = locked.deadline_at, locked.escalated_at
    return rectification


@transaction.atomic
def rectifications_escalate(*, now: dt.datetime | None = None) -> int:
    """Escalate, once, every open rectification past its deadline: `escalated_at` is set
    and an audit record written (command sees it on the rectification list, overdue
    first). Run by `fangkong periodic`; safe to run repeatedly and concurrently.
    Returns how many were escalated by this run."""
    now = now or timezone.now()
    overdue = list(
        Rectification.objects.select_for_update(of=("self",))
        .filter(status=RectificationStatus.OPEN, deadline_at__lt=now, escalated_at__isnull=True)
        .select_related("site", "finding__item")
        .order_by("pk")
    )
    for rectification in overdue:
        rectification.escalated_at = now
        site = rectification.site
        _audit(
            None,
            "rectification.escalate",
            "rectification",
            rectification.pk,
            f"{site.name} {rectification.owner_name}",
            site.jurisdiction_path,
            deadline=rectification.deadline_at.isoformat(),
            site=site.pk,
            item=rectification.finding.item.code,
        )
    if overdue:
        Rectification.objects.bulk_update(overdue, ["escalated_at"])
        notifications.rectifications_escalated(overdue)
    return len(overdue)
