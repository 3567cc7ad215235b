"""Tracing services: cases."""
