"""command's tables, one module per part (tasks, figures, town reports ...)."""

from fangkong.command.models.tasks import (
    Assignment,
    AssignmentEvent,
    Department,
    DepartmentMember,
    Task,
    TaskAttachment,
)

__all__ = [
    "Assignment",
    "AssignmentEvent",
    "Department",
    "DepartmentMember",
    "Task",
    "TaskAttachment",
]
