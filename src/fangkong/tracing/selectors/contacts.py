"""Tracing selectors: contacts."""
