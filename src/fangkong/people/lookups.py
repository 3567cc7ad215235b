"""Exact lookups by a full ID number, document number or phone: allowed, never free.

A full number typed into a search box, or a registration that meets an existing ID
number, answers "this person exists (here)". Unbounded, that turns search into reveal
(the mask and the birth year leave about 33 candidate ID numbers, the phone mask 10,000).
So every such answer goes through `lookup_run`, which

- writes one audit record per lookup (`person.lookup`: kind, via, hit or miss and the
  keyed hash of the value, never the value),
- counts the user's lookups in a window (FANGKONG_LOOKUP_WINDOW_MINUTES, default 60)
  against a budget per role (FANGKONG_LOOKUP_BUDGETS); beyond it the answer is
  429 `lookup_budget_exhausted` and an audit record `person.lookup_refused`,
- raises an alert (`person.lookup_alert`, shown to users with audit.view on
  people:lookup_alerts) when the misses in the window reach FANGKONG_LOOKUP_MISS_ALERT
  (default 10): the user's lookups are then refused (429 `lookup_suspended`) until the
  window has passed.

The counts are read from the audit records themselves (index actor, action, at) under a
lock on the user's row, so concurrent requests of one user are counted one at a time.
The records are committed even when the caller then refuses (the run has its own
transaction): the trace of a probe must survive the probe's error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.services import audit_record
from fangkong.core.errors import DomainError

LOOKUP_ACTION = "person.lookup"
LOOKUP_REFUSED_ACTION = "person.lookup_refused"
LOOKUP_ALERT_ACTION = "person.lookup_alert"

# Lookups per user per window, by role. The hotline answers callers about a handful of
# persons an hour; an investigator looks up every contact of a case.
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
DEFAULT_LOOKUP_WINDOW_MINUTES = 60
DEFAULT_LOOKUP_MISS_ALERT = 10

T = TypeVar("T")


@dataclass(frozen=True)
class LookupPolicy:
    budget: int
    window: dt.timedelta
    miss_alert: int


def lookup_policy(actor: Any) -> LookupPolicy:
    """The budget, window and miss threshold for the actor's role (from the settings)."""
    budgets = {
        **DEFAULT_LOOKUP_BUDGETS,
        **getattr(settings, "FANGKONG_LOOKUP_BUDGETS", {}),
    }
    window = getattr(settings, "FANGKONG_LOOKUP_WINDOW_MINUTES", DEFAULT_LOOKUP_WINDOW_MINUTES)
    minutes = int(window)
    return LookupPolicy(
        budget=int(budgets.get(str(getattr(actor, "role", "")), DEFAULT_LOOKUP_BUDGET)),
        window=dt.timedelta(minutes=minutes),
        miss_alert=int(getattr(settings, "FANGKONG_LOOKUP_MISS_ALERT", DEFAULT_LOOKUP_MISS_ALERT)),
    )


def _recent(actor: Any, action: str, since: dt.datetime) -> Any:
    return AuditEvent.objects.filter(actor_id=actor.pk, action=action, at__gte=since)


def _refusal(actor: Any, policy: LookupPolicy, since: dt.datetime) -> DomainError | None:
    minutes = int(policy.window.total_seconds() // 60)
    if _recent(actor, LOOKUP_ALERT_ACTION, since).exists():
        return DomainError(
            "lookup_suspended",
            _("查询未命中次数过多，已暂停您的精确查询并通知管理员，请%(m)d分钟后再试")
            % {"m": minutes},
            status=429,
            window_minutes=minutes,
        )
    if _recent(actor, LOOKUP_ACTION, since).count() >= policy.budget:
        return DomainError(
            "lookup_budget_exhausted",
            _("精确查询次数已达上限（每%(m)d分钟%(n)d次），请稍后再试")
            % {"m": minutes, "n": policy.budget},
            status=429,
            budget=policy.budget,
            window_minutes=minutes,
        )
    return None


def lookup_run(
    *,
    actor: Any,
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
    """
    if not getattr(actor, "is_authenticated", False):
        raise DomainError("lookup_anonymous", _("请先登录"), status=403)
    policy = lookup_policy(actor)
    scope = str(getattr(actor, "scope_path", ""))
    base = {"kind": kind, "via": via, "hash": value_hash}
    found: list[T] = []
    with transaction.atomic():
        # One user's lookups are counted one at a time (a burst of parallel requests
        # must not all see the same count).
        list(
            get_user_model()
            ._default_manager.select_for_update()
            .filter(pk=actor.pk)
            .values_list("pk", flat=True)
        )
        since = timezone.now() - policy.window
        refusal = _refusal(actor, policy, since)
        if refusal is None:
            found = list(find())
            if found or record_miss:
                audit_record(
                    actor=actor,
                    action=LOOKUP_ACTION,
                    object_type="person",
                    object_id=getattr(found[0], "pk", "") if len(found) == 1 else "",
                    jurisdiction_path=scope,
                    detail={**base, "outcome": "hit" if found else "miss"},
                    ip=ip,
                )
            if not found and record_miss:
                misses = _recent(actor, LOOKUP_ACTION, since).filter(detail__outcome="miss").count()
                if misses >= policy.miss_alert:
                    audit_record(
                        actor=actor,
                        action=LOOKUP_ALERT_ACTION,
                        object_type="user",
                        object_id=actor.pk,
                        object_label=str(getattr(actor, "username", ""))[:200],
                        jurisdiction_path=scope,
                        detail={
                            "misses": misses,
                            "window_minutes": int(policy.window.total_seconds() // 60),
                            "last": base,
                        },
                        ip=ip,
                    )
        else:
            audit_record(
                actor=actor,
                action=LOOKUP_REFUSED_ACTION,
                object_type="person",
                jurisdiction_path=scope,
                detail={**base, "code": refusal.code},
                ip=ip,
            )
    if refusal is not None:
        raise refusal
    return found
