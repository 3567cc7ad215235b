"""Exact lookups by a full ID number, document number or phone: allowed, never free.

A full number typed into a search box, a registration that meets an existing ID number,
or a sampler's scan sent without a name answers "this person exists (here)". Unbounded,
that turns search into reveal (the mask and the birth year leave about 33 candidate ID
numbers, the phone mask 10,000). So every such answer goes through this module, which

- writes one audit record per lookup (`person.lookup`: kind, via, hit or miss and the
  keyed hash of the value, never the value; the person's id only if the actor may see
  that person),
- counts the user's lookups in a window (settings.FANGKONG_LOOKUP_WINDOW_MINUTES)
  against a budget per role (DEFAULT_LOOKUP_BUDGETS, overridden by
  settings.FANGKONG_LOOKUP_BUDGETS); beyond it the answer is 429
  `lookup_budget_exhausted` and an audit record `person.lookup_refused`,
- raises an alert (`person.lookup_alert`, shown to users with audit.view on
  people:lookup_alerts) when the misses in the window reach
  settings.FANGKONG_LOOKUP_MISS_ALERT: the user's lookups are then refused (429
  `lookup_suspended`) until the window has passed.

The counts are read from the audit records themselves (index actor, action, at) under a
lock on the user's row, so concurrent requests of one user are counted one at a time.
The window, the threshold and the budget overrides come from the settings (settings.py
gives their defaults; checks.py refuses bad values at start-up).

Two entries, and where their records are written:

- `lookup_run`, one lookup answered by a request: the records must survive whatever
  the caller does next, since the answer is given (a 409 or a 429 is an answer, and
  raising it rolls back the caller's transaction). So it runs in its own transaction
  and refuses to run inside a caller's one: `transaction.atomic(durable=True)` raises
  RuntimeError there. A service that looks a person up and then writes (tracing's
  manual contacts) resolves the person first, then opens its own transaction. Django
  allows a durable block directly inside a test case's transaction (pytest-django's
  `db` fixture), which the test runner rolls back at the end, so tests call services
  as they are.
- `lookup_answer_many` / `lookup_record_hits`, the lookups of a bulk request answered per
  item (the sampling sync, where an ID number sent without a name asks whether it is
  registered). Its answers reach the client only if the request's transaction commits,
  so the records are written in that transaction, in one statement, and the function
  refuses to run outside one (its lock would end at once). A miss is recorded; a hit is
  traced by the caller's own row (the sample: who sampled whom), and a hit that leaves
  no row is recorded with `lookup_record_hits`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import in_scope
from fangkong.accounts.selectors import audit_actions_of
from fangkong.accounts.services import audit_record_many
from fangkong.core.errors import DomainError

if TYPE_CHECKING:
    from fangkong.accounts.models import User

LOOKUP_ACTION = "person.lookup"
LOOKUP_REFUSED_ACTION = "person.lookup_refused"
LOOKUP_ALERT_ACTION = "person.lookup_alert"

# Lookups per user per window, by role (settings.FANGKONG_LOOKUP_BUDGETS overrides some).
# The hotline answers callers about a handful of persons an hour; an investigator looks
# up every contact of a case.
DEFAULT_LOOKUP_BUDGETS: dict[str, int] = {
    "hotline": 20,
    "site_staff": 20,
    "community_worker": 60,
    "sampler": 60,
    "town_staff": 120,
    "investigator": 300,
    "command": 300,
    "admin": 300,
}
DEFAULT_LOOKUP_BUDGET = 20  # any role not listed

T = TypeVar("T")


@dataclass(frozen=True)
class LookupPolicy:
    budget: int
    window: dt.timedelta
    miss_alert: int

    @property
    def minutes(self) -> int:
        return int(self.window.total_seconds() // 60)


def lookup_policy(actor: User) -> LookupPolicy:
    """The budget, window and miss threshold for the actor's role (from the settings)."""
    budgets = {**DEFAULT_LOOKUP_BUDGETS, **settings.FANGKONG_LOOKUP_BUDGETS}
    return LookupPolicy(
        budget=int(budgets.get(str(getattr(actor, "role", "")), DEFAULT_LOOKUP_BUDGET)),
        window=dt.timedelta(minutes=int(settings.FANGKONG_LOOKUP_WINDOW_MINUTES)),
        miss_alert=int(settings.FANGKONG_LOOKUP_MISS_ALERT),
    )


