"""command's vocabulary: stable codes named in words (anyone may import this module)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TaskPriority(models.TextChoices):
    EXTRA_URGENT = "extra_urgent", _("特急")
    URGENT = "urgent", _("紧急")
    NORMAL = "normal", _("一般")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("办理中")
    CLOSED = "closed", _("已办结")


class AssignmentStatus(models.TextChoices):
    DISPATCHED = "dispatched", _("待签收")
    ACCEPTED = "accepted", _("办理中")
    REPLIED = "replied", _("已回复")
    RETURNED = "returned", _("退回重办")
    DONE = "done", _("已办结")


# An assignment still owed by its assignee: past its deadline it is overdue.
ASSIGNMENT_OWED = (
    AssignmentStatus.DISPATCHED,
    AssignmentStatus.ACCEPTED,
    AssignmentStatus.RETURNED,
)


class AssignmentEventKind(models.TextChoices):
    ACCEPT = "accept", _("签收")
    PROGRESS = "progress", _("进展")
    REPLY = "reply", _("办结回复")
    RETURN = "return", _("退回")
    CLOSE = "close", _("办结")
    SPLIT = "split", _("分办")
    ESCALATE = "escalate", _("超时督办")
