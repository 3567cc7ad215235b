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
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require, require_in_scope
from fangkong.accounts.roles import Capability, Role
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
from fangkong.notices.choices import NoticeKind
from fangkong.notices.services import notify_over
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
    _refresh_proposal(locked, actor=actor, on_date=on_date, why=_("新增病例，重新计数"), ip=ip)
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
    _refresh_proposal(locked, actor=actor, on_date=day, why="")
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
    """A full screening of everyone in the zone on `on_date`, recorded by hand. All
    negative: the date is what a downgrade on that day needs. Not all negative: every
    clearance up to that day is void."""
    locked = _managed_zone(actor, zone)
    _require_active(locked)
    _check_date(locked, on_date)
    clean_reason = _reason(reason, required=False)
    return _record_screening(
        locked,
        actor=actor,
        on_date=on_date,
        all_negative=all_negative,
        reason=clean_reason,
        detail={},
        ip=ip,
    )


@transaction.atomic
def zone_record_round_screening(
    *,
    actor: User | None,
    zone: Zone | int,
    on_date: dt.date,
    all_negative: bool,
    round_id: int,
    round_name: str,
    ip: str = "",
) -> Zone | None:
    """Testing's word on a zone: the mass-testing round `round_id` (sampled on
    `on_date`) has every result of the zone's people in and all negative, or has a
    positive among them. Called by testing when results are stored and when a round
    closes; the right to import the results or close the round is the right to record
    it (no `zone.manage`), and `actor` is who the record names.

    Idempotent: the same round's same outcome is recorded once (None is returned when
    nothing was recorded: already recorded, zone no longer active, or the round sampled
    before the zone was drawn)."""
    locked = _lock_zone(zone)
    if locked.state != ZoneState.ACTIVE or on_date < locked.started_on:
        return None
    if ZoneTransition.objects.filter(
        zone=locked,
        action=ZoneAction.SCREENING,
        detail__round=round_id,
        detail__all_negative=bool(all_negative),
    ).exists():
        return None
    reason = (
        _("核酸检测轮次「%(round)s」本区结果全部阴性")
        if all_negative
        else _("核酸检测轮次「%(round)s」本区有阳性")
    ) % {"round": round_name[:200]}
    return _record_screening(
        locked,
        actor=actor,
        on_date=on_date,
        all_negative=all_negative,
        reason=reason,
        detail={"round": round_id},
        ip=ip,
    )


def _record_screening(
    locked: Zone,
    *,
    actor: User | None,
    on_date: dt.date,
    all_negative: bool,
    reason: str,
    detail: dict[str, Any],
    ip: str,
) -> Zone:
    from_level, from_state = locked.level, locked.state
    if all_negative:
        if locked.last_negative_screening_on is None or on_date > locked.last_negative_screening_on:
            locked.last_negative_screening_on = on_date
    elif (
        locked.last_negative_screening_on is not None
        and locked.last_negative_screening_on <= on_date
    ):
        # A positive voids the clearance of that day and of the days before it.
        locked.last_negative_screening_on = None
    locked.save()
    _transition(
        zone=locked,
        actor=actor,
        action=ZoneAction.SCREENING,
        on_date=on_date,
        reason=reason,
        from_level=from_level,
        from_state=from_state,
        ruleset=locked.ruleset,
        detail={"all_negative": bool(all_negative), **detail},
        ip=ip,
    )
    _refresh_proposal(locked, actor=actor, on_date=on_date, why=_("全员筛查有阳性"), ip=ip)
    return locked


# --- The downgrade proposal -------------------------------------------------------------


def _proposal_days(zone: Zone) -> int:
    return protocol_rules.zone_downgrade_days(
        zone.ruleset, zone.level, downgraded_from_sealed=zone.downgraded_from_sealed
    )


def _clear_proposal(zone: Zone) -> None:
    zone.downgrade_proposed_on = None
    zone.downgrade_proposed_at = None


