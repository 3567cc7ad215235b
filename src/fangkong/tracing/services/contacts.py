"""Tracing services: contacts."""
