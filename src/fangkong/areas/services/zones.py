"""Writes of the zone machine (封控区 / 管控区 / 防范区): create, record a case or a
screening, close a day, downgrade, lift.

Each service is keyword-only, atomic, validates before it saves, and audits. Zone
services lock the zone row (SELECT ... FOR UPDATE) so that concurrent requests apply
one after the other, and record every change in ZoneTransition.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require, require_in_scope
from fangkong.accounts.roles import Capability
from fangkong.accounts.services import audit_record
from fangkong.areas import rules
from fangkong.areas.models import (
    Jurisdiction,
    Place,
    Zone,
    ZoneAction,
    ZoneLevel,
    ZoneMember,
    ZoneState,
    ZoneTransition,
)
from fangkong.areas.services.areas import valid_name
from fangkong.core.errors import Conflict, DomainError, NotFound
from fangkong.core.paths import is_under, level_prefixes
from fangkong.protocol import rules as protocol_rules
from fangkong.protocol.selectors import ruleset_for

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.protocol.models import RuleSet

ZONE_NAME_MAX = 200
REASON_MAX = 2000


def _reason(value: str, *, required: bool = True) -> str:
    reason = (value or "").strip()
    if required and not reason:
        raise DomainError("reason_required", _("请填写原因"))
    if len(reason) > REASON_MAX:
        raise DomainError("reason_too_long", _("原因过长"), limit=REASON_MAX)
    return reason


# --- Zones ----------------------------------------------------------------------------


def _require_zone_manager(actor: User, path: str) -> None:
    require(actor, Capability.ZONE_MANAGE)
    require_in_scope(actor, path, what="zone")


def _lock_zone(zone: Zone | int) -> Zone:
    """The zone row, locked (SELECT ... FOR UPDATE) until this transaction ends."""
    pk = zone if isinstance(zone, int) else zone.pk
    locked = Zone.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="zone")
    return locked


def _managed_zone(actor: User, zone: Zone | int) -> Zone:
    """Role check (403), then the locked row, then the jurisdiction check (404)."""
    require(actor, Capability.ZONE_MANAGE)
    locked = _lock_zone(zone)
    require_in_scope(actor, locked.jurisdiction_path, what="zone")
    return locked


def _check_date(zone: Zone, on_date: dt.date) -> None:
    if not isinstance(on_date, dt.date) or isinstance(on_date, dt.datetime):
        raise DomainError("date_invalid", _("日期无效"))
    if on_date < zone.started_on:
        raise DomainError(
            "zone_date_before_start", _("日期早于风险区划定日期"), started_on=str(zone.started_on)
        )


def _require_active(zone: Zone) -> None:
    if zone.state != ZoneState.ACTIVE:
        raise Conflict("zone_not_active", _("风险区已解除"), zone=zone.pk)


def _transition(
    *,
    zone: Zone,
    actor: User | None,
    action: str,
    on_date: dt.date,
    reason: str,
    from_level: str,
    from_state: str,
    ruleset: RuleSet | None = None,
    detail: dict[str, Any] | None = None,
    ip: str = "",
) -> ZoneTransition:
    """Record one transition of `zone` (already saved in its new state) and audit it."""
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    row = ZoneTransition.objects.create(
        zone=zone,
        action=action,
        from_level=from_level,
        to_level=zone.level,
        from_state=from_state,
        to_state=zone.state,
        no_case_days=zone.no_case_days,
        on_date=on_date,
        reason=reason,
        ruleset=ruleset,
        detail=detail or {},
        actor=actor if authenticated else None,
        at=timezone.now(),
    )
    audit_record(
        actor=actor,
        action=f"zone.{action}",
        object_type="zone",
        object_id=zone.pk,
        object_label=zone.name,
        jurisdiction_path=zone.jurisdiction_path,
        detail={
            "on_date": on_date.isoformat(),
            "from_level": from_level,
            "to_level": zone.level,
            "from_state": from_state,
            "to_state": zone.state,
            "no_case_days": zone.no_case_days,
            "reason": reason[:200],
            **(detail or {}),
        },
        ip=ip,
    )
    return row


@transaction.atomic
def zone_create(
    *,
    actor: User,
    name: str,
    level: str,
    jurisdiction: Jurisdiction,
    started_on: dt.date,
    reason: str,
    member_jurisdictions: Sequence[Jurisdiction] = (),
    member_places: Sequence[Place] = (),
    parent: Zone | None = None,
    ip: str = "",
) -> Zone:
    """Draw a zone over jurisdictions and/or places, all under the owning jurisdiction."""
    _require_zone_manager(actor, jurisdiction.path)
    clean_name = valid_name(name, limit=ZONE_NAME_MAX)
    if level not in ZoneLevel.values:
        raise DomainError("zone_level_invalid", _("风险区等级无效"), level=level)
    if not isinstance(started_on, dt.date) or isinstance(started_on, dt.datetime):
        raise DomainError("date_invalid", _("日期无效"))
    clean_reason = _reason(reason)
    jurisdictions = list({j.pk: j for j in member_jurisdictions}.values())
    places = list({p.pk: p for p in member_places}.values())
    if not jurisdictions and not places:
        raise DomainError("zone_members_required", _("风险区至少要包含一个辖区或场所"))
    if any(j.pk is None for j in jurisdictions) or any(p.pk is None for p in places):
        raise DomainError("zone_member_unknown", _("风险区范围包含不存在的辖区或场所"))
    outside = [j.pk for j in jurisdictions if not is_under(j.path, jurisdiction.path)] + [
        p.pk for p in places if not is_under(p.jurisdiction_path, jurisdiction.path)
    ]
    if outside:
        raise DomainError(
            "zone_member_outside", _("风险区范围须在所属辖区之内"), members=sorted(outside)
        )
    if parent is not None:
        parent = _lock_zone(parent)
        if parent.state != ZoneState.ACTIVE or not is_under(
            jurisdiction.path, parent.jurisdiction_path
        ):
            raise DomainError(
                "zone_parent_invalid", _("上级风险区须生效中且包含本区所属辖区"), parent=parent.pk
            )
    ruleset = ruleset_for(on_date=started_on, path=jurisdiction.path)
    zone = Zone.objects.create(
        name=clean_name,
        level=level,
        state=ZoneState.ACTIVE,
        jurisdiction=jurisdiction,
        jurisdiction_path=jurisdiction.path,
        parent=parent,
        ruleset=ruleset,
        started_on=started_on,
    )
    ZoneMember.objects.bulk_create(
        [ZoneMember(zone=zone, jurisdiction=j) for j in jurisdictions]
        + [ZoneMember(zone=zone, place=p) for p in places]
    )
    _transition(
        zone=zone,
        actor=actor,
        action=ZoneAction.CREATE,
        on_date=started_on,
        reason=clean_reason,
        from_level="",
        from_state="",
        ruleset=ruleset,
        detail={
            "jurisdictions": [j.pk for j in jurisdictions],
            "places": [p.pk for p in places],
            "parent": parent.pk if parent else None,
        },
        ip=ip,
    )
    return zone


@transaction.atomic
def zone_record_case(
    *, actor: User, zone: Zone | int, on_date: dt.date, reason: str, ip: str = ""
) -> Zone:
    """A new case in the zone: the counter restarts; a controlled or precaution zone is
    escalated to sealed (`escalate`), a sealed zone stays sealed (`case_reset`)."""
    locked = _managed_zone(actor, zone)
    _require_active(locked)
    _check_date(locked, on_date)
    return _record_case(locked, actor=actor, on_date=on_date, reason=_reason(reason), ip=ip)


@transaction.atomic
def zones_record_case_at_home(
    *, actor: User, path: str, on_date: dt.date, case_label: str, ip: str = ""
) -> list[Zone]:
    """A case was reported for a person living at jurisdiction `path` on `on_date`: every
    innermost active zone covering that home (drawn by then) records the case, as
    `zone_record_case` would (a sealed zone restarts its counter, a controlled or
    precaution one is escalated to sealed). The outer zones around it are left to their
    children: a precaution zone around the sealed community is not sealed as a whole.

    Called by tracing when a case is reported: the right to report the case is the right
    to record it on the zones (no `zone.manage`), and `actor` is who the records name.
    Returns the zones changed (none when the home is in no zone)."""
    prefixes = level_prefixes(path)
    if not prefixes:
        return []
    covering = list(
        Zone.objects.filter(
            state=ZoneState.ACTIVE,
            started_on__lte=on_date,
            members__jurisdiction__path__in=prefixes,
        )
        .distinct()
        .order_by("pk")
    )
    parents = {z.parent_id for z in covering}
    reason = _("病例 %(case)s 居住于本区") % {"case": case_label}
    return [
        _record_case(_lock_zone(z), actor=actor, on_date=on_date, reason=reason, ip=ip)
        for z in covering
        if z.pk not in parents
    ]


def _record_case(locked: Zone, *, actor: User, on_date: dt.date, reason: str, ip: str) -> Zone:
    """Record a case on `on_date` in the zone (locked, active, on or after its start)."""
    from_level, from_state = locked.level, locked.state
    locked.no_case_days, locked.counted_through = rules.counter_after_case(
        locked.no_case_days, locked.counted_through, on_date
    )
    if locked.last_case_on is None or on_date > locked.last_case_on:
        locked.last_case_on = on_date
    action = ZoneAction.CASE_RESET
    if protocol_rules.is_more_severe(ZoneLevel.SEALED, locked.level):
        locked.level = ZoneLevel.SEALED
        locked.downgraded_from_sealed = False
        action = ZoneAction.ESCALATE
    locked.save()
    _transition(
        zone=locked,
        actor=actor,
        action=action,
        on_date=on_date,
        reason=reason,
        from_level=from_level,
        from_state=from_state,
        ruleset=locked.ruleset,
        ip=ip,
    )
    return locked


@transaction.atomic
def zone_close_day(*, actor: User | None = None, zone: Zone | int, day: dt.date) -> Zone:
    """Close `day` for the counter (the daily job, or an operator). Idempotent per day; a
    day on which a case was recorded does not count. Refreshes the rule set in force."""
    locked = _lock_zone(zone) if actor is None else _managed_zone(actor, zone)
    _require_active(locked)
    _check_date(locked, day)
    if locked.counted_through is not None and day <= locked.counted_through:
        return locked  # already closed: nothing changes, nothing is recorded
    from_level, from_state = locked.level, locked.state
    locked.no_case_days, locked.counted_through = rules.counter_after_day(
        locked.no_case_days, locked.counted_through, day, had_case=locked.last_case_on == day
    )
    locked.ruleset = ruleset_for(on_date=day, path=locked.jurisdiction_path)
    locked.save()
    _transition(
        zone=locked,
        actor=actor,
        action=ZoneAction.CLOSE_DAY,
        on_date=day,
        reason="",
        from_level=from_level,
        from_state=from_state,
        ruleset=locked.ruleset,
    )
    return locked


@transaction.atomic
def zone_record_screening(
    *,
    actor: User,
    zone: Zone | int,
    on_date: dt.date,
    all_negative: bool,
    reason: str = "",
    ip: str = "",
) -> Zone:
    """A full screening of everyone in the zone on `on_date`. All negative: the date is
    what a downgrade on that day needs. Not all negative: that day's clearance is void."""
    locked = _managed_zone(actor, zone)
    _require_active(locked)
    _check_date(locked, on_date)
    clean_reason = _reason(reason, required=False)
    from_level, from_state = locked.level, locked.state
    if all_negative:
        if locked.last_negative_screening_on is None or on_date > locked.last_negative_screening_on:
            locked.last_negative_screening_on = on_date
    elif locked.last_negative_screening_on == on_date:
        locked.last_negative_screening_on = None
    locked.save()
    _transition(
        zone=locked,
        actor=actor,
        action=ZoneAction.SCREENING,
        on_date=on_date,
        reason=clean_reason,
        from_level=from_level,
        from_state=from_state,
        ruleset=locked.ruleset,
        detail={"all_negative": bool(all_negative)},
        ip=ip,
    )
    return locked


