"""Tracing selectors: chains."""
