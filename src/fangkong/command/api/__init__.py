"""The command API: one router for the app, composed of one sub-router per part."""

from __future__ import annotations

from ninja import Router

from fangkong.command.api import daily_report, overdue, tasks, town_reports

router = Router(tags=["command"])
router.add_router("", overdue.router)
router.add_router("", tasks.router)
router.add_router("", town_reports.router)
router.add_router("", daily_report.router)
