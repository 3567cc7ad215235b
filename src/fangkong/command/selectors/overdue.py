"""The overdue board (超时督办): every item past its deadline, from every app's kind.

The kinds are those registered in `core.deadlines` (a pushed list, an investigation, a
recheck, a rectification, a task, a town's report ...). The board asks each kind whose
capability the actor holds for its items (scoped by the actor as that app's lists are,
the oldest deadline first, at most `limit_per_kind`) and for its count; nothing is
copied, so an item appears once, under the owner who must act, and is gone as soon as
it is done. A role needs `overdue.view` to see the board at all (403 otherwise); each
kind then adds its own capability, and each app's scope keeps a town to its town and a
site to its site.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from fangkong.accounts.permissions import has_capability, require
from fangkong.accounts.roles import Capability
from fangkong.core.deadlines import DeadlineKind, OverdueItem, kind_get, kinds_for
from fangkong.core.errors import DomainError

if TYPE_CHECKING:
    from fangkong.accounts.models import User

# How many items of one kind the board reads at most (the oldest first); the count says
# how many there are in all.
LIMIT_PER_KIND = 200


@dataclass
class OverdueGroup:
    """The overdue items of one owner (a town, a department, a site, a lab ...)."""

    owner_kind: str
    owner_key: str
    owner_label: str
    items: list[OverdueItem] = field(default_factory=list)

    @property
    def owner(self) -> str:
        """The owner as the board's filter names it: `<owner kind>:<owner key>`."""
        return owner_token(self.owner_kind, self.owner_key)

    @property
    def oldest(self) -> dt.datetime:
        return self.items[0].deadline


@dataclass(frozen=True)
class KindCount:
    code: str
    label: str
    count: int  # every overdue item of the kind in the actor's view
    shown: int  # how many the board read (at most the limit per kind)


def owner_token(owner_kind: str, owner_key: str) -> str:
    return f"{owner_kind}:{owner_key}"


def item_sort_key(item: OverdueItem) -> tuple[str, str, str]:
    """Oldest deadline first; the kind and key make the order unique (a page's key)."""
    return (item.deadline.astimezone(dt.UTC).isoformat(), item.kind, item.key)


def overdue_kinds(*, actor: User) -> list[DeadlineKind]:
    """The registered kinds the actor may see on the board (overdue.view, then each
    kind's own capability)."""
    require(actor, Capability.OVERDUE_VIEW)
    return kinds_for(has_capability=lambda capability: has_capability(actor, capability))


def _kinds(actor: User, kind: str | None) -> list[DeadlineKind]:
    kinds = overdue_kinds(actor=actor)
    if not kind:
        return kinds
    if kind_get(kind) is None:
        raise DomainError("overdue_kind_invalid", _("事项类型无效"), value=kind)
    return [k for k in kinds if k.code == kind]


def overdue_items(
    *,
    actor: User,
    now: dt.datetime,
    limit_per_kind: int = LIMIT_PER_KIND,
    kind: str | None = None,
    owner: str | None = None,
) -> list[OverdueItem]:
    """Every overdue item the actor may see (of `kind` and of `owner`,
    `<owner kind>:<owner key>`, when given), the oldest deadline first."""
    items: list[OverdueItem] = []
    for deadline_kind in _kinds(actor, kind):
        items.extend(deadline_kind.overdue(actor, now, limit_per_kind))
    if owner:
        items = [i for i in items if owner_token(i.owner_kind, i.owner_key) == owner]
    return sorted(items, key=item_sort_key)


def overdue_groups(
    *,
    actor: User,
    now: dt.datetime,
    limit_per_kind: int = LIMIT_PER_KIND,
    kind: str | None = None,
    owner: str | None = None,
) -> list[OverdueGroup]:
    """The overdue items grouped by owner; each group's items oldest first, the group
    with the oldest item first."""
    groups: dict[tuple[str, str], OverdueGroup] = {}
    for item in overdue_items(
        actor=actor, now=now, limit_per_kind=limit_per_kind, kind=kind, owner=owner
    ):
        group = groups.get((item.owner_kind, item.owner_key))
        if group is None:
            group = groups[(item.owner_kind, item.owner_key)] = OverdueGroup(
                item.owner_kind, item.owner_key, item.owner_label
            )
        group.items.append(item)
    return list(groups.values())  # items came oldest first, so do the groups


def overdue_counts(
    *, actor: User, now: dt.datetime, limit_per_kind: int = LIMIT_PER_KIND
) -> list[KindCount]:
    """Per kind the actor may see: how many items are overdue (one COUNT per kind)."""
    return [
        KindCount(k.code, str(k.label), n, min(n, limit_per_kind))
        for k in overdue_kinds(actor=actor)
        for n in [k.count(actor, now)]
    ]


def overdue_owner_totals(
    *,
    actor: User,
    now: dt.datetime,
    groups: list[OverdueGroup],
    counts: list[KindCount],
    kind: str | None = None,
) -> dict[str, int | None]:
    """Per group's owner: how many items are overdue in all (not only those listed), or
    None when a kind the board cut (more than its limit) cannot count per owner."""
    cut = {c.code for c in counts if c.count > c.shown and (not kind or c.code == kind)}
    by_owner: dict[str, dict[tuple[str, str], int] | None] = {}
    for deadline_kind in _kinds(actor, kind):
        if deadline_kind.code in cut:
            counter = deadline_kind.count_by_owner
            by_owner[deadline_kind.code] = counter(actor, now) if counter else None
    totals: dict[str, int | None] = {}
    for group in groups:
        listed = sum(1 for item in group.items if item.kind not in cut)
        total: int | None = listed
        for code, owners in by_owner.items():
            if owners is None:
                if any(item.kind == code for item in group.items):
                    total = None
                    break
                continue
            total = (total or 0) + owners.get((group.owner_kind, group.owner_key), 0)
        totals[group.owner] = total
    return totals


def overdue_count(*, actor: User, now: dt.datetime) -> int:
    """How many items are overdue in the actor's view, every kind together."""
    return sum(k.count(actor, now) for k in overdue_kinds(actor=actor))