@transaction.atomic
def zone_downgrade(
    *, actor: User, zone: Zone | int, on_date: dt.date, reason: str, ip: str = ""
) -> Zone:
    """Step a sealed or controlled zone down one level, if the rule set in force allows it
    on `on_date`. The counter restarts at 0 at the new level."""
    locked = _managed_zone(actor, zone)
    _require_active(locked)
    _check_date(locked, on_date)
    clean_reason = _reason(reason)
    ruleset = ruleset_for(on_date=on_date, path=locked.jurisdiction_path)
    from_sealed = locked.downgraded_from_sealed
    needed = protocol_rules.zone_downgrade_days(
        ruleset, locked.level, downgraded_from_sealed=from_sealed
    )
    screening = protocol_rules.zone_screening_required(
        ruleset, locked.level, downgraded_from_sealed=from_sealed
    )
    eligibility = protocol_rules.zone_downgrade_eligible(
        ruleset,
        level=locked.level,
        no_case_days=locked.no_case_days,
        last_negative_screening_on=locked.last_negative_screening_on,
        on_date=on_date,
        downgraded_from_sealed=from_sealed,
    )
    if not eligibility.ok:
        raise Conflict(
            "zone_downgrade_not_eligible",
            _("不满足降级条件"),
            reason=eligibility.reason_code,
            level=locked.level,
            no_case_days=locked.no_case_days,
            required_days=needed,
            screening_required=screening,
            last_negative_screening_on=(
                locked.last_negative_screening_on.isoformat()
                if locked.last_negative_screening_on
                else None
            ),
            ruleset=ruleset.version,
        )
    lower = protocol_rules.next_lower_level(locked.level)
    assert lower is not None  # zone_downgrade_eligible refuses the lowest level
    from_level, from_state, days_before = locked.level, locked.state, locked.no_case_days
    locked.downgraded_from_sealed = from_level == ZoneLevel.SEALED
    locked.level = lower
    locked.no_case_days = 0
    locked.counted_through = on_date
    locked.ruleset = ruleset
    locked.save()
    _transition(
        zone=locked,
        actor=actor,
        action=ZoneAction.DOWNGRADE,
        on_date=on_date,
        reason=clean_reason,
        from_level=from_level,
        from_state=from_state,
        ruleset=ruleset,
        detail={"required_days": needed, "no_case_days_before": days_before},
        ip=ip,
    )
    return locked


