"""Writes of command: one module per part (`figures`, `town_reports`, `daily_report`, ...)."""
