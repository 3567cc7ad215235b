"""Notifications, written through `fangkong.notices.services`.

notification(user, title="...")                  one notification to `user`
notifications(user, 3)                           several, oldest first
"""

from __future__ import annotations

from typing import Any

from fangkong.notices.choices import NoticeKind


def notification(
    user: Any,
    *,
    title: str = "新的推送核查名单 TS20220704-0001：乌镇镇 3 人",
    kind: str = NoticeKind.PUSH_NEW,
    url: str = "/tracing/pushes/",
    body: str = "",
) -> Any:
    from fangkong.notices.models import Notification
    from fangkong.notices.services import notify

    notify(users=[user], kind=kind, title=title, url=url, body=body)
    return Notification.objects.filter(user=user).order_by("-pk").first()


def notifications(user: Any, n: int, *, kind: str = NoticeKind.PUSH_NEW) -> list[Any]:
    return [notification(user, title=f"通知 {i + 1}", kind=kind) for i in range(n)]
