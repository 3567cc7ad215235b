"""Quarantine sites (隔离点) and their rooms: a site is one place of kind quarantine_site;
rooms are made in bulk (building × floors × rooms per floor); a room's state is set by
hand (out of service, disinfected) or follows its occupancy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import has_capability, require, require_in_scope
from fangkong.accounts.roles import Capability
from fangkong.accounts.services import audit_record
from fangkong.areas.choices import PlaceKind
from fangkong.core.errors import Conflict, InvalidInput, NotFound
from fangkong.quarantine.choices import RoomKind, RoomState
from fangkong.quarantine.models import Occupancy, Room, Site

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.areas.models import Place

MAX_FLOORS = 60
MAX_ROOMS_PER_FLOOR = 200
MAX_ROOMS_PER_CALL = 5000
# States a person sets by hand; "occupied" follows the occupancy only.
MANUAL_STATES = frozenset({RoomState.READY, RoomState.DISINFECT, RoomState.OUT_OF_SERVICE})


@transaction.atomic
def site_create(*, actor: User, place: Place, doctor_name: str = "", note: str = "") -> Site:
    """Make a place of kind quarantine_site a quarantine site (one site per place)."""
    require(actor, Capability.SITE_MANAGE)
    require_in_scope(actor, place.jurisdiction_path, what="place")
    if place.kind != PlaceKind.QUARANTINE_SITE:
        raise InvalidInput("place_not_quarantine_site", _("该场所不是隔离点类型"), place=place.pk)
    if Site.objects.filter(place=place).exists():
        raise Conflict("site_exists", _("该场所已是隔离点"), place=place.pk)
    try:
        with transaction.atomic():
            site = Site.objects.create(
                place=place,
                jurisdiction_path=place.jurisdiction_path,
                name=place.name,
                doctor_name=doctor_name.strip()[:50],
                note=note.strip(),
            )
    except IntegrityError as exc:
        raise Conflict("site_exists", _("该场所已是隔离点"), place=place.pk) from exc
    audit_record(
        actor=actor,
        action="site.create",
        object_type="site",
        object_id=site.pk,
        object_label=site.name,
        jurisdiction_path=site.jurisdiction_path,
    )
    return site


def _room_number(floor: int, index: int) -> str:
    return f"{floor}{index:02d}"


@transaction.atomic
def rooms_create(
    *,
    actor: User,
    site: Site,
    building: str,
    floors: int,
    rooms_per_floor: int,
    kind: str = RoomKind.SINGLE,
    beds: int = 1,
    accessible_per_floor: int = 0,
) -> int:
    """Add the rooms of a building in bulk: floors 1..`floors`, rooms 01..`rooms_per_floor`
    on each (number "<floor><nn>", e.g. 305); the first `accessible_per_floor` rooms of
    each floor are accessible. Refuses a number that exists (`room_exists`). Returns the
    number of rooms made."""
    require(actor, Capability.SITE_MANAGE)
    require_in_scope(actor, site.jurisdiction_path, what="site")
    building = building.strip()
    if not building or len(building) > 32:
        raise InvalidInput("invalid_building", _("楼栋名称不能为空且不超过32个字符"))
    if not 1 <= floors <= MAX_FLOORS or not 1 <= rooms_per_floor <= MAX_ROOMS_PER_FLOOR:
        raise InvalidInput("invalid_room_count", _("楼层数或每层房间数超出范围"))
    if floors * rooms_per_floor > MAX_ROOMS_PER_CALL:
        raise InvalidInput("invalid_room_count", _("一次最多新建5000间房"))
    if kind not in RoomKind.values:
        raise InvalidInput("invalid_room_kind", _("未知的房型"), kind=kind)
    if kind == RoomKind.SINGLE:
        beds = 1
    if not 1 <= beds <= 8:
        raise InvalidInput("invalid_beds", _("床位数须在1到8之间"))
    if not 0 <= accessible_per_floor <= rooms_per_floor:
        raise InvalidInput("invalid_room_count", _("无障碍房间数超出范围"))
    rows = [
        Room(
            site=site,
            building=building,
            floor=floor,
            number=_room_number(floor, i),
            kind=RoomKind.ACCESSIBLE if i <= accessible_per_floor else kind,
            beds=1 if i <= accessible_per_floor else beds,
            accessible=i <= accessible_per_floor,
        )
        for floor in range(1, floors + 1)
        for i in range(1, rooms_per_floor + 1)
    ]
    numbers = [r.number for r in rows]
    if Room.objects.filter(site=site, building=building, number__in=numbers).exists():
        raise Conflict("room_exists", _("该楼栋已有相同房号"), building=building)
    try:
        with transaction.atomic():
            Room.objects.bulk_create(rows, batch_size=1000)
    except IntegrityError as exc:
        raise Conflict("room_exists", _("该楼栋已有相同房号"), building=building) from exc
    audit_record(
        actor=actor,
        action="room.create",
        object_type="site",
        object_id=site.pk,
        object_label=site.name,
        jurisdiction_path=site.jurisdiction_path,
        detail={"building": building, "rooms": len(rows)},
    )
    return len(rows)


def _require_room_state(actor: User, room: Room) -> None:
    """site.manage in scope, or a site's own staff (placement.care at their place): the
    staff mark a disinfected room ready again."""
    if has_capability(actor, Capability.SITE_MANAGE):
        require_in_scope(actor, room.site.jurisdiction_path, what="room")
        return
    require(actor, Capability.PLACEMENT_CARE)
    if getattr(actor, "place_id", None) != room.site.place_id:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="room")


@transaction.atomic
def room_state_set(*, actor: User, room: Room, state: str) -> Room:
    """Set a room ready, to disinfect or out of service (site.manage, or the site's own
    staff). An occupied room (an open occupancy) keeps its state until the occupancy
    ends (`room_occupied`)."""
    room = Room.objects.select_for_update().select_related("site").get(pk=room.pk)
    _require_room_state(actor, room)
    if state not in MANUAL_STATES:
        raise InvalidInput("invalid_room_state", _("不能手动设置该房间状态"), state=state)
    if Occupancy.objects.filter(room=room, ended_at__isnull=True).exists():
        raise Conflict("room_occupied", _("房间有人入住，不能变更状态"), room=room.pk)
    before = room.state
    room.state = state
    room.state_changed_at = timezone.now()
    room.save(update_fields=["state", "state_changed_at"])
    audit_record(
        actor=actor,
        action="room.state",
        object_type="site",
        object_id=room.site_id,
        object_label=f"{room.site.name} {room}",
        jurisdiction_path=room.site.jurisdiction_path,
        detail={"room": room.pk, "from": before, "to": state},
    )
    return room
