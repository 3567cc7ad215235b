"""Tasks across departments and towns (条块协同): the departments and their members, the
tasks command dispatches, one assignment per assignee (a department or a jurisdiction),
each assignment's events (accept, progress, reply, return, close, split, escalation) and
the task's attachments."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangkong.command.choices import (
    AssignmentEventKind,
    AssignmentStatus,
    TaskPriority,
    TaskStatus,
)


class Department(models.Model):
    """A department of the city (卫健局, 公安局 ...): an editable row (seeded by a data
    migration), whose members answer the tasks given to it."""

    code = models.SlugField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=50, unique=True)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ("order", "pk")

    def __str__(self) -> str:
        return self.name


class DepartmentMember(models.Model):
    """A department user's department: one department per user."""

    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.CASCADE, related_name="members"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="department_membership",
    )

    class Meta:
        verbose_name = _("部门成员")
        verbose_name_plural = _("部门成员")

    def __str__(self) -> str:
        return f"{self.department} {self.user}"


class Task(models.Model):
    """A task command dispatches (交办任务), with a human number (RW-20261206-0001)."""

    number = models.CharField(_("任务编号"), max_length=20, unique=True)
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("任务要求"), max_length=4000)
    priority = models.CharField(_("紧急程度"), max_length=16, choices=TaskPriority.choices)
    deadline_at = models.DateTimeField(_("办理时限"))
    reply_required = models.BooleanField(_("须回复"), default=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    # The dispatching command's jurisdiction (the city): command sees tasks under its own.
    jurisdiction_path = models.CharField(_("辖区路径"), max_length=32, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("派发时间"))
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    # The object the task was made from (a case, a push, a zone, a town's problem), named
    # as the audit log names objects (accounts.audit_vocabulary.AUDIT_OBJECTS).
    source_type = models.CharField(max_length=40, blank=True)
    source_id = models.CharField(max_length=40, blank=True)
    source_label = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("任务")
        verbose_name_plural = _("任务")
        indexes = [
            models.Index(fields=["source_type", "source_id"], name="command_task_source_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(priority__in=[p.value for p in TaskPriority]),
                name="command_task_priority_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in TaskStatus]),
                name="command_task_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class Assignment(models.Model):
    """One assignee's part of a task: a department, or a jurisdiction (a town; a
    community when a town splits its part). A split part has the splitting part as its
    parent, and is closed or returned by the parent's assignee rather than by command."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="assignments")
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="assignments"
    )
    jurisdiction_path = models.CharField(_("辖区路径"), max_length=32, blank=True, db_index=True)
    assignee_label = models.CharField(_("承办单位"), max_length=100)
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=AssignmentStatus.choices,
        default=AssignmentStatus.DISPATCHED,
    )
    deadline_at = models.DateTimeField(_("办理时限"), db_index=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    reply = models.TextField(_("办结回复"), max_length=4000, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("任务承办")
        verbose_name_plural = _("任务承办")
        indexes = [models.Index(fields=["status", "deadline_at"], name="command_asg_due_idx")]
        constraints = [
            # A department or a jurisdiction, never both, never neither.
            models.CheckConstraint(
                condition=(Q(department__isnull=False) & Q(jurisdiction_path=""))
                | (Q(department__isnull=True) & ~Q(jurisdiction_path="")),
                name="command_assignment_one_assignee",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in AssignmentStatus]),
                name="command_assignment_status_valid",
            ),
            # An assignee has one part of a task.
            models.UniqueConstraint(
                fields=["task", "department"],
                condition=Q(department__isnull=False),
                name="command_assignment_department_once",
            ),
            models.UniqueConstraint(
                fields=["task", "jurisdiction_path"],
                condition=~Q(jurisdiction_path=""),
                name="command_assignment_jurisdiction_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task.number} {self.assignee_label}"


class AssignmentEvent(models.Model):
    """What happened to an assignment, in order: the progress log shown on the task."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=AssignmentEventKind.choices)
    text = models.TextField(max_length=4000, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("任务办理记录")
        verbose_name_plural = _("任务办理记录")
        ordering = ("at", "pk")

    def __str__(self) -> str:
        return f"{self.assignment_id} {self.kind}"


class TaskAttachment(models.Model):
    """A file attached to a task (size-bounded; kept in the database, sealed by
    core.attachments; downloaded only by those who may see the task)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(_("文件名"), max_length=120)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    data = models.BinaryField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("任务附件")
        verbose_name_plural = _("任务附件")

    def __str__(self) -> str:
        return self.name
