"""What testing tells command, through `notices` (inside the writing transaction):

- positive pools of a result import, once per import (not per tube, nor per person held):
  how many tubes, how many persons held for a single-tube recheck, in which towns
  (`positive.pool`); the positive recheck itself makes a case, which tracing announces;
- rechecks escalated past their deadline, once per town per run (`escalation`).

Titles are de-identified: counts and town names, never a person's name or ID.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.translation import gettext as _

from fangkong.accounts.roles import Capability, Role
from fangkong.areas import selectors as area_selectors
from fangkong.areas.choices import Level
from fangkong.core.paths import city_of, town_of
from fangkong.notices.choices import NoticeKind
from fangkong.notices.services import notify, site_language, users_over
from fangkong.testing.models import Hold
from fangkong.testing.rules import labs as rules

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.testing.models import Recheck


def _town_names(paths: Iterable[str]) -> dict[str, str]:
    towns = area_selectors.jurisdictions_at(paths={town_of(p) for p in paths}, level=Level.TOWN)
    return {path: town.name for path, town in towns.items()}


def _command(path: str) -> list[User]:
    return users_over(path=path, capability=Capability.ROUND_VIEW, roles=[Role.COMMAND])


def positive_pools(*, tube_ids: list[int], import_id: int | None) -> int:
    """Command hears that an import found positive tubes (pools, or single tubes outside
    a recheck): how many, and how many persons are held for a recheck in which towns."""
    if not tube_ids:
        return 0
    held: Counter[str] = Counter()
    for chunk in rules.chunks(tube_ids):
        held.update(
            town_of(path)
            for path in Hold.objects.filter(tube_id__in=chunk).values_list(
                "jurisdiction_path", flat=True
            )
        )
    if not held:  # every person already held by another tube: nothing new to tell
        return 0
    names = _town_names(held)
    with site_language():
        where = "、".join(
            _("%(town)s %(n)s 人") % {"town": names.get(town, town), "n": n}
            for town, n in sorted(held.items())
        )
        title = _("初筛阳性：%(tubes)s 管阳性，%(held)s 人原地管控待单管复核（%(where)s）") % {
            "tubes": len(tube_ids),
            "held": sum(held.values()),
            "where": where,
        }
    path = city_of(next(iter(held)))
    return notify(
        users=_command(path),
        kind=NoticeKind.POSITIVE_POOL,
        title=title,
        url=reverse("testing:recheck_list"),
        object_type="result_import",
        object_id=import_id or "",
        jurisdiction_path=path,
    )


def rechecks_escalated(rechecks: list[Recheck]) -> int:
    """Command hears, per town, how many rechecks ran past their deadline in this run."""
    if not rechecks:
        return 0
    by_town = Counter(town_of(r.jurisdiction_path) for r in rechecks)
    names = _town_names(by_town)
    sent = 0
    with site_language():
        for town_path, n in sorted(by_town.items()):
            title = _("超时升级：%(town)s %(n)s 人单管复核逾期未出结果") % {
                "town": names.get(town_path, town_path),
                "n": n,
            }
            sent += notify(
                users=_command(town_path),
                kind=NoticeKind.ESCALATION,
                title=title,
                url=reverse("testing:recheck_list") + "?overdue=1",
                object_type="recheck",
                jurisdiction_path=town_path,
            )
    return sent
