"""Reads of quarantine, one module per part, each scoped by the acting user."""
