"""The mass-testing API: one router for the app, composed of one sub-router per part."""

from __future__ import annotations

from ninja import Router

from fangkong.testing.api import coverage, labs, points, rounds, sampling, supplies

router = Router(tags=["testing"])
router.add_router("", rounds.router)
router.add_router("", sampling.router)
router.add_router("", labs.router)
router.add_router("", coverage.router)
router.add_router("", supplies.router)
router.add_router("", points.router)