@dataclass
class _Window:
    """The actor's lookups in the window so far, as the audit records count them."""

    lookups: int
    misses: int
    alerted: bool


def _lock_and_count(actor: User, policy: LookupPolicy) -> _Window:
    """Lock the actor's row (one user's lookups are counted one at a time: a burst of
    parallel requests must not all see the same count), then read the window's lookups
    and alerts in one query (index actor, action, at). They are few (the budget bounds
    them) and counted here: reading the rows costs half of an aggregate with filters,
    and the sampling sync pays this for every batch."""
    list(
        get_user_model()
        ._default_manager.select_for_update()
        .filter(pk=actor.pk)
        .values_list("pk", flat=True)
    )
    rows = audit_actions_of(
        actor_id=actor.pk,
        actions=[LOOKUP_ACTION, LOOKUP_ALERT_ACTION],
        since=timezone.now() - policy.window,
        detail_key="outcome",
    )
    window = _Window(lookups=0, misses=0, alerted=False)
    for action, outcome in rows:
        if action == LOOKUP_ALERT_ACTION:
            window.alerted = True
        else:
            window.lookups += 1
            window.misses += outcome == "miss"
    return window


def _refusal(policy: LookupPolicy, window: _Window) -> DomainError | None:
    if window.alerted:
        return DomainError(
            "lookup_suspended",
            _("查询未命中次数过多，已暂停您的精确查询并通知管理员，请%(m)d分钟后再试")
            % {"m": policy.minutes},
            status=429,
            window_minutes=policy.minutes,
        )
    if window.lookups >= policy.budget:
        return DomainError(
            "lookup_budget_exhausted",
            _("精确查询次数已达上限（每%(m)d分钟%(n)d次），请稍后再试")
            % {"m": policy.minutes, "n": policy.budget},
            status=429,
            budget=policy.budget,
            window_minutes=policy.minutes,
        )
    return None


def _scope(actor: User) -> str:
    return str(getattr(actor, "scope_path", ""))


def _lookup_event(
    actor: User,
    base: dict[str, Any],
    *,
    hit: bool,
    person_id: int | None = None,
    person_path: str = "",
) -> dict[str, Any]:
    """A `person.lookup` record; a hit names its person only if the actor may see them
    (a registration's lookup meets persons of other towns)."""
    visible = person_id is not None and in_scope(actor, person_path)
    return {
        "action": LOOKUP_ACTION,
        "object_type": "person",
        "object_id": person_id if visible else "",
        "jurisdiction_path": _scope(actor),
        "detail": {**base, "outcome": "hit" if hit else "miss"},
    }


def _refused_event(actor: User, base: dict[str, Any], code: str) -> dict[str, Any]:
    return {
        "action": LOOKUP_REFUSED_ACTION,
        "object_type": "person",
        "jurisdiction_path": _scope(actor),
        "detail": {**base, "code": code},
    }


def _alert_event(
    actor: User, policy: LookupPolicy, misses: int, last: dict[str, Any]
) -> dict[str, Any]:
    return {
        "action": LOOKUP_ALERT_ACTION,
        "object_type": "user",
        "object_id": actor.pk,
        "object_label": str(getattr(actor, "username", ""))[:200],
        "jurisdiction_path": _scope(actor),
        "detail": {"misses": misses, "window_minutes": policy.minutes, "last": last},
    }


def _require_authenticated(actor: User) -> None:
    if not getattr(actor, "is_authenticated", False):
        raise DomainError("lookup_anonymous", _("请先登录"), status=403)


