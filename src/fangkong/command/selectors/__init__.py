"""Reads of command: one module per part (figures, overdue, town reports, daily report)."""
