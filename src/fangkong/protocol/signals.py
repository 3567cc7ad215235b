"""Signals protocol sends to the apps above it.

`ruleset_changed`: sent after a rule set was created (a local override) or its values
changed. Keyword argument `ruleset_id: int`. Quarantine recomputes open placements whose
person the change may concern; closed placements are never touched."""

from __future__ import annotations

from django.dispatch import Signal

ruleset_changed = Signal()
