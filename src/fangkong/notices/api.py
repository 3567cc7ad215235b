"""The notices API: the acting user's own inbox."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["notices"])
