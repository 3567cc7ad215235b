"""What quarantine does when a lower app tells it something (django signals).

Lower apps never import quarantine (layers); they send a signal defined in their own
`signals.py`, and quarantine connects here."""

from __future__ import annotations

from fangkong.quarantine import receivers_care, receivers_placements  # noqa: F401
