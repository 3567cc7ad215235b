"""Signals testing sends to the apps above it.

`tube_results_stored`: sent inside the results import's transaction after results were
stored or corrected. Keyword arguments `outcomes: dict[int, str]` (tube id → result value
for tubes whose result is new or changed) and `actor`, `ip`. Quarantine lands a site
test's result on its placement."""

from __future__ import annotations

from django.dispatch import Signal

tube_results_stored = Signal()
