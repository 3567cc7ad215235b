"""Every write of the areas domain: jurisdictions, geometry, places and the zone machine.

Each service is keyword-only, atomic, validates before it saves, and audits. Zone
services lock the zone row (SELECT ... FOR UPDATE) so that concurrent requests apply
one after the other, and record every change in ZoneTransition.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Final

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require, require_in_scope
from fangkong.accounts.roles import Capability
from fangkong.accounts.services import audit_record
from fangkong.areas import rules
from fangkong.areas.models import (
    LEVEL_WIDTH,
    Jurisdiction,
    JurisdictionGeometry,
    Level,
    Place,
    PlaceKind,
    Zone,
    ZoneAction,
    ZoneLevel,
    ZoneMember,
    ZoneState,
    ZoneTransition,
)
from fangkong.core.errors import Conflict, DomainError, NotFound
from fangkong.core.paths import is_under
from fangkong.protocol import rules as protocol_rules
from fangkong.protocol.models import RuleSet
from fangkong.protocol.selectors import ruleset_for

# The level a child of each level has (city → town → community → grid).
CHILD_LEVEL: Final[dict[str, str]] = {
    Level.CITY: Level.TOWN,
    Level.TOWN: Level.COMMUNITY,
    Level.COMMUNITY: Level.GRID,
}

JURISDICTION_NAME_MAX = 100
PLACE_NAME_MAX = 200
ZONE_NAME_MAX = 200
ADDRESS_MAX = 300
VENUE_CODE_MAX = 32
REASON_MAX = 2000


class _Unset:
    """Marks an argument that was not given (None is a value: 'clear it')."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


def _name(value: str, *, limit: int) -> str:
    name = (value or "").strip()
    if not name:
        raise DomainError("name_required", _("名称不能为空"))
    if len(name) > limit:
        raise DomainError("name_too_long", _("名称过长"), limit=limit)
    return name


def _reason(value: str, *, required: bool = True) -> str:
    reason = (value or "").strip()
    if required and not reason:
        raise DomainError("reason_required", _("请填写原因"))
    if len(reason) > REASON_MAX:
        raise DomainError("reason_too_long", _("原因过长"), limit=REASON_MAX)
    return reason


# --- Jurisdictions --------------------------------------------------------------------


@transaction.atomic
def jurisdiction_create(
    *,
    actor: Any,
    parent: Jurisdiction | None,
    level: str,
    name: str,
    code_suffix: str | None = None,
    code: str | None = None,
    population: int = 0,
) -> Jurisdiction:
    """Add a node to the tree. Its path (= code) is the parent's path plus a 3-digit
    suffix; a root (no parent) is a city with a 6-digit code."""
    require(actor, Capability.PLACE_MANAGE)
    if parent is None:
        expected_level, width, prefix = Level.CITY, LEVEL_WIDTH[Level.CITY], ""
    else:
        require_in_scope(actor, parent.path, what="jurisdiction")
        if parent.level not in CHILD_LEVEL:
            raise DomainError(
                "jurisdiction_level_invalid", _("该层级下不能再建下级辖区"), parent=parent.level
            )
        expected_level = Level(CHILD_LEVEL[parent.level])
        width, prefix = LEVEL_WIDTH[expected_level], parent.path
    if level != expected_level:
        raise DomainError(
            "jurisdiction_level_invalid",
            _("辖区层级与上级不符"),
            expected=str(expected_level),
            given=level,
        )
    if (code_suffix is None) == (code is None):
        raise DomainError("jurisdiction_code_invalid", _("请给出代码或代码后缀（二选一）"))
    full = prefix + code_suffix if code_suffix is not None else str(code)
    suffix = full[len(prefix) :]
    if not full.isdigit() or not full.startswith(prefix) or len(suffix) != width:
        raise DomainError(
            "jurisdiction_code_invalid", _("辖区代码须为上级代码加 %(n)d 位数字") % {"n": width}
        )
    clean_name = _name(name, limit=JURISDICTION_NAME_MAX)
    if isinstance(population, bool) or not isinstance(population, int) or population < 0:
        raise DomainError("population_invalid", _("人口数须为非负整数"))
    if Jurisdiction.objects.filter(code=full).exists():
        raise Conflict("jurisdiction_code_taken", _("辖区代码已存在"), jurisdiction_code=full)
    try:
        with transaction.atomic():
            node = Jurisdiction.objects.create(
                level=level,
                code=full,
                name=clean_name,
                parent=parent,
                path=full,
                depth=0 if parent is None else parent.depth + 1,
                population=population,
            )
    except IntegrityError as exc:  # a concurrent create of the same code
        raise Conflict(
            "jurisdiction_code_taken", _("辖区代码已存在"), jurisdiction_code=full
        ) from exc
    audit_record(
        actor=actor,
        action="jurisdiction.create",
        object_type="jurisdiction",
        object_id=node.pk,
        object_label=node.name,
        jurisdiction_path=node.path,
        detail={"code": node.code, "level": node.level},
    )
    return node


