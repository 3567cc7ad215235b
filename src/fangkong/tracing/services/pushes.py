"""Tracing services: pushes."""
