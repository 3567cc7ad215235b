"""command's reads, one module per part (overdue, tasks, town reports ...)."""
