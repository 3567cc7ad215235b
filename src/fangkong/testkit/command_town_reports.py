"""The towns' daily reports, built through `fangkong.command.services.town_reports`.

town_report(town_user, now=clock.at(5, 17))   the town's report for the day of `now`
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

PROGRESS = "今日完成全员核酸采样 3.2 万人，流调排查密接 12 人，均已落位管控。"
PROBLEMS = ("隔离酒店房间紧张，剩余 8 间", "采样人员连续作业，需轮换")
NEEDS = (
    {"kind": "supplies", "item": "N95 口罩", "quantity": 2000, "unit": "只"},
    {"kind": "staff", "item": "采样人员", "quantity": 10, "unit": "人"},
)


def town_report(
    user: Any,
    *,
    now: dt.datetime,
    progress: str = PROGRESS,
    problems: Sequence[str] = PROBLEMS,
    needs: Sequence[dict[str, Any]] = NEEDS,
) -> Any:
    """The report of `user`'s own town for the local day of `now`, submitted at `now`."""
    from fangkong.command.services.town_reports import town_report_submit

    return town_report_submit(
        actor=user,
        town_path=user.scope_path,
        day=timezone.localdate(now),
        progress=progress,
        problems=list(problems),
        needs=list(needs),
        now=now,
    )
