"""Areas API: jurisdictions, places, zones and the zones map.

Thin endpoints: selectors read, services write and check permissions; DomainErrors become
{code, message, detail}. Ids named in input that do not exist are bad input (400 with
`unknown_*`), not 404s.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import JsonResponse
from ninja import Field, Query, Router, Schema, Status

from fangkong.accounts.permissions import require
from fangkong.accounts.roles import Capability
from fangkong.accounts.types import AuthedRequest
from fangkong.areas import selectors
from fangkong.areas.models import Jurisdiction, Place, Zone, ZoneMember, ZoneTransition
from fangkong.areas.services import areas as area_services
from fangkong.areas.services import zones as zone_services
from fangkong.core.apitypes import Page, PageQuery, RowId
from fangkong.core.http import client_address
from fangkong.core.pagination import keyset_page

router = Router(tags=["areas"])

# Generous input bounds (the services give the precise limits and codes).
NAME_INPUT_MAX = 1000
TEXT_INPUT_MAX = 4000


# --- Schemas -------------------------------------------------------------------------


class JurisdictionOut(Schema):
    id: int
    level: str
    code: str
    name: str
    path: str
    depth: int
    parent_id: int | None
    population: int

    @staticmethod
    def of(node: Jurisdiction) -> JurisdictionOut:
        return JurisdictionOut(
            id=node.pk,
            level=node.level,
            code=node.code,
            name=node.name,
            path=node.path,
            depth=node.depth,
            parent_id=node.parent_id,
            population=node.population,
        )


class JurisdictionDetailOut(JurisdictionOut):
    parent_name: str | None
    centroid_lat: float | None
    centroid_lon: float | None
    geometry: dict[str, Any] | None


class PlaceOut(Schema):
    id: int
    kind: str
    name: str
    venue_code: str | None
    jurisdiction_id: int
    jurisdiction_path: str
    jurisdiction_name: str
    address: str
    lat: float | None
    lon: float | None
    active: bool
    # VenueKind ("" when not set): what the rule set classifies co-presence by.
    venue_kind: str = ""

    @staticmethod
    def of(place: Place) -> PlaceOut:
        return PlaceOut(
            id=place.pk,
            kind=place.kind,
            name=place.name,
            venue_code=place.venue_code,
            jurisdiction_id=place.jurisdiction_id,
            jurisdiction_path=place.jurisdiction_path,
            jurisdiction_name=place.jurisdiction.name,
            address=place.address,
            lat=place.lat,
            lon=place.lon,
            active=place.active,
            venue_kind=place.venue_kind,
        )


class PlaceIn(Schema):
    kind: str = Field(..., max_length=32)
    name: str = Field(..., max_length=NAME_INPUT_MAX)
    jurisdiction_id: int
    venue_code: str | None = Field(None, max_length=NAME_INPUT_MAX)
    address: str = Field("", max_length=TEXT_INPUT_MAX)
    lat: float | None = None
    lon: float | None = None
    venue_kind: str = Field("", max_length=32)


class ZoneOut(Schema):
    id: int
    name: str
    level: str
    state: str
    jurisdiction_id: int
    jurisdiction_path: str
    jurisdiction_name: str
    parent_id: int | None
    ruleset: str
    started_on: dt.date
    last_case_on: dt.date | None
    no_case_days: int
    required_days: int
    screening_required: bool
    counted_through: dt.date | None
    last_negative_screening_on: dt.date | None
    lifted_on: dt.date | None
    # The downgrade the system proposes, waiting for command (None: no proposal).
    downgrade_proposed_on: dt.date | None = None
    downgrade_proposed_at: dt.datetime | None = None

    @staticmethod
    def of(zone: Zone) -> ZoneOut:
        progress = selectors.zone_progress(zone)
        return ZoneOut(
            id=zone.pk,
            name=zone.name,
            level=zone.level,
            state=zone.state,
            jurisdiction_id=zone.jurisdiction_id,
            jurisdiction_path=zone.jurisdiction_path,
            jurisdiction_name=zone.jurisdiction.name,
            parent_id=zone.parent_id,
            ruleset=zone.ruleset.version,
            started_on=zone.started_on,
            last_case_on=zone.last_case_on,
            no_case_days=zone.no_case_days,
            required_days=progress.required_days,
            screening_required=progress.screening_required,
            counted_through=zone.counted_through,
            last_negative_screening_on=zone.last_negative_screening_on,
            lifted_on=zone.lifted_on,
            downgrade_proposed_on=zone.downgrade_proposed_on,
            downgrade_proposed_at=zone.downgrade_proposed_at,
        )


class ZoneMemberOut(Schema):
    kind: Literal["jurisdiction", "place"]
    id: int
    name: str
    path: str

    @staticmethod
    def of(member: ZoneMember) -> ZoneMemberOut:
        if member.jurisdiction is not None:
            j = member.jurisdiction
            return ZoneMemberOut(kind="jurisdiction", id=j.pk, name=j.name, path=j.path)
        assert member.place is not None
        p = member.place
        return ZoneMemberOut(kind="place", id=p.pk, name=p.name, path=p.jurisdiction_path)


class ZoneTransitionOut(Schema):
    id: int
    action: str
    from_level: str
    to_level: str
    from_state: str
    to_state: str
    no_case_days: int
    on_date: dt.date
    reason: str
    ruleset: str | None
    detail: dict[str, Any]
    actor: str | None
    at: dt.datetime

    @staticmethod
    def of(row: ZoneTransition) -> ZoneTransitionOut:
        return ZoneTransitionOut(
            id=row.pk,
            action=row.action,
            from_level=row.from_level,
            to_level=row.to_level,
            from_state=row.from_state,
            to_state=row.to_state,
            no_case_days=row.no_case_days,
            on_date=row.on_date,
            reason=row.reason,
            ruleset=row.ruleset.version if row.ruleset else None,
            detail=row.detail,
            actor=row.actor.username if row.actor else None,
            at=row.at,
        )


class ZoneDetailOut(ZoneOut):
    members: list[ZoneMemberOut]
    children: list[int]
    transitions: list[ZoneTransitionOut]


class ZoneIn(Schema):
    name: str = Field(..., max_length=NAME_INPUT_MAX)
    level: Literal["sealed", "controlled", "precaution"]
    jurisdiction_id: RowId
    member_jurisdiction_ids: list[RowId] = Field(default_factory=list, max_length=5000)
    member_place_ids: list[RowId] = Field(default_factory=list, max_length=5000)
    parent_id: RowId | None = None
    started_on: dt.date
    reason: str = Field(..., max_length=TEXT_INPUT_MAX)


class ZoneActionIn(Schema):
    on_date: dt.date
    reason: str = Field("", max_length=TEXT_INPUT_MAX)


class ZoneScreeningIn(ZoneActionIn):
    all_negative: bool


class ZoneProposalIn(Schema):
    reason: str = Field("", max_length=TEXT_INPUT_MAX)


class ZoneCloseDayIn(Schema):
    day: dt.date


# --- Jurisdictions --------------------------------------------------------------------


@router.get("/jurisdictions", response=Page[JurisdictionOut], summary="List jurisdictions")
def jurisdiction_list(
    request: AuthedRequest,
    page: Query[PageQuery],
    parent: RowId | None = None,
    level: Literal["city", "town", "community", "grid"] | None = None,
) -> Page[JurisdictionOut]:
    nodes = selectors.jurisdictions(user=request.user, parent=parent, level=level)
    found = keyset_page(
        nodes, cursor=page.cursor, size=page.size, order=selectors.JURISDICTION_ORDER
    )
    return Page[JurisdictionOut].of(found, JurisdictionOut.of)


@router.get(
    "/jurisdictions/{jurisdiction_id}",
    response=JurisdictionDetailOut,
    summary="Get a jurisdiction with its outline",
)
def jurisdiction_detail(request: AuthedRequest, jurisdiction_id: int) -> JurisdictionDetailOut:
    node = selectors.jurisdiction_get(user=request.user, pk=jurisdiction_id)
    geometry = getattr(node, "geometry", None)
    return JurisdictionDetailOut(
        **JurisdictionOut.of(node).model_dump(),
        parent_name=node.parent.name if node.parent else None,
        centroid_lat=geometry.centroid_lat if geometry else None,
        centroid_lon=geometry.centroid_lon if geometry else None,
        geometry=geometry.geojson if geometry else None,
    )


# --- Places ---------------------------------------------------------------------------


class PlaceFilter(PageQuery):
    kind: str | None = None
    jurisdiction: RowId | None = None
    q: str | None = Field(None, max_length=100)


@router.get("/places", response=Page[PlaceOut], summary="List places")
def place_list(request: AuthedRequest, filters: Query[PlaceFilter]) -> Page[PlaceOut]:
    jurisdiction = selectors.jurisdiction_resolve(user=request.user, pk=filters.jurisdiction)
    page = selectors.places(
        user=request.user,
        kind=filters.kind,
        jurisdiction=jurisdiction,
        q=filters.q,
        cursor=filters.cursor,
        size=filters.size,
    )
    return Page[PlaceOut].of(page, PlaceOut.of)


@router.post("/places", response={201: PlaceOut}, summary="Create a place")
def place_create(request: AuthedRequest, payload: PlaceIn) -> Status:
    require(request.user, Capability.PLACE_MANAGE)
    jurisdiction = selectors.jurisdiction_resolve(user=request.user, pk=payload.jurisdiction_id)
    place = area_services.place_create(
        actor=request.user,
        kind=payload.kind,
        name=payload.name,
        jurisdiction=jurisdiction,
        venue_code=payload.venue_code,
        address=payload.address,
        lat=payload.lat,
        lon=payload.lon,
        venue_kind=payload.venue_kind,
    )
    return Status(201, PlaceOut.of(place))


# --- Zones ----------------------------------------------------------------------------


@router.get("/zones", response=Page[ZoneOut], summary="List risk zones")
def zone_list(
    request: AuthedRequest,
    page: Query[PageQuery],
    level: Literal["sealed", "controlled", "precaution"] | None = None,
    state: Literal["active", "lifted"] | None = None,
) -> Page[ZoneOut]:
    """Active first, most severe first, then newest (the order of `selectors.zones`)."""
    zones = selectors.zones(user=request.user, level=level, state=state)
    found = keyset_page(zones, cursor=page.cursor, size=page.size, order=selectors.ZONE_ORDER)
    return Page[ZoneOut].of(found, ZoneOut.of)


def _zone_detail_out(request: AuthedRequest, pk: int) -> ZoneDetailOut:
    zone = selectors.zone_detail(user=request.user, pk=pk)
    return ZoneDetailOut(
        **ZoneOut.of(zone).model_dump(),
        members=[ZoneMemberOut.of(m) for m in zone.members.all()],
        children=[c.pk for c in zone.children.all()],
        transitions=[ZoneTransitionOut.of(t) for t in zone.transitions.all()],
    )


@router.get(
    "/zones/{zone_id}",
    response=ZoneDetailOut,
    summary="Get a risk zone with its members and history",
)
def zone_detail(request: AuthedRequest, zone_id: int) -> ZoneDetailOut:
    return _zone_detail_out(request, zone_id)


@router.post("/zones", response={201: ZoneDetailOut}, summary="Draw a risk zone")
def zone_create(request: AuthedRequest, payload: ZoneIn) -> Status:
    require(request.user, Capability.ZONE_MANAGE)
    owner = selectors.jurisdiction_resolve(user=request.user, pk=payload.jurisdiction_id)
    assert owner is not None
    zone = zone_services.zone_create(
        actor=request.user,
        name=payload.name,
        level=payload.level,
        jurisdiction=owner,
        member_jurisdictions=selectors.jurisdictions_resolve(
            user=request.user, pks=payload.member_jurisdiction_ids
        ),
        member_places=selectors.places_resolve(user=request.user, pks=payload.member_place_ids),
        parent=selectors.zone_resolve(user=request.user, pk=payload.parent_id),
        started_on=payload.started_on,
        reason=payload.reason,
        ip=client_address(request),
    )
    return Status(201, _zone_detail_out(request, zone.pk))


@router.post(
    "/zones/{zone_id}/record-case",
    response=ZoneDetailOut,
    summary="Record a new case in a risk zone",
)
def zone_record_case(request: AuthedRequest, zone_id: int, payload: ZoneActionIn) -> ZoneDetailOut:
    zone_services.zone_record_case(
        actor=request.user,
        zone=zone_id,
        on_date=payload.on_date,
        reason=payload.reason,
        ip=client_address(request),
    )
    return _zone_detail_out(request, zone_id)


@router.post(
    "/zones/{zone_id}/screening",
    response=ZoneDetailOut,
    summary="Record a risk zone's mass screening result",
)
def zone_record_screening(
    request: AuthedRequest, zone_id: int, payload: ZoneScreeningIn
) -> ZoneDetailOut:
    zone_services.zone_record_screening(
        actor=request.user,
        zone=zone_id,
        on_date=payload.on_date,
        all_negative=payload.all_negative,
        reason=payload.reason,
        ip=client_address(request),
    )
    return _zone_detail_out(request, zone_id)


@router.post("/zones/{zone_id}/downgrade", response=ZoneDetailOut, summary="Downgrade a risk zone")
def zone_downgrade(request: AuthedRequest, zone_id: int, payload: ZoneActionIn) -> ZoneDetailOut:
    zone_services.zone_downgrade(
        actor=request.user,
        zone=zone_id,
        on_date=payload.on_date,
        reason=payload.reason,
        ip=client_address(request),
    )
    return _zone_detail_out(request, zone_id)


@router.post("/zones/{zone_id}/lift", response=ZoneDetailOut, summary="Lift a risk zone")
def zone_lift(request: AuthedRequest, zone_id: int, payload: ZoneActionIn) -> ZoneDetailOut:
    zone_services.zone_lift(
        actor=request.user,
        zone=zone_id,
        on_date=payload.on_date,
        reason=payload.reason,
        ip=client_address(request),
    )
    return _zone_detail_out(request, zone_id)


@router.post(
    "/zones/{zone_id}/proposal/confirm",
    response=ZoneDetailOut,
    summary="Confirm the downgrade the system proposes for a risk zone",
)
def zone_proposal_confirm(
    request: AuthedRequest, zone_id: int, payload: ZoneProposalIn
) -> ZoneDetailOut:
    zone_services.zone_proposal_confirm(
        actor=request.user, zone=zone_id, reason=payload.reason, ip=client_address(request)
    )
    return _zone_detail_out(request, zone_id)


@router.post(
    "/zones/{zone_id}/proposal/decline",
    response=ZoneDetailOut,
    summary="Decline the downgrade the system proposes for a risk zone, saying why",
)
def zone_proposal_decline(
    request: AuthedRequest, zone_id: int, payload: ZoneProposalIn
) -> ZoneDetailOut:
    zone_services.zone_proposal_decline(
        actor=request.user, zone=zone_id, reason=payload.reason, ip=client_address(request)
    )
    return _zone_detail_out(request, zone_id)


@router.post(
    "/zones/{zone_id}/close-day",
    response=ZoneDetailOut,
    summary="Close a risk zone's day (count its days without a case)",
)
def zone_close_day(request: AuthedRequest, zone_id: int, payload: ZoneCloseDayIn) -> ZoneDetailOut:
    zone_services.zone_close_day(actor=request.user, zone=zone_id, day=payload.day)
    return _zone_detail_out(request, zone_id)


# --- Map ------------------------------------------------------------------------------


@router.get("/map.geojson", response=dict[str, Any], summary="Map of the risk zones (GeoJSON)")
def zone_map(request: AuthedRequest, level: Literal["town", "community"] = "town") -> JsonResponse:
    collection = selectors.map_features(user=request.user, level=level)
    return JsonResponse(
        collection, content_type="application/geo+json", json_dumps_params={"ensure_ascii": False}
    )


@router.get(
    "/zones.geojson",
    response=dict[str, Any],
    summary="Active risk zones as points with their day counters and proposals (GeoJSON)",
)
def zone_markers(request: AuthedRequest) -> JsonResponse:
    collection = selectors.zone_markers(user=request.user)
    return JsonResponse(
        collection, content_type="application/geo+json", json_dumps_params={"ensure_ascii": False}
    )
