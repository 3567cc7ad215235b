"""The deadline registry: every kind of item that has a deadline, for the overdue board.

An app that owns items with deadlines (a push's 24 hours, a case report's 2 hours, a
recheck, a rectification, a task, a town's daily report ...) registers one
`DeadlineKind` in its `AppConfig.ready()`:

    register(DeadlineKind(
        code="tracing.push", label=_("推送核查"), capability="push.view",
        overdue=pushes_overdue,          # (actor, now, limit) -> list[OverdueItem]
        count=pushes_overdue_count,      # (actor, now) -> int
    ))

Each function answers from the app's own tables, scoped by the acting user as its
selectors are: the items past their deadline and not done, oldest deadline first. The
board (command) asks every registered kind whose capability the actor holds; nothing is
copied anywhere, so an item appears once, and disappears when its owner marks it done.

An app keeps a kind's functions in its selectors (scoped, indexed, bounded by `limit`)
and registers them in its `AppConfig.ready()`. The board (`command.selectors.overdue`)
merges the kinds, groups the items by owner (`OwnerKind`, `owner_key`) and orders them
oldest deadline first.

Core sits below every app: it knows a user only as an object, and leaves the capability
check to the caller (`kinds_for(has_capability=...)`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise


class OwnerKind:
    """Who must act on an overdue item: the board groups by it."""

    TOWN = "town"
    COMMUNITY = "community"
    DEPARTMENT = "department"
    SITE = "site"
    LAB = "lab"
    COMMAND = "command"


@dataclass(frozen=True)
class OverdueItem:
    kind: str  # the DeadlineKind's code
    key: str  # unique within the kind (usually the object's id)
    title: str  # what it is, in words, de-identified (a push's number, a case's number)
    deadline: dt.datetime
    owner_kind: str  # OwnerKind
    owner_key: str  # a path, a department's id, a site's id
    owner_label: str  # the owner in words (镇街名、部门名、隔离点名)
    url: str = ""  # the page where it is done
    path: str = ""  # the jurisdiction it belongs to
    detail: str = ""  # one short line more (the count of persons not yet found ...)
    escalated_at: dt.datetime | None = None  # when it was escalated to command, if it was

    def overdue_by(self, now: dt.datetime) -> dt.timedelta:
        """How long past its deadline the item is at `now` (never negative)."""
        return max(now - self.deadline, dt.timedelta(0))


@dataclass(frozen=True)
class DeadlineKind:
    code: str
    label: str | Promise
    capability: str  # who may see items of this kind (accounts.roles.Capability)
    overdue: Callable[[Any, dt.datetime, int], list[OverdueItem]]
    count: Callable[[Any, dt.datetime], int]
    order: int = 100  # the board's order of kinds
    # Optional: (actor, now) -> {(owner kind, owner key): count}, every overdue item of the
    # kind per owner (one GROUP BY), so that the board gives an owner's true count when it
    # lists only the oldest `limit` items of the kind.
    count_by_owner: Callable[[Any, dt.datetime], dict[tuple[str, str], int]] | None = None


_KINDS: dict[str, DeadlineKind] = {}


def register(kind: DeadlineKind) -> None:
    """Register (or replace, on a re-import) one kind of deadline."""
    _KINDS[kind.code] = kind


def kinds() -> list[DeadlineKind]:
    return sorted(_KINDS.values(), key=lambda k: (k.order, k.code))


def kind_get(code: str) -> DeadlineKind | None:
    return _KINDS.get(code)


def kinds_for(*, has_capability: Callable[[str], bool]) -> list[DeadlineKind]:
    """The registered kinds whose capability the caller says the actor holds."""
    return [k for k in kinds() if has_capability(k.capability)]
