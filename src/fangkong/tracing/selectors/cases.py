"""Tracing selectors: cases."""