@transaction.atomic
def jurisdiction_set_geometry(
    *, actor: Any, jurisdiction: Jurisdiction, geojson: Any
) -> JurisdictionGeometry:
    """Set (or replace) the boundary of a jurisdiction: a GeoJSON Polygon/MultiPolygon."""
    require(actor, Capability.PLACE_MANAGE)
    require_in_scope(actor, jurisdiction.path, what="jurisdiction")
    try:
        polygons = rules.parse_polygons(geojson)
    except rules.GeometryError as exc:
        raise DomainError("geometry_invalid", _("边界不是有效的多边形"), why=str(exc)) from exc
    lat, lon = rules.centroid(polygons)
    geometry, created = JurisdictionGeometry.objects.update_or_create(
        jurisdiction=jurisdiction,
        defaults={"geojson": geojson, "centroid_lat": lat, "centroid_lon": lon},
    )
    audit_record(
        actor=actor,
        action="jurisdiction.geometry",
        object_type="jurisdiction",
        object_id=jurisdiction.pk,
        object_label=jurisdiction.name,
        jurisdiction_path=jurisdiction.path,
        detail={"type": geojson["type"], "created": created},
    )
    return geometry


# --- Places ---------------------------------------------------------------------------


def _place_fields(
    *,
    kind: str,
    name: str,
    venue_code: str | None,
    address: str,
    lat: float | None,
    lon: float | None,
) -> dict[str, Any]:
    if kind not in PlaceKind.values:
        raise DomainError("place_kind_invalid", _("场所类型无效"), kind=kind)
    clean_name = _name(name, limit=PLACE_NAME_MAX)
    code = (venue_code or "").strip() or None
    if code is not None and (len(code) > VENUE_CODE_MAX or not code.isprintable()):
        raise DomainError("venue_code_invalid", _("场所码格式无效"), limit=VENUE_CODE_MAX)
    clean_address = (address or "").strip()
    if len(clean_address) > ADDRESS_MAX:
        raise DomainError("address_too_long", _("地址过长"), limit=ADDRESS_MAX)
    if not rules.coordinates_valid(lat, lon):
        raise DomainError("coordinates_invalid", _("经纬度无效"))
    return {
        "kind": kind,
        "name": clean_name,
        "venue_code": code,
        "address": clean_address,
        "lat": None if lat is None else float(lat),
        "lon": None if lon is None else float(lon),
    }


def _check_place_jurisdiction(actor: Any, jurisdiction: Jurisdiction | None) -> Jurisdiction:
    if jurisdiction is None or jurisdiction.pk is None:
        raise DomainError("unknown_jurisdiction", _("辖区不存在"))
    try:
        require_in_scope(actor, jurisdiction.path, what="jurisdiction")
    except NotFound as exc:
        raise DomainError("unknown_jurisdiction", _("辖区不存在")) from exc
    return jurisdiction


def _save_place(place: Place) -> None:
    try:
        with transaction.atomic():
            place.save()
    except IntegrityError as exc:  # a concurrent request took the venue code
        raise Conflict(
            "venue_code_taken", _("场所码已被占用"), venue_code=place.venue_code
        ) from exc


@transaction.atomic
def place_create(
    *,
    actor: Any,
    kind: str,
    name: str,
    jurisdiction: Jurisdiction | None,
    venue_code: str | None = None,
    address: str = "",
    lat: float | None = None,
    lon: float | None = None,
) -> Place:
    require(actor, Capability.PLACE_MANAGE)
    owner = _check_place_jurisdiction(actor, jurisdiction)
    fields = _place_fields(
        kind=kind, name=name, venue_code=venue_code, address=address, lat=lat, lon=lon
    )
    if fields["venue_code"] and Place.objects.filter(venue_code=fields["venue_code"]).exists():
        raise Conflict("venue_code_taken", _("场所码已被占用"), venue_code=fields["venue_code"])
    place = Place(jurisdiction=owner, jurisdiction_path=owner.path, **fields)
    _save_place(place)
    audit_record(
        actor=actor,
        action="place.create",
        object_type="place",
        object_id=place.pk,
        object_label=place.name,
        jurisdiction_path=place.jurisdiction_path,
        detail={"kind": place.kind, "venue_code": place.venue_code},
    )
    return place


