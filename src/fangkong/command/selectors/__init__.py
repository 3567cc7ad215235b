"""Reads of command: one module per part (figures, overdue, tasks, town reports, daily report)."""
