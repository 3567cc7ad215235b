"""Reads of command: one module per part (`figures`, `overdue`, `town_reports`, `daily_report`, ...)."""