def lookup_run(
    *,
    actor: User,
    kind: str,
    value_hash: str,
    via: str,
    find: Callable[[], Sequence[T]],
    record_miss: bool = True,
    ip: str = "",
) -> list[T]:
    """Run one exact lookup (`find`) if the actor's budget allows it, and audit it.

    `kind` is the search key's kind (ric, phone, document or the document kind), `via`
    where it came from (search, create), `value_hash` the keyed hash of the value (the
    hash people stores, so an administrator can tell whom a probe aimed at).
    `record_miss=False` leaves a miss unrecorded and uncounted (a registration that
    meets no existing ID creates the person, audited as person.create). Raises
    DomainError 429 `lookup_budget_exhausted` / `lookup_suspended`, after committing its
    audit record.

    Runs in its own transaction and never inside a caller's (RuntimeError): the records
    are the trace of an answer and the budget's counter, so no caller's rollback may
    take them back (see the module's docstring).
    """
    _require_authenticated(actor)
    policy = lookup_policy(actor)
    base = {"kind": kind, "via": via, "hash": value_hash}
    found: list[T] = []
    with transaction.atomic(durable=True):
        window = _lock_and_count(actor, policy)
        refusal = _refusal(policy, window)
        events: list[dict[str, Any]] = []
        if refusal is not None:
            events.append(_refused_event(actor, base, refusal.code))
        else:
            found = list(find())
            if found:
                one: Any = found[0] if len(found) == 1 else None
                events.append(
                    _lookup_event(
                        actor,
                        base,
                        hit=True,
                        person_id=getattr(one, "pk", None),
                        person_path=str(getattr(one, "jurisdiction_path", "") or ""),
                    )
                )
            elif record_miss:
                events.append(_lookup_event(actor, base, hit=False))
                if window.misses + 1 >= policy.miss_alert:
                    events.append(_alert_event(actor, policy, window.misses + 1, base))
        if events:
            audit_record_many(actor=actor, events=events, ip=ip)
    if refusal is not None:
        raise refusal
    return found


@dataclass(frozen=True, slots=True)
class LookupAsked:
    """One item of a bulk request that asks whether a number is registered: the kind and
    keyed hash of its number, and whether the caller found it (`hit`)."""

    kind: str
    value_hash: str
    hit: bool


@dataclass(frozen=True, slots=True)
class LookupHit:
    """A hit of a bulk request that left no row of the caller's to trace it."""

    kind: str
    value_hash: str
    person_id: int
    person_path: str


def _require_request_transaction(entry: str) -> None:
    if not connection.in_atomic_block:
        raise RuntimeError(
            f"people.lookups.{entry} runs inside the transaction whose commit delivers "
            "its answers (its lock and records go with them)"
        )


def lookup_answer_many(
    *, actor: User, asked: Sequence[LookupAsked], via: str = "sync", ip: str = ""
) -> list[DomainError | None]:
    """The lookups of a bulk request answered per item (the sampling sync): for each
    item, in order, None (answer it) or the refusal to answer it with instead.

    Items are taken in order against the actor's window: once the actor is suspended or
    the budget is spent, every further item is refused, hit or miss alike (refusing only
    misses would answer the question). A miss is recorded (`person.lookup`, its hash) and
    counted, and the miss that reaches FANGKONG_LOOKUP_MISS_ALERT writes the alert and
    suspends the rest; a refused item is recorded as `person.lookup_refused`; a hit is
    not recorded here (the caller's own row traces it; see `lookup_record_hits`).

    Costs two queries (the lock, the window's records) and one INSERT of all its records, whatever
    the number of items. Runs inside the caller's transaction (RuntimeError outside one):
    its answers reach the client only if that transaction commits, and its records with
    them.
    """
    _require_request_transaction("lookup_answer_many")
    _require_authenticated(actor)
    if not asked:
        return []
    policy = lookup_policy(actor)
    window = _lock_and_count(actor, policy)
    answers: list[DomainError | None] = []
    events: list[dict[str, Any]] = []
    for item in asked:
        base = {"kind": item.kind, "via": via, "hash": item.value_hash}
        refusal = _refusal(policy, window)
        answers.append(refusal)
        if refusal is not None:
            events.append(_refused_event(actor, base, refusal.code))
        elif not item.hit:
            events.append(_lookup_event(actor, base, hit=False))
            window.lookups += 1
            window.misses += 1
            if window.misses >= policy.miss_alert:
                events.append(_alert_event(actor, policy, window.misses, base))
                window.alerted = True
    if events:
        audit_record_many(actor=actor, events=events, ip=ip)
    return answers


def lookup_record_hits(
    *, actor: User, hits: Sequence[LookupHit], via: str = "sync", ip: str = ""
) -> int:
    """Record as `person.lookup` hits the items `lookup_answer_many` let through that
    left no row of the caller's (a sample refused for its tube: the answer still told a
    hit from a miss). One INSERT; inside the caller's transaction, like
    `lookup_answer_many`. Returns the number of records written."""
    _require_request_transaction("lookup_record_hits")
    if not hits:
        return 0
    events = [
        _lookup_event(
            actor,
            {"kind": h.kind, "via": via, "hash": h.value_hash},
            hit=True,
            person_id=h.person_id,
            person_path=h.person_path,
        )
        for h in hits
    ]
    return audit_record_many(actor=actor, events=events, ip=ip)