@transaction.atomic
def place_update(
    *,
    actor: Any,
    place: Place,
    kind: str | None = None,
    name: str | None = None,
    jurisdiction: Jurisdiction | _Unset | None = UNSET,
    venue_code: str | _Unset | None = UNSET,
    address: str | None = None,
    lat: float | _Unset | None = UNSET,
    lon: float | _Unset | None = UNSET,
    active: bool | None = None,
) -> Place:
    """Change the given fields of a place (UNSET = leave as is; None clears a nullable)."""
    require(actor, Capability.PLACE_MANAGE)
    locked = Place.objects.select_for_update().filter(pk=place.pk).first()
    if locked is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="place")
    require_in_scope(actor, locked.jurisdiction_path, what="place")
    owner = locked.jurisdiction
    if not isinstance(jurisdiction, _Unset):
        owner = _check_place_jurisdiction(actor, jurisdiction)
    fields = _place_fields(
        kind=locked.kind if kind is None else kind,
        name=locked.name if name is None else name,
        venue_code=locked.venue_code if isinstance(venue_code, _Unset) else venue_code,
        address=locked.address if address is None else address,
        lat=locked.lat if isinstance(lat, _Unset) else lat,
        lon=locked.lon if isinstance(lon, _Unset) else lon,
    )
    code = fields["venue_code"]
    if code and Place.objects.filter(venue_code=code).exclude(pk=locked.pk).exists():
        raise Conflict("venue_code_taken", _("场所码已被占用"), venue_code=code)
    changed = sorted(
        k for k, v in [*fields.items(), ("jurisdiction_id", owner.pk)] if getattr(locked, k) != v
    )
    for key, value in fields.items():
        setattr(locked, key, value)
    locked.jurisdiction = owner
    locked.jurisdiction_path = owner.path
    if active is not None and active != locked.active:
        locked.active = active
        changed.append("active")
    _save_place(locked)
    audit_record(
        actor=actor,
        action="place.update",
        object_type="place",
        object_id=locked.pk,
        object_label=locked.name,
        jurisdiction_path=locked.jurisdiction_path,
        detail={"changed": changed},
    )
    return locked


# --- Zones ----------------------------------------------------------------------------


def _require_zone_manager(actor: Any, path: str) -> None:
    require(actor, Capability.ZONE_MANAGE)
    require_in_scope(actor, path, what="zone")


def _lock_zone(zone: Zone | int) -> Zone:
    """The zone row, locked (SELECT ... FOR UPDATE) until this transaction ends."""
    pk = zone if isinstance(zone, int) else zone.pk
    locked = Zone.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="zone")
    return locked


def _managed_zone(actor: Any, zone: Zone | int) -> Zone:
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
    actor: Any,
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
    actor: Any,
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
    clean_name = _name(name, limit=ZONE_NAME_MAX)
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
    *, actor: Any, zone: Zone | int, on_date: dt.date, reason: str, ip: str = ""
) -> Zone:
    """A new case in the zone: the counter restarts; a controlled or precaution zone is
    escalated to sealed (`escalate`), a sealed zone stays sealed (`case_reset`)."""
    locked = _managed_zone(actor, zone)
    _require_active(locked)
    _check_date(locked, on_date)
    clean_reason = _reason(reason)
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
        reason=clean_reason,
        from_level=from_level,
        from_state=from_state,
        ruleset=locked.ruleset,
        ip=ip,
    )
    return locked


@transaction.atomic
def zone_close_day(*, actor: Any = None, zone: Zone | int, day: dt.date) -> Zone:
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
    actor: Any,
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
    *, actor: Any, zone: Zone | int, on_date: dt.date, reason: str, ip: str = ""
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
def zone_lift(*, actor: Any, zone: Zone | int, on_date: dt.date, reason: str, ip: str = "") -> Zone:
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
