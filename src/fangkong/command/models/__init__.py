"""command's tables, one module per part (tasks, figures, town reports ...)."""
