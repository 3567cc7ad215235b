"""The command API: one router for the app, composed of one sub-router per part."""

from __future__ import annotations

from ninja import Router

from fangkong.command.api import tasks

router = Router(tags=["command"])
router.add_router("", tasks.router)
