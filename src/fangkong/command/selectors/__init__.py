"""Reads of command: one module per part (`overdue`, ...)."""
