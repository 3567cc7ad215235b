"""command's writes, one module per part (tasks, town reports ...)."""
