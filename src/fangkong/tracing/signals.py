"""Signals tracing sends to the apps above it (which tracing never imports).

`contact_dates_changed`: sent (inside the writing transaction, via
`transaction.on_commit` or directly) after tracing changed the classification, the last
exposure or the protocol dates of contacts: a new exposure, an upgrade or a demotion.
Keyword argument `contact_ids: list[int]`. Quarantine recomputes open placements."""

from __future__ import annotations

from django.dispatch import Signal

contact_dates_changed = Signal()
