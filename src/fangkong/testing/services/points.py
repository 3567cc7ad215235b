"""Services of sampling points (采样点): register a point over a place, edit its tables,
samplers and opening hours, update its queue (shown to the public). Audited.

Who may: registering and editing needs `point.manage` and the place in the actor's
jurisdiction, and is refused to samplers; the queue may be updated by a sampler OF THAT
POINT (the user's place), by staff whose jurisdiction contains the point (its town) and
by command.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require, require_in_scope
from fangkong.accounts.roles import Capability, Role
from fangkong.accounts.services import audit_record
from fangkong.areas import selectors as area_selectors
from fangkong.areas.choices import PlaceKind
from fangkong.core.errors import Conflict, DomainError, PermissionDenied
from fangkong.core.paths import under
from fangkong.testing.models import QueueStatus, SamplingPoint

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.areas.models import Place

MAX_TABLES = 200
MAX_SAMPLERS = 1000
MAX_QUEUE = 100_000


def _count(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DomainError("point_value_invalid", _("数值超出范围"), field=field, value=value)
    return value


def _hours(opens_at: dt.time | None, closes_at: dt.time | None) -> None:
    """Opening hours are wall-clock times of the point (Asia/Shanghai): a time carrying
    its own offset (`07:00+08:00`) is refused, as the database stores none."""
    for field, value in (("opens_at", opens_at), ("closes_at", closes_at)):
        if value is not None and value.tzinfo is not None:
            raise DomainError(
                "opening_hours_invalid", _("开放时间不能带时区，请填写当地时间"), field=field
            )
    if (opens_at is None) != (closes_at is None):
        raise DomainError("opening_hours_incomplete", _("请同时填写开放和关闭时间"))
    if opens_at is not None and closes_at is not None and closes_at == opens_at:
        raise DomainError("opening_hours_invalid", _("开放时间和关闭时间不能相同"))


def _not_sampler(actor: User) -> None:
    if getattr(actor, "role", "") == Role.SAMPLER:
        raise PermissionDenied(
            "sampler_queue_only", _("采样员只能更新本采样点的排队状态"), capability="point.manage"
        )


def _audit(actor: User, action: str, point: SamplingPoint, ip: str, **detail: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="sampling_point",
        object_id=point.pk,
        object_label=point.place.name,
        jurisdiction_path=point.jurisdiction_path,
        detail=detail,
        ip=ip,
    )


@transaction.atomic
def point_register(
    *,
    actor: User,
    place: Place,
    tables: int = 1,
    samplers: int = 2,
    opens_at: dt.time | None = None,
    closes_at: dt.time | None = None,
    ip: str = "",
) -> SamplingPoint:
    """Make a place of kind sampling_point an operating sampling point."""
    require(actor, Capability.POINT_MANAGE)
    _not_sampler(actor)
    require_in_scope(actor, place.jurisdiction_path, what="place")
    if place.kind != PlaceKind.SAMPLING_POINT:
        raise DomainError("place_not_sampling_point", _("该场所不是采样点"), kind=place.kind)
    _hours(opens_at, closes_at)
    if SamplingPoint.objects.filter(place=place).exists():
        raise Conflict("point_exists", _("该采样点已登记"), place=place.pk)
    point = SamplingPoint.objects.create(
        place=place,
        jurisdiction_path=place.jurisdiction_path,
        tables=_count(tables, "tables", 1, MAX_TABLES),
        samplers=_count(samplers, "samplers", 0, MAX_SAMPLERS),
        opens_at=opens_at,
        closes_at=closes_at,
    )
    _audit(actor, "point.register", point, ip, tables=point.tables, samplers=point.samplers)
    return point


@transaction.atomic
def point_update(
    *,
    actor: User,
    point: SamplingPoint,
    tables: int,
    samplers: int,
    opens_at: dt.time | None,
    closes_at: dt.time | None,
    ip: str = "",
) -> SamplingPoint:
    """Edit a point's tables, samplers and opening hours (the changes are audited)."""
    require(actor, Capability.POINT_MANAGE)
    _not_sampler(actor)
    require_in_scope(actor, point.jurisdiction_path, what="sampling_point")
    _hours(opens_at, closes_at)
    point = SamplingPoint.objects.select_for_update().select_related("place").get(pk=point.pk)
    new = {
        "tables": _count(tables, "tables", 1, MAX_TABLES),
        "samplers": _count(samplers, "samplers", 0, MAX_SAMPLERS),
        "opens_at": opens_at,
        "closes_at": closes_at,
    }
    changed = {
        k: [
            str(getattr(point, k)) if getattr(point, k) is not None else None,
            str(v) if v is not None else None,
        ]
        for k, v in new.items()
        if getattr(point, k) != v
    }
    for k, v in new.items():
        setattr(point, k, v)
    point.save(update_fields=list(new))
    if changed:
        _audit(actor, "point.update", point, ip, changed=changed)
    return point


