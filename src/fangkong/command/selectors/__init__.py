"""Reads of command: one module per part (`figures`, `overdue`, `daily_report`, ...)."""