def _refresh_proposal(
    locked: Zone, *, actor: User | None, on_date: dt.date, why: str, ip: str = ""
) -> None:
    """After a change of the zone's counter or screening: propose the downgrade when both
    conditions of the rule set hold (`protocol.rules.zone_downgrade_proposal`), once;
    withdraw a waiting proposal when they stop holding (a new case resets the counter),
    saying `why`. A proposal command declined is not made again for the same day."""
    proposal = protocol_rules.zone_downgrade_proposal(
        locked.ruleset,
        level=locked.level,
        no_case_days=locked.no_case_days,
        counted_through=locked.counted_through,
        last_negative_screening_on=locked.last_negative_screening_on,
        downgraded_from_sealed=locked.downgraded_from_sealed,
    )
    waiting = locked.downgrade_proposed_on
    if proposal.ok and proposal.on_date != locked.downgrade_declined_for:
        assert proposal.on_date is not None
        if waiting is not None:
            if waiting != proposal.on_date:  # a later screening: the proposal moves on
                locked.downgrade_proposed_on = proposal.on_date
                locked.save(update_fields=["downgrade_proposed_on", "updated_at"])
            return
        locked.downgrade_proposed_on = proposal.on_date
        locked.downgrade_proposed_at = timezone.now()
        locked.save(update_fields=["downgrade_proposed_on", "downgrade_proposed_at", "updated_at"])
        lower = protocol_rules.next_lower_level(locked.level)
        _transition(
            zone=locked,
            actor=None,
            action=ZoneAction.PROPOSE,
            on_date=proposal.on_date,
            reason=_("连续无新增 %(days)d 天（需 %(needed)d 天），且全员筛查阴性，建议降级")
            % {"days": locked.no_case_days, "needed": _proposal_days(locked)},
            from_level=locked.level,
            from_state=locked.state,
            ruleset=locked.ruleset,
            detail={
                "to_level": lower or "",
                "required_days": _proposal_days(locked),
                "screening_on": (
                    locked.last_negative_screening_on.isoformat()
                    if locked.last_negative_screening_on
                    else None
                ),
            },
            ip=ip,
        )
        notify_over(
            path=locked.jurisdiction_path,
            capability=Capability.ZONE_MANAGE,
            roles=[Role.COMMAND],
            kind=NoticeKind.ZONE_PROPOSAL,
            title=_("%(zone)s 符合降级条件，待确认") % {"zone": locked.name},
            body=_("连续无新增 %(days)d 天，%(on)s 全员筛查阴性")
            % {"days": locked.no_case_days, "on": proposal.on_date.isoformat()},
            url=reverse("areas:zone_detail", args=[locked.pk]),
            object_type="zone",
            object_id=locked.pk,
        )
        return
    if waiting is not None and not proposal.ok:
        _clear_proposal(locked)
        locked.save(update_fields=["downgrade_proposed_on", "downgrade_proposed_at", "updated_at"])
        _transition(
            zone=locked,
            actor=actor,
            action=ZoneAction.WITHDRAW,
            on_date=on_date,
            reason=why or _("不再满足降级条件"),
            from_level=locked.level,
            from_state=locked.state,
            ruleset=locked.ruleset,
            detail={"proposed_on": waiting.isoformat(), "reason_code": proposal.reason_code},
            ip=ip,
        )


def _require_proposal(zone: Zone) -> dt.date:
    if zone.downgrade_proposed_on is None:
        raise Conflict("zone_no_proposal", _("该风险区没有待确认的降级建议"), zone=zone.pk)
    return zone.downgrade_proposed_on


@transaction.atomic
def zone_proposal_confirm(*, actor: User, zone: Zone | int, reason: str = "", ip: str = "") -> Zone:
    """Command confirms the waiting proposal: the zone is downgraded on the proposal's
    day, as `zone_downgrade` would (the rule set is checked again)."""
    locked = _managed_zone(actor, zone)
    _require_active(locked)
    on_date = _require_proposal(locked)
    clean_reason = _reason(reason, required=False) or _("确认系统降级建议")
    return _downgrade(
        locked, actor=actor, on_date=on_date, reason=clean_reason, ip=ip, proposal=True
    )


@transaction.atomic
def zone_proposal_decline(*, actor: User, zone: Zone | int, reason: str, ip: str = "") -> Zone:
    """Command declines the waiting proposal, saying why: the zone keeps its level and
    counter; the same day's proposal is not made again (a later screening may)."""
    locked = _managed_zone(actor, zone)
    _require_active(locked)
    on_date = _require_proposal(locked)
    clean_reason = _reason(reason)
    locked.downgrade_declined_for = on_date
    _clear_proposal(locked)
    locked.save()
    _transition(
        zone=locked,
        actor=actor,
        action=ZoneAction.DECLINE,
        on_date=on_date,
        reason=clean_reason,
        from_level=locked.level,
        from_state=locked.state,
        ruleset=locked.ruleset,
        detail={"proposed_on": on_date.isoformat()},
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
    return _downgrade(locked, actor=actor, on_date=on_date, reason=_reason(reason), ip=ip)


def _downgrade(
    locked: Zone,
    *,
    actor: User,
    on_date: dt.date,
    reason: str,
    ip: str,
    proposal: bool = False,
) -> Zone:
    clean_reason = reason
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
    proposed_on = locked.downgrade_proposed_on
    _clear_proposal(locked)  # the downgrade done is the proposal's end
    locked.downgrade_declined_for = None
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
        detail={
            "required_days": needed,
            "no_case_days_before": days_before,
            "proposal": proposal,
            "proposed_on": proposed_on.isoformat() if proposed_on else None,
        },
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
    _clear_proposal(locked)
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
