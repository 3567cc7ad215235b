"""command's tables, one module per part (tasks, figures, town reports ...)."""

from fangkong.command.models.figures import FigureSnapshot

__all__ = ["FigureSnapshot"]
