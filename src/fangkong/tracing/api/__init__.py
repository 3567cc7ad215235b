"""The tracing API: one router for the app, composed of one sub-router per part."""

from __future__ import annotations

from ninja import Router

from fangkong.tracing.api import cases, chains, contacts, pushes

router = Router(tags=["tracing"])
router.add_router("", cases.router)
router.add_router("", contacts.router)
router.add_router("", pushes.router)
router.add_router("", chains.router)
