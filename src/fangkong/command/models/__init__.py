"""command's tables, one module per part (tasks, figures, town reports ...)."""

from fangkong.command.models.figures import FigureSnapshot
from fangkong.command.models.tasks import (
    Assignment,
    AssignmentEvent,
    Department,
    DepartmentMember,
    Task,
    TaskAttachment,
)
from fangkong.command.models.town_reports import (
    TownReport,
    TownReportNeed,
    TownReportNeedKind,
    TownReportProblem,
    TownReportReminder,
)

__all__ = [
    "Assignment",
    "AssignmentEvent",
    "Department",
    "DepartmentMember",
    "FigureSnapshot",
    "Task",
    "TaskAttachment",
    "TownReport",
    "TownReportNeed",
    "TownReportNeedKind",
    "TownReportProblem",
    "TownReportReminder",
]
