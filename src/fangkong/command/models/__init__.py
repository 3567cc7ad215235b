"""command's tables, one module per part (tasks, figures, town reports ...)."""

from fangkong.command.models.figures import FigureSnapshot
from fangkong.command.models.town_reports import (
    TownReport,
    TownReportNeed,
    TownReportNeedKind,
    TownReportProblem,
    TownReportReminder,
)

__all__ = [
    "FigureSnapshot",
    "TownReport",
    "TownReportNeed",
    "TownReportNeedKind",
    "TownReportProblem",
    "TownReportReminder",
]
