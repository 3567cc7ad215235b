"""The quarantine API: one router for the app, composed of one sub-router per part."""

from __future__ import annotations

from ninja import Router

from fangkong.quarantine.api import care, inspections, placements, sites

router = Router(tags=["quarantine"])
router.add_router("", sites.router)
router.add_router("", placements.router)
router.add_router("", care.router)
router.add_router("", inspections.router)
