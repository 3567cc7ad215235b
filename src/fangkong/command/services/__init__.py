"""Writes of command: one module per part (`figures`, `daily_report`, ...)."""
