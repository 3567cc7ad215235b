"""The towns' feedback on pushed lists (推送核查反馈), played by the drill in the order it
happens: shared by day 0 (the first case's lists) and day 2 (the second case's)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from fangkong.accounts.roles import Role
from fangkong.areas.models import Jurisdiction
from fangkong.core.paths import town_of
from fangkong.drill.clock import drill_clock
from fangkong.drill.scenario import drill_actor
from fangkong.tracing.models import ContactClass, PushItemStatus
from fangkong.tracing.services import pushes as push_services

# Shares of the towns' feedback on pushed persons (the rest is marked on time).
LATE_SHARE = 0.10
NOT_FOUND_SHARE = 0.04


def town_feedback(
    rnd: random.Random, pushes: list[Any], *, until: dt.datetime | None = None
) -> dict[str, int]:
    """The towns' marks and the escalation check, in the order they happen: most persons
    controlled on time, some late (their list escalates at its deadline), some not found.
    With `until`, only what happens before it is played (the rest is left to the demo's
    towns: pending, or overdue once the deadline passes)."""
    towns = {
        town.path: drill_actor(f"drill-town-{town.path[-3:]}", Role.TOWN_STAFF, town)
        for town in Jurisdiction.objects.filter(
            path__in={town_of(p.jurisdiction_path) for p in pushes}
        )
    }
    events: list[tuple[dt.datetime, int, Any, str, str]] = []
    for push in pushes:
        # The overdue check half an hour after each list's deadline.
        events.append((push.deadline + dt.timedelta(minutes=30), 0, None, "", ""))
        for item in push.items.select_related("contact").order_by("pk"):
            roll = rnd.random()
            status: str
            if roll < NOT_FOUND_SHARE:
                hours, status, note = (
                    rnd.uniform(6, 20),
                    str(PushItemStatus.NOT_FOUND),
                    "电话无人接听，上门未见",
                )
            elif roll < NOT_FOUND_SHARE + LATE_SHARE:
                hours, status, note = rnd.uniform(25, 34), "", "逾期找到并管控"
            else:
                hours, status, note = rnd.uniform(1.5, 20), "", ""
            if not status:
                status = str(
                    PushItemStatus.CENTRALISED
                    if item.contact.classification == ContactClass.CLOSE
                    else PushItemStatus.HOME
                )
            events.append(
                (push.created_at + dt.timedelta(hours=hours), item.pk, item, status, note)
            )
    events.sort(key=lambda e: (e[0], e[1]))
    counts = {"on_time": 0, "late": 0, "not_found": 0, "escalated_pushes": 0}
    for moment, _key, item, status, note in events:
        if until is not None and moment > until:
            break
        with drill_clock(moment):
            if item is None:
                counts["escalated_pushes"] += push_services.pushes_escalate_overdue()
                continue
            push_services.push_item_mark(
                actor=towns[town_of(item.push.jurisdiction_path)],
                item=item,
                status=status,
                note=note,
            )
        if status == PushItemStatus.NOT_FOUND:
            counts["not_found"] += 1
        elif moment > item.push.deadline:
            counts["late"] += 1
        else:
            counts["on_time"] += 1
    return counts
