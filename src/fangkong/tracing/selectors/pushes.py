"""Tracing selectors: pushes."""
