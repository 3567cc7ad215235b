"""Placements follow the lower apps: a new exposure (tracing) or a rule-set change
(protocol) recomputes the dates of open placements (`placements_recompute`)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from fangkong.protocol.signals import ruleset_changed
from fangkong.tracing.signals import contact_dates_changed


@receiver(contact_dates_changed, dispatch_uid="quarantine.placements.contact_dates_changed")
def on_contact_dates_changed(sender: Any, contact_ids: list[int] | None = None, **_: Any) -> None:
    from fangkong.quarantine.services.placements import placements_recompute

    if contact_ids:
        placements_recompute(contact_ids=[int(i) for i in contact_ids])


@receiver(ruleset_changed, dispatch_uid="quarantine.placements.ruleset_changed")
def on_ruleset_changed(sender: Any, ruleset_id: int | None = None, **_: Any) -> None:
    from fangkong.quarantine.services.placements import placements_recompute

    if ruleset_id is not None:
        placements_recompute(ruleset_id=int(ruleset_id))