def can_update_queue(actor: User, point: SamplingPoint) -> bool:
    from fangkong.accounts.permissions import has_capability, in_scope

    if not has_capability(actor, Capability.POINT_MANAGE):
        return False
    if actor.role == Role.SAMPLER:
        return bool(actor.place_id) and actor.place_id == point.place_id
    return in_scope(actor, point.jurisdiction_path)


@transaction.atomic
def point_queue_update(
    *,
    actor: User,
    point: SamplingPoint,
    status: str,
    length: int = 0,
    now: dt.datetime | None = None,
    ip: str = "",
) -> SamplingPoint:
    """Update the queue status and length shown to the public (排队状态)."""
    require(actor, Capability.POINT_MANAGE)
    if actor.role == Role.SAMPLER:
        if not actor.place_id or actor.place_id != point.place_id:
            raise PermissionDenied(
                "not_your_point", _("只能更新本人所在采样点的排队状态"), point=point.pk
            )
    else:
        require_in_scope(actor, point.jurisdiction_path, what="sampling_point")
    if status not in QueueStatus.values:
        raise DomainError("queue_status_invalid", _("排队状态无效"), queue_status=status)
    length = _count(length, "queue_length", 0, MAX_QUEUE)
    if status == QueueStatus.CLOSED:
        length = 0
    point = SamplingPoint.objects.select_for_update().select_related("place").get(pk=point.pk)
    old = (point.queue_status, point.queue_length)
    point.queue_status = status
    point.queue_length = length
    point.queue_updated_at = now or timezone.now()
    point.queue_updated_by = actor
    point.save(
        update_fields=["queue_status", "queue_length", "queue_updated_at", "queue_updated_by"]
    )
    _audit(actor, "point.queue", point, ip, old=list(old), new=[status, length])
    return point


def points_create_for_places(
    *,
    path: str,
    tables: int = 2,
    samplers: int = 4,
    opens_at: dt.time | None = None,
    closes_at: dt.time | None = None,
) -> int:
    """Set-based: a SamplingPoint for every place of kind sampling_point under `path`
    that has none yet (the drill city's points). Two reads (the places, from areas; the
    points already there) and one bulk INSERT; no actor (a build step, not a user's
    action). Returns the number of rows inserted."""
    places = area_selectors.place_rows_under(path=path, kind=PlaceKind.SAMPLING_POINT)
    taken = set(
        SamplingPoint.objects.filter(under("jurisdiction_path", path)).values_list(
            "place_id", flat=True
        )
    )
    new = [
        SamplingPoint(
            place_id=place_id,
            jurisdiction_path=place_path,
            tables=tables,
            samplers=samplers,
            opens_at=opens_at,
            closes_at=closes_at,
            queue_status=QueueStatus.CLOSED,
            queue_length=0,
        )
        for place_id, place_path in places
        if place_id not in taken
    ]
    SamplingPoint.objects.bulk_create(new, batch_size=1000)
    return len(new)