@transaction.atomic
def zone_lift(
    *, actor: User, zone: Zone | int, on_date: dt.date, reason: str, ip: str = ""
) -> Zone:
    """Lift a precaution zone whose counter has reached the rule set's days and whose
    child zones are all lifted."""
    locked = _managed_zone(actor, zone)
    _require_active(locked)
    _check_date(locked, on_date)
    clean_reason = _reason(reason)
    ruleset = ruleset_for(on_date=on_date, path=locked.jurisdiction_path)
    needed = protocol_rules.zone_downgrade_days(ruleset, locked.level)
    # Lock the children too, so a child cannot be re-activated under us.
    active_children = list(
        Zone.objects.select_for_update()
        .filter(parent=locked, state=ZoneState.ACTIVE)
        .values_list("pk", flat=True)
    )
    eligibility = protocol_rules.zone_lift_eligible(
        ruleset,
        level=locked.level,
        no_case_days=locked.no_case_days,
        active_children=len(active_children),
    )
    if not eligibility.ok:
        raise Conflict(
            "zone_lift_not_eligible",
            _("不满足解除条件"),
            reason=eligibility.reason_code,
            level=locked.level,
            no_case_days=locked.no_case_days,
            required_days=needed,
            active_children=active_children,
            ruleset=ruleset.version,
        )
    from_level, from_state = locked.level, locked.state
    locked.state = ZoneState.LIFTED
    locked.lifted_on = on_date
    locked.ruleset = ruleset
    locked.save()
    _transition(
        zone=locked,
        actor=actor,
        action=ZoneAction.LIFT,
        on_date=on_date,
        reason=clean_reason,
        from_level=from_level,
        from_state=from_state,
        ruleset=ruleset,
        ip=ip,
    )
    return locked


def zones_close_day_all(*, day: dt.date) -> int:
    """Close `day` for every active zone (the daily job); returns how many changed.
    One transaction per zone, so one zone's failure does not hold back the others."""
    due = (
        Zone.objects.filter(state=ZoneState.ACTIVE, started_on__lte=day)
        .filter(Q(counted_through__isnull=True) | Q(counted_through__lt=day))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    pks = list(due)
    for pk in pks:
        zone_close_day(actor=None, zone=pk, day=day)
    return len(pks)
