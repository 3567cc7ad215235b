"""What tracing tells people, through `notices` (inside the writing transaction, so a
notification exists exactly when its event does):

- a new pushed list: the staff of its town (`push.new`);
- a new case (every case is a positive: a recheck, a site test or a report): command,
  once per case (`positive`);
- a case or a pushed list escalated past its deadline: command (`escalation`).

Titles are de-identified: numbers, counts and town names, never a person's name or ID.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.roles import Capability, Role
from fangkong.areas import selectors as area_selectors
from fangkong.areas.choices import Level
from fangkong.core.paths import town_of
from fangkong.notices.choices import NoticeKind
from fangkong.notices.services import notify, site_language, users_over

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.tracing.models import Case, VerificationPush


def _when(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%m-%d %H:%M")


def town_names(paths: Iterable[str]) -> dict[str, str]:
    """town path → the town's name, for the towns of `paths` (one query)."""
    towns = area_selectors.jurisdictions_at(paths={town_of(p) for p in paths}, level=Level.TOWN)
    return {path: town.name for path, town in towns.items()}


def _command(path: str, known: dict[str, list[User]] | None = None) -> list[User]:
    """Command's users over `path` (asked once per town when `known` keeps them)."""
    town = town_of(path)
    if known is not None and town in known:
        return known[town]
    users = users_over(path=town, capability=Capability.CASE_VIEW, roles=[Role.COMMAND])
    if known is not None:
        known[town] = users
    return users


def push_created(push: VerificationPush, *, town_name: str, items: int) -> int:
    """The town's staff hear of a new list pushed to them."""
    with site_language():
        title = _("新的推送核查名单 %(number)s：%(town)s %(n)s 人，时限 %(deadline)s") % {
            "number": push.number,
            "town": town_name,
            "n": items,
            "deadline": _when(push.deadline),
        }
    return notify(
        users=users_over(
            path=push.jurisdiction_path,
            capability=Capability.PUSH_FEEDBACK,
            roles=[Role.TOWN_STAFF],
        ),
        kind=NoticeKind.PUSH_NEW,
        title=title,
        url=reverse("tracing:push_detail", args=[push.pk]),
        object_type="verification_push",
        object_id=push.pk,
        jurisdiction_path=push.jurisdiction_path,
    )


def case_created(case: Case) -> int:
    """Command hears of each new case (a positive), once."""
    town = town_names([case.jurisdiction_path]).get(town_of(case.jurisdiction_path), "")
    with site_language():
        title = _("新增阳性：病例 %(number)s（%(kind)s，%(town)s）") % {
            "number": case.number,
            "kind": case.get_kind_display(),
            "town": town,
        }
    return notify(
        users=_command(case.jurisdiction_path),
        kind=NoticeKind.POSITIVE,
        title=title,
        url=reverse("tracing:case_detail", args=[case.pk]),
        object_type="case",
        object_id=case.pk,
        jurisdiction_path=town_of(case.jurisdiction_path),
    )


def cases_escalated(cases: list[tuple[Case, list[str]]]) -> int:
    """Command hears of each case escalated past its core-facts or report deadline."""
    if not cases:
        return 0
    names = town_names(c.jurisdiction_path for c, _missed in cases)
    known: dict[str, list[User]] = {}
    sent = 0
    with site_language():
        what = {"core_facts": _("核心信息"), "report": _("流调报告")}
        for case, missed in cases:
            title = _("超时升级：病例 %(number)s（%(town)s）%(what)s逾期未完成") % {
                "number": case.number,
                "town": names.get(town_of(case.jurisdiction_path), ""),
                "what": "、".join(what[m] for m in missed if m in what) or _("流调"),
            }
            sent += notify(
                users=_command(case.jurisdiction_path, known),
                kind=NoticeKind.ESCALATION,
                title=title,
                url=reverse("tracing:case_detail", args=[case.pk]),
                object_type="case",
                object_id=case.pk,
                jurisdiction_path=town_of(case.jurisdiction_path),
            )
    return sent


def pushes_escalated(pushes: list[VerificationPush]) -> int:
    """Command hears of each pushed list escalated past its deadline."""
    if not pushes:
        return 0
    names = town_names(p.jurisdiction_path for p in pushes)
    known: dict[str, list[User]] = {}
    sent = 0
    with site_language():
        for push in pushes:
            title = _("超时升级：推送核查名单 %(number)s（%(town)s）逾期未办结") % {
                "number": push.number,
                "town": names.get(town_of(push.jurisdiction_path), ""),
            }
            sent += notify(
                users=_command(push.jurisdiction_path, known),
                kind=NoticeKind.ESCALATION,
                title=title,
                url=reverse("tracing:push_detail", args=[push.pk]),
                object_type="verification_push",
                object_id=push.pk,
                jurisdiction_path=push.jurisdiction_path,
            )
    return sent
