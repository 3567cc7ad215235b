"""command's reads, one module per part (tasks, town reports ...)."""
