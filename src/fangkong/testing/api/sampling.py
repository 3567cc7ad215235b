"""API of mass testing: sampling."""

from __future__ import annotations

from ninja import Router

router = Router()
