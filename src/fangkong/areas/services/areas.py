"""Writes of the areas map: jurisdictions (辖区) with their geometry, and places.

Each service is keyword-only, atomic, validates before it saves, and audits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require, require_in_scope
from fangkong.accounts.roles import Capability
from fangkong.accounts.services import audit_record
from fangkong.areas import rules
from fangkong.areas.choices import VenueKind
from fangkong.areas.models import (
    LEVEL_WIDTH,
    Jurisdiction,
    JurisdictionGeometry,
    Level,
    Place,
    PlaceKind,
)
from fangkong.core.errors import Conflict, DomainError, NotFound

if TYPE_CHECKING:
    from fangkong.accounts.models import User

# The level a child of each level has (city → town → community → grid).
CHILD_LEVEL: Final[dict[str, str]] = {
    Level.CITY: Level.TOWN,
    Level.TOWN: Level.COMMUNITY,
    Level.COMMUNITY: Level.GRID,
}

JURISDICTION_NAME_MAX = 100
PLACE_NAME_MAX = 200
ADDRESS_MAX = 300
VENUE_CODE_MAX = 32


class _Unset:
    """Marks an argument that was not given (None is a value: 'clear it')."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


def valid_name(value: str, *, limit: int) -> str:
    """A name stripped, or 400 if it is empty or longer than `limit`."""
    name = (value or "").strip()
    if not name:
        raise DomainError("name_required", _("名称不能为空"))
    if len(name) > limit:
        raise DomainError("name_too_long", _("名称过长"), limit=limit)
    return name


# --- Jurisdictions --------------------------------------------------------------------


@transaction.atomic
def jurisdiction_create(
    *,
    actor: User,
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
    clean_name = valid_name(name, limit=JURISDICTION_NAME_MAX)
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
    *, actor: User, jurisdiction: Jurisdiction, geojson: Any
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
    venue_kind: str = "",
) -> dict[str, Any]:
    if kind not in PlaceKind.values:
        raise DomainError("place_kind_invalid", _("场所类型无效"), kind=kind)
    venue_kind = (venue_kind or "").strip()
    if venue_kind and venue_kind not in VenueKind.values:
        raise DomainError("venue_kind_invalid", _("场所类别无效"), venue_kind=venue_kind)
    clean_name = valid_name(name, limit=PLACE_NAME_MAX)
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
        "venue_kind": venue_kind,
    }


def _check_place_jurisdiction(actor: User, jurisdiction: Jurisdiction | None) -> Jurisdiction:
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
    actor: User,
    kind: str,
    name: str,
    jurisdiction: Jurisdiction | None,
    venue_code: str | None = None,
    address: str = "",
    lat: float | None = None,
    lon: float | None = None,
    venue_kind: str = "",
) -> Place:
    """A place; `venue_kind` (VenueKind) is what the rule set classifies co-presence by."""
    require(actor, Capability.PLACE_MANAGE)
    owner = _check_place_jurisdiction(actor, jurisdiction)
    fields = _place_fields(
        kind=kind,
        name=name,
        venue_code=venue_code,
        address=address,
        lat=lat,
        lon=lon,
        venue_kind=venue_kind,
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
    actor: User,
    place: Place,
    kind: str | None = None,
    name: str | None = None,
    jurisdiction: Jurisdiction | _Unset | None = UNSET,
    venue_code: str | _Unset | None = UNSET,
    address: str | None = None,
    lat: float | _Unset | None = UNSET,
    lon: float | _Unset | None = UNSET,
    active: bool | None = None,
    venue_kind: str | None = None,
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
        venue_kind=locked.venue_kind if venue_kind is None else venue_kind,
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
