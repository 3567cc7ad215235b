"""Care's receivers: a lab result of a site tube lands on its placement's test
(`testing.signals.tube_results_stored`, sent inside the import's transaction)."""

from __future__ import annotations

from typing import Any

from fangkong.testing.signals import tube_results_stored


def _land_results(sender: Any, *, outcomes: dict[int, str], ip: str = "", **_: Any) -> None:
    from fangkong.quarantine.services.care import results_land

    results_land(outcomes=outcomes, ip=ip)


tube_results_stored.connect(_land_results, dispatch_uid="quarantine.care.land_results")
