"""Tracing services: chains."""
