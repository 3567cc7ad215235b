"""Services of tasks (条块协同): command dispatches a task to departments and towns, each
assignee accepts (签收), reports progress (进展), replies (办结回复) and may split its part
to sub-units (a town to its communities, a department to another department); command
(or, for a part split off, the splitting unit) closes or returns a reply; a part past its
deadline and still owed escalates once (`fangkong periodic`).

Who may:
- dispatching: `task.manage` (command), in its own jurisdiction;
- accepting, progress, replying, splitting: the part's own unit (`task.reply`: a
  department's members, a town's staff, a community's workers);
- closing, returning: command for a task's own parts, the splitting unit for a split part;
- escalation: the system.
Every write is atomic and audited; a refusal writes nothing. Assignees hear of a new part
and of a return, command of replies and escalations (notices).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require, scope_path
from fangkong.accounts.roles import Capability, Role
from fangkong.accounts.services import audit_record
from fangkong.areas import selectors as area_selectors
from fangkong.command.choices import (
    ASSIGNMENT_OWED,
    AssignmentEventKind,
    AssignmentStatus,
    TaskPriority,
    TaskStatus,
)
from fangkong.command.models import (
    Assignment,
    AssignmentEvent,
    Department,
    DepartmentMember,
    Task,
    TaskAttachment,
)
from fangkong.command.selectors.tasks import is_assignee, is_reviewer
from fangkong.core.attachments import ATTACHMENTS_MAX, attachment_check, attachment_seal
from fangkong.core.errors import Conflict, InvalidInput, PermissionDenied
from fangkong.core.paths import city_of, is_under, town_of, under
from fangkong.notices.choices import NoticeKind
from fangkong.notices.services import notify, notify_over

if TYPE_CHECKING:
    from fangkong.accounts.models import User

TITLE_MAX = 100
BODY_MAX = 4000
TEXT_MAX = 4000
LABEL_MAX = 100
ASSIGNEES_MAX = 60
NUMBER_PREFIX = "RW"
NUMBER_RETRIES = 5
SOURCE_TYPE = re.compile(r"^[a-z_]{1,40}$")
SOURCE_ID = re.compile(r"^[0-9A-Za-z_-]{1,40}$")


def _audit(
    actor: User | None,
    action: str,
    task: Task,
    *,
    path: str = "",
    ip: str = "",
    **detail: Any,
) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="task",
        object_id=task.pk,
        object_label=f"{task.number} {task.title}",
        jurisdiction_path=path or task.jurisdiction_path,
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


def _optional(value: Any, *, field: str, limit: int) -> str:
    text = str(value or "").strip()
    if len(text) > limit:
        raise InvalidInput(f"{field}_too_long", _("内容过长"), field=field, limit=limit)
    return text


def task_url(task: Task, assignment: Assignment | None = None) -> str:
    url = reverse("command:task_detail", kwargs={"pk": task.pk})
    return f"{url}#part-{assignment.pk}" if assignment is not None else url


def _event(
    assignment: Assignment, kind: str, actor: User | None, now: dt.datetime, text: str = ""
) -> None:
    AssignmentEvent.objects.create(assignment=assignment, kind=kind, text=text, actor=actor, at=now)


def _next_number(now: dt.datetime) -> str:
    """The next free number of the day (Asia/Shanghai): RW-20261206-0001."""
    prefix = f"{NUMBER_PREFIX}-{timezone.localtime(now):%Y%m%d}-"
    last = (
        Task.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{seq:04d}"


# --- notifications ---------------------------------------------------------------------


def _notify_assignee(assignment: Assignment, *, kind: str, title: str, body: str = "") -> int:
    task = assignment.task
    common: dict[str, Any] = {
        "kind": kind,
        "title": title,
        "body": body,
        "url": task_url(task, assignment),
        "object_type": "task",
        "object_id": task.pk,
    }
    if assignment.department_id is not None:
        members = [
            m.user
            for m in DepartmentMember.objects.filter(
                department_id=assignment.department_id
            ).select_related("user")
        ]
        return notify(users=members, jurisdiction_path=task.jurisdiction_path, **common)
    path = assignment.jurisdiction_path
    role = Role.TOWN_STAFF if town_of(path) == path else Role.COMMUNITY_WORKER
    return notify_over(path=path, capability=Capability.TASK_REPLY, roles=[role], **common)


def _notify_reviewer(assignment: Assignment, *, kind: str, title: str) -> int:
    """Tell who reviews the part: command, or the unit that split it off."""
    task = assignment.task
    if assignment.parent_id is not None and assignment.parent is not None:
        return _notify_assignee(assignment.parent, kind=kind, title=title)
    return notify_over(
        path=task.jurisdiction_path,
        capability=Capability.TASK_MANAGE,
        roles=[Role.COMMAND],
        kind=kind,
        title=title,
        url=task_url(task, assignment),
        object_type="task",
        object_id=task.pk,
    )


# --- dispatching -----------------------------------------------------------------------


def _departments(ids: Sequence[int]) -> list[Department]:
    wanted = sorted({int(i) for i in ids})
    found = list(Department.objects.filter(pk__in=wanted, active=True).order_by("order", "pk"))
    if len(found) != len(wanted):
        missing = sorted(set(wanted) - {d.pk for d in found})
        raise InvalidInput(
            "department_unknown", _("所选部门不存在或已停用"), field="department_ids", ids=missing
        )
    return found


def _towns(actor: User, paths: Sequence[str]) -> list[Any]:
    wanted = sorted({str(p) for p in paths})
    found = area_selectors.jurisdictions_at(paths=wanted, level="town")
    own = scope_path(actor)
    towns = [found[p] for p in wanted if p in found and own and is_under(p, own)]
    if len(towns) != len(wanted):
        missing = [p for p in wanted if p not in {t.path for t in towns}]
        raise InvalidInput("town_unknown", _("所选镇街不存在"), field="town_paths", paths=missing)
    return towns


def _deadline(value: Any, *, now: dt.datetime, not_after: dt.datetime | None = None) -> dt.datetime:
    if not isinstance(value, dt.datetime) or timezone.is_naive(value):
        raise InvalidInput("deadline_invalid", _("请填写办理时限"), field="deadline")
    if value <= now:
        raise InvalidInput("deadline_past", _("办理时限须晚于现在"), field="deadline")
    if not_after is not None and value > not_after:
        raise InvalidInput(
            "deadline_after_parent", _("分办时限不能晚于本单位的办理时限"), field="deadline"
        )
    return value


def _source(source_type: str, source_id: str, source_label: str) -> tuple[str, str, str]:
    kind, key = str(source_type or "").strip(), str(source_id or "").strip()
    label = str(source_label or "").strip()[:LABEL_MAX]
    if not kind and not key:
        return "", "", ""
    if not SOURCE_TYPE.match(kind) or not SOURCE_ID.match(key):
        raise InvalidInput("source_invalid", _("任务来源无效"), field="source")
    return kind, key, label


def _task_insert(*, now: dt.datetime, **fields: Any) -> Task:
    """Insert the task under the day's next number; a number taken by a concurrent
    dispatch is tried again (the unique constraint decides)."""
    for _attempt in range(NUMBER_RETRIES):
        try:
            with transaction.atomic():
                return Task.objects.create(number=_next_number(now), **fields)
        except IntegrityError:
            continue
    raise Conflict("task_number_busy", _("任务编号繁忙，请重试"))


@transaction.atomic
def task_create(
    *,
    actor: User,
    title: str,
    body: str,
    priority: str,
    deadline: dt.datetime,
    department_ids: list[int],
    town_paths: list[str],
    reply_required: bool = True,
    source_type: str = "",
    source_id: str = "",
    source_label: str = "",
    ip: str = "",
) -> Task:
    """Dispatch a task: one part to each department and town, each told of it."""
    require(actor, Capability.TASK_MANAGE)
    now = timezone.now()
    title = _text(
        title, field="title", limit=TITLE_MAX, code="title_required", message=_("请填写任务标题")
    )
    body = _text(
        body, field="body", limit=BODY_MAX, code="body_required", message=_("请填写任务要求")
    )
    if priority not in TaskPriority.values:
        raise InvalidInput("priority_invalid", _("请选择紧急程度"), field="priority")
    deadline = _deadline(deadline, now=now)
    source = _source(source_type, source_id, source_label)
    if not department_ids and not town_paths:
        raise InvalidInput(
            "assignee_required", _("请至少选择一个承办部门或镇街"), field="assignees"
        )
    if len(department_ids) + len(town_paths) > ASSIGNEES_MAX:
        raise InvalidInput("assignees_too_many", _("承办单位过多"), field="assignees")
    departments = _departments(department_ids)
    towns = _towns(actor, town_paths)
    city = city_of(scope_path(actor))

    task = _task_insert(
        now=now,
        title=title,
        body=body,
        priority=priority,
        deadline_at=deadline,
        reply_required=bool(reply_required),
        jurisdiction_path=city,
        created_by=actor,
        created_at=now,
        source_type=source[0],
        source_id=source[1],
        source_label=source[2],
    )
    parts = [
        Assignment(task=task, department=d, assignee_label=d.name, deadline_at=deadline)
        for d in departments
    ] + [
        Assignment(task=task, jurisdiction_path=t.path, assignee_label=t.name, deadline_at=deadline)
        for t in towns
    ]
    Assignment.objects.bulk_create(parts)
    _audit(
        actor,
        "task.create",
        task,
        ip=ip,
        priority=priority,
        deadline=deadline.isoformat(),
        departments=[d.code for d in departments],
        towns=[t.path for t in towns],
        source=f"{source[0]}:{source[1]}" if source[0] else "",
    )
    title_words = _("新任务（%(priority)s）：%(number)s %(title)s") % {
        "priority": TaskPriority(priority).label,
        "number": task.number,
        "title": title,
    }
    for part in Assignment.objects.filter(task=task).select_related("task"):
        _notify_assignee(part, kind=NoticeKind.TASK_NEW, title=title_words)
    return task


@transaction.atomic
def task_attach(*, actor: User, task: Task, name: str, data: bytes, ip: str = "") -> TaskAttachment:
    """Attach a file to a task command dispatched (bounded; see core.attachments)."""
    require(actor, Capability.TASK_MANAGE)
    if not is_under(task.jurisdiction_path, scope_path(actor) or "-"):
        raise PermissionDenied("permission_denied", _("您的角色无权执行此操作"))
    safe, content_type = attachment_check(name=name, size=len(data))
    if TaskAttachment.objects.filter(task=task).count() >= ATTACHMENTS_MAX:
        raise InvalidInput(
            "attachments_too_many", _("每个任务最多 5 个附件"), limit=ATTACHMENTS_MAX
        )
    attachment = TaskAttachment.objects.create(
        task=task,
        name=safe,
        content_type=content_type,
        size=len(data),
        data=attachment_seal(data),
        uploaded_by=actor,
        uploaded_at=timezone.now(),
    )
    _audit(actor, "task.attach", task, ip=ip, attachment=attachment.pk, name=safe, size=len(data))
    return attachment


# --- an assignee's actions -------------------------------------------------------------


def _locked(assignment: Assignment) -> Assignment:
    locked = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("task", "department", "parent", "parent__department")
        .get(pk=assignment.pk)
    )
    if locked.task.status == TaskStatus.CLOSED:
        raise Conflict("task_closed", _("任务已办结"))
    return locked


def _require_assignee(actor: User, assignment: Assignment) -> None:
    require(actor, Capability.TASK_REPLY)
    if not is_assignee(actor, assignment):
        raise PermissionDenied("not_assignee", _("只有承办单位可以办理此任务"))


def _refresh(target: Assignment, source: Assignment) -> Assignment:
    for name in ("status", "accepted_at", "replied_at", "reply", "closed_at", "escalated_at"):
        setattr(target, name, getattr(source, name))
    return target


@transaction.atomic
def assignment_accept(*, actor: User, assignment: Assignment, ip: str = "") -> Assignment:
    """签收: the assignee takes the part on (a task without a required reply is then done)."""
    _require_assignee(actor, assignment)
    locked = _locked(assignment)
    if locked.status != AssignmentStatus.DISPATCHED:
        raise Conflict("assignment_accepted", _("该任务已签收"))
    now = timezone.now()
    locked.status, locked.accepted_at = AssignmentStatus.ACCEPTED, now
    if not locked.task.reply_required:  # 阅知件: a task that needs no reply is done once accepted
        locked.status, locked.closed_at = AssignmentStatus.DONE, now
    locked.save(update_fields=["status", "accepted_at", "closed_at"])
    _event(locked, AssignmentEventKind.ACCEPT, actor, now)
    if locked.status == AssignmentStatus.DONE and locked.parent_id is None:
        _task_close_if_done(locked.task, actor, now)
    _audit(
        actor,
        "task.accept",
        locked.task,
        ip=ip,
        assignment=locked.pk,
        assignee=locked.assignee_label,
    )
    return _refresh(assignment, locked)


def _require_working(locked: Assignment) -> None:
    if locked.status == AssignmentStatus.DISPATCHED:
        raise Conflict("assignment_not_accepted", _("请先签收任务"))
    if locked.status not in (AssignmentStatus.ACCEPTED, AssignmentStatus.RETURNED):
        raise Conflict("assignment_replied", _("该任务已回复或已办结"))


@transaction.atomic
def assignment_progress(
    *, actor: User, assignment: Assignment, text: str, ip: str = ""
) -> Assignment:
    """进展: the assignee reports how far the work has come."""
    _require_assignee(actor, assignment)
    text = _text(
        text, field="text", limit=TEXT_MAX, code="progress_required", message=_("请填写办理进展")
    )
    locked = _locked(assignment)
    _require_working(locked)
    _event(locked, AssignmentEventKind.PROGRESS, actor, timezone.now(), text)
    _audit(
        actor,
        "task.progress",
        locked.task,
        ip=ip,
        assignment=locked.pk,
        assignee=locked.assignee_label,
    )
    return _refresh(assignment, locked)


@transaction.atomic
def assignment_reply(*, actor: User, assignment: Assignment, text: str, ip: str = "") -> Assignment:
    """办结回复: the assignee reports the work done; its reviewer then closes or returns it.
    A part that split off sub-parts replies once they are all done."""
    _require_assignee(actor, assignment)
    text = _text(
        text, field="reply", limit=TEXT_MAX, code="reply_required", message=_("请填写办结回复")
    )
    locked = _locked(assignment)
    _require_working(locked)
    if locked.children.exclude(status=AssignmentStatus.DONE).exists():
        raise Conflict("assignment_children_open", _("分办的子任务尚未全部办结"))
    now = timezone.now()
    locked.status, locked.replied_at, locked.reply = AssignmentStatus.REPLIED, now, text
    locked.save(update_fields=["status", "replied_at", "reply"])
    _event(locked, AssignmentEventKind.REPLY, actor, now, text)
    _audit(
        actor,
        "task.reply",
        locked.task,
        ip=ip,
        assignment=locked.pk,
        assignee=locked.assignee_label,
    )
    _notify_reviewer(
        locked,
        kind=NoticeKind.TASK_REPLY,
        title=_("%(assignee)s 已回复任务 %(number)s")
        % {"assignee": locked.assignee_label, "number": locked.task.number},
    )
    return _refresh(assignment, locked)


@transaction.atomic
def assignment_split(
    *,
    actor: User,
    assignment: Assignment,
    department_ids: list[int],
    community_paths: list[str],
    deadline: dt.datetime | None = None,
    note: str = "",
    ip: str = "",
) -> list[Assignment]:
    """分办: the assignee gives sub-parts of its part to its communities (a town) or to
    other departments (a department, 协办); it reviews their replies and still replies
    itself. A part that was itself split off is not split again."""
    _require_assignee(actor, assignment)
    note = _optional(note, field="note", limit=TEXT_MAX)
    locked = _locked(assignment)
    if locked.parent_id is not None:
        raise Conflict("assignment_split_nested", _("分办的子任务不能再分办"))
    if locked.status == AssignmentStatus.DISPATCHED:
        raise Conflict("assignment_not_accepted", _("请先签收任务"))
    _require_working(locked)
    now = timezone.now()
    deadline = _deadline(deadline or locked.deadline_at, now=now, not_after=locked.deadline_at)
    if locked.department_id is not None:
        if community_paths:
            raise InvalidInput(
                "split_target_invalid", _("部门只能分办给其他部门"), field="community_paths"
            )
        if locked.department_id in {int(i) for i in department_ids}:
            raise InvalidInput(
                "split_target_invalid", _("不能分办给本部门"), field="department_ids"
            )
        targets = [
            Assignment(
                task=locked.task,
                parent=locked,
                department=d,
                assignee_label=d.name,
                deadline_at=deadline,
            )
            for d in _departments(department_ids)
        ]
    else:
        if department_ids:
            raise InvalidInput(
                "split_target_invalid", _("镇街只能分办给所辖村社"), field="department_ids"
            )
        wanted = sorted({str(p) for p in community_paths})
        found = area_selectors.jurisdictions_at(paths=wanted, level="community")
        communities = [
            found[p] for p in wanted if p in found and town_of(p) == locked.jurisdiction_path
        ]
        if len(communities) != len(wanted):
            raise InvalidInput(
                "community_unknown", _("所选村社不在本镇街"), field="community_paths"
            )
        targets = [
            Assignment(
                task=locked.task,
                parent=locked,
                jurisdiction_path=c.path,
                assignee_label=c.name,
                deadline_at=deadline,
            )
            for c in communities
        ]
    if not targets:
        raise InvalidInput("assignee_required", _("请至少选择一个分办单位"), field="assignees")
    if len(targets) > ASSIGNEES_MAX:
        raise InvalidInput("assignees_too_many", _("承办单位过多"), field="assignees")
    taken = Assignment.objects.filter(task=locked.task)
    if taken.filter(
        department_id__in=[t.department_id for t in targets if t.department_id]
    ).exists():
        raise Conflict("split_target_taken", _("所选部门已承办此任务"))
    if taken.filter(
        jurisdiction_path__in=[t.jurisdiction_path for t in targets if t.jurisdiction_path]
    ).exists():
        raise Conflict("split_target_taken", _("所选村社已承办此任务"))
    before = set(Assignment.objects.filter(parent=locked).values_list("pk", flat=True))
    Assignment.objects.bulk_create(targets)
    labels = "、".join(t.assignee_label for t in targets)
    _event(locked, AssignmentEventKind.SPLIT, actor, now, f"{labels}{'：' + note if note else ''}")
    _audit(
        actor,
        "task.split",
        locked.task,
        ip=ip,
        assignment=locked.pk,
        assignee=locked.assignee_label,
        to=[t.assignee_label for t in targets],
        deadline=deadline.isoformat(),
    )
    children = list(
        Assignment.objects.filter(task=locked.task, parent=locked).select_related(
            "task", "department"
        )
    )
    words = _("%(from)s 分办任务：%(number)s %(title)s") % {
        "from": locked.assignee_label,
        "number": locked.task.number,
        "title": locked.task.title,
    }
    for child in children:
        if child.pk not in before:
            _notify_assignee(child, kind=NoticeKind.TASK_NEW, title=words)
    return children


# --- review ----------------------------------------------------------------------------


def _require_reviewer(actor: User, assignment: Assignment) -> None:
    if not is_reviewer(actor, assignment):
        raise PermissionDenied("not_reviewer", _("只有派发单位可以办结或退回"))


def _task_close_if_done(task: Task, actor: User | None, now: dt.datetime) -> None:
    if (
        Assignment.objects.filter(task=task, parent__isnull=True)
        .exclude(status=AssignmentStatus.DONE)
        .exists()
    ):
        return
    task.status, task.closed_at = TaskStatus.CLOSED, now
    task.save(update_fields=["status", "closed_at"])
    _audit(actor, "task.close", task)


@transaction.atomic
def assignment_close(
    *, actor: User, assignment: Assignment, note: str = "", ip: str = ""
) -> Assignment:
    """办结: the reviewer accepts the reply; the task closes when all its parts are done."""
    _require_reviewer(actor, assignment)
    note = _optional(note, field="note", limit=TEXT_MAX)
    locked = _locked(assignment)
    if locked.status != AssignmentStatus.REPLIED:
        raise Conflict("assignment_not_replied", _("承办单位尚未回复"))
    now = timezone.now()
    locked.status, locked.closed_at = AssignmentStatus.DONE, now
    locked.save(update_fields=["status", "closed_at"])
    _event(locked, AssignmentEventKind.CLOSE, actor, now, note)
    _audit(
        actor,
        "task.assignment_close",
        locked.task,
        ip=ip,
        assignment=locked.pk,
        assignee=locked.assignee_label,
    )
    if locked.parent_id is None:
        _task_close_if_done(locked.task, actor, now)
    return _refresh(assignment, locked)


@transaction.atomic
def assignment_return(
    *, actor: User, assignment: Assignment, note: str, ip: str = ""
) -> Assignment:
    """退回: the reviewer sends a reply back to be done again, saying why."""
    _require_reviewer(actor, assignment)
    note = _text(
        note, field="note", limit=TEXT_MAX, code="return_note_required", message=_("请填写退回理由")
    )
    locked = _locked(assignment)
    if locked.status != AssignmentStatus.REPLIED:
        raise Conflict("assignment_not_replied", _("承办单位尚未回复"))
    now = timezone.now()
    locked.status = AssignmentStatus.RETURNED
    locked.save(update_fields=["status"])
    _event(locked, AssignmentEventKind.RETURN, actor, now, note)
    _audit(
        actor,
        "task.return",
        locked.task,
        ip=ip,
        assignment=locked.pk,
        assignee=locked.assignee_label,
    )
    _notify_assignee(
        locked,
        kind=NoticeKind.TASK_NEW,
        title=_("任务被退回重办：%(number)s %(title)s")
        % {"number": locked.task.number, "title": locked.task.title},
    )
    return _refresh(assignment, locked)


# --- escalation ------------------------------------------------------------------------


@transaction.atomic
def assignments_escalate(*, now: dt.datetime | None = None) -> int:
    """督办: every part still owed past its deadline escalates once (`escalated_at` set, an
    event and an audit record, command told). Run by `fangkong periodic`; safe to run
    repeatedly and concurrently (the rows are locked; a second run finds none).
    Returns how many this run escalated."""
    now = now or timezone.now()
    overdue = list(
        Assignment.objects.select_for_update(of=("self",))
        .filter(
            status__in=ASSIGNMENT_OWED,
            deadline_at__lt=now,
            escalated_at__isnull=True,
            task__status=TaskStatus.OPEN,
        )
        .select_related("task", "parent", "department")
        .order_by("pk")
    )
    for part in overdue:
        part.escalated_at = now
        _event(part, AssignmentEventKind.ESCALATE, None, now)
        _audit(
            None,
            "task.escalate",
            part.task,
            path=part.jurisdiction_path or part.task.jurisdiction_path,
            assignment=part.pk,
            assignee=part.assignee_label,
            deadline=part.deadline_at.isoformat(),
        )
        words = _("任务超时未办结：%(number)s %(assignee)s") % {
            "number": part.task.number,
            "assignee": part.assignee_label,
        }
        notify_over(
            path=part.task.jurisdiction_path,
            capability=Capability.TASK_MANAGE,
            roles=[Role.COMMAND],
            kind=NoticeKind.TASK_ESCALATED,
            title=words,
            url=task_url(part.task, part),
            object_type="task",
            object_id=part.task.pk,
        )
        if part.parent is not None:
            _notify_assignee(part.parent, kind=NoticeKind.TASK_ESCALATED, title=words)
    if overdue:
        Assignment.objects.bulk_update(overdue, ["escalated_at"])
    return len(overdue)


# --- departments -----------------------------------------------------------------------


@transaction.atomic
def department_save(*, actor: User, department: Department, ip: str = "") -> Department:
    """Add or edit a department (the admin): `user.manage`, name and code required, audited."""
    require(actor, Capability.USER_MANAGE)
    department.name = _text(
        department.name, field="name", limit=50, code="name_required", message=_("请填写部门名称")
    )
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", department.code or ""):
        raise InvalidInput("code_invalid", _("部门编码须为小写字母、数字和下划线"), field="code")
    created = department.pk is None
    department.save()
    audit_record(
        actor=actor,
        action="department.create" if created else "department.update",
        object_type="department",
        object_id=department.pk,
        object_label=department.name,
        detail={"code": department.code, "active": department.active},
        ip=ip,
    )
    return department


@transaction.atomic
def department_member_set(
    *, actor: User | None, user: User, department: Department, ip: str = ""
) -> DepartmentMember:
    """Make `user` (a department account) a member of `department` (one department per
    user). `actor` None: the system (the demo accounts)."""
    if actor is not None:
        require(actor, Capability.USER_MANAGE)
    if user.role != Role.DEPARTMENT:
        raise InvalidInput("not_department_user", _("只有部门工作人员可以加入部门"), field="user")
    member, _created = DepartmentMember.objects.update_or_create(
        user=user, defaults={"department": department}
    )
    audit_record(
        actor=actor,
        action="department.member_set",
        object_type="department",
        object_id=department.pk,
        object_label=department.name,
        detail={"user": user.username},
        ip=ip,
    )
    return member


def command_delete_under(prefix: str) -> int:
    """Delete the tasks dispatched under `prefix` (the drill rebuilding its city) and the
    parts given to jurisdictions under it. Returns the tasks deleted."""
    Assignment.objects.filter(under("jurisdiction_path", prefix)).delete()
    deleted, _rows = Task.objects.filter(under("jurisdiction_path", prefix)).delete()
    return deleted
