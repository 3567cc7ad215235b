"""command's tables, one module per part (tasks, figures, town reports ...)."""

from fangkong.command.models.town_reports import (
    TownReport,
    TownReportNeed,
    TownReportNeedKind,
    TownReportProblem,
    TownReportReminder,
)

__all__ = [
    "TownReport",
    "TownReportNeed",
    "TownReportNeedKind",
    "TownReportProblem",
    "TownReportReminder",
]
