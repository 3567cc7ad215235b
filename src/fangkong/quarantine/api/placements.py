"""API of placements: list, detail, create, bulk (a case's contacts in one action), room
assignment; transfers (list, create, depart, arrive). Scoped like the pages."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from fangkong.accounts.types import AuthedRequest
from fangkong.core.apitypes import Page, PageQuery, RowId
from fangkong.core.errors import NotFound
from fangkong.people import selectors as people_selectors
from fangkong.quarantine.choices import Measure, PlacementSource, PlacementStatus, TransferStatus
from fangkong.quarantine.models import Placement, PlacementTest, Transfer
from fangkong.quarantine.selectors import placements as selectors
from fangkong.quarantine.selectors import sites as site_selectors
from fangkong.quarantine.services import placements as services

router = Router()

STATUS_PATTERN = "^(open|" + "|".join(PlacementStatus.values) + ")$"
MEASURE_PATTERN = "^(" + "|".join(Measure.values) + ")$"
SOURCE_PATTERN = "^(" + "|".join(PlacementSource.values) + ")$"
TRANSFER_STATUS_PATTERN = "^(" + "|".join(TransferStatus.values) + ")$"


class MaskedPersonOut(Schema):
    id: int
    name: str
    id_number: str
    phone: str


class PlacementOut(Schema):
    id: int
    person: MaskedPersonOut
    jurisdiction_path: str
    contact_id: int | None
    source: str
    classification: str
    measure: str
    status: str
    site_id: int | None
    site_name: str
    room_id: int | None
    room: str
    ruleset: str
    last_exposure_on: dt.date | None
    start_on: dt.date
    quarantine_end_on: dt.date | None
    monitoring_end_on: dt.date | None
    checked_in_at: dt.datetime | None
    needs_move: bool = Field(
        False,
        description="At home but now due for centralised quarantine (upgraded "
        "classification): to be moved to a site by the bulk placement",
    )

    @staticmethod
    def of(p: Placement) -> PlacementOut:
        who = p.who  # type: ignore[attr-defined]
        return PlacementOut(
            id=p.pk,
            person=MaskedPersonOut(
                id=who.person_id, name=who.name, id_number=who.id_number, phone=who.phone
            ),
            jurisdiction_path=p.jurisdiction_path,
            contact_id=p.contact_id,
            source=p.source,
            classification=p.classification,
            measure=p.measure,
            status=p.status,
            site_id=p.site_id,
            site_name=p.site.name if p.site else "",
            room_id=p.room_id,
            room=str(p.room) if p.room else "",
            ruleset=p.ruleset.name,
            last_exposure_on=p.last_exposure_on,
            start_on=p.start_on,
            quarantine_end_on=p.quarantine_end_on,
            monitoring_end_on=p.monitoring_end_on,
            checked_in_at=p.checked_in_at,
            needs_move=p.needs_move,
        )


class PlacementTestOut(Schema):
    id: int
    kind: str
    due_on: dt.date
    rule: str
    sampled_at: dt.datetime | None
    result: str

    @staticmethod
    def of(t: PlacementTest) -> PlacementTestOut:
        return PlacementTestOut(
            id=t.pk,
            kind=t.kind,
            due_on=t.due_on,
            rule=t.rule,
            sampled_at=t.sampled_at,
            result=t.result,
        )


class PlacementTransferOut(Schema):
    id: int
    placement_id: int
    kind: str
    status: str
    vehicle: str
    origin: str
    destination: str
    planned_at: dt.datetime | None
    departed_at: dt.datetime | None
    arrived_at: dt.datetime | None

    @staticmethod
    def of(t: Transfer) -> PlacementTransferOut:
        return PlacementTransferOut(
            id=t.pk,
            placement_id=t.placement_id,
            kind=t.kind,
            status=t.status,
            vehicle=t.vehicle,
            origin=t.origin,
            destination=t.destination,
            planned_at=t.planned_at,
            departed_at=t.departed_at,
            arrived_at=t.arrived_at,
        )


class PlacementDetailOut(PlacementOut):
    tests: list[PlacementTestOut]
    transfers: list[PlacementTransferOut]


def _detail(request: AuthedRequest, pk: int) -> PlacementDetailOut:
    p = selectors.placement_get(user=request.user, pk=pk)
    base = PlacementOut.of(p).model_dump()
    return PlacementDetailOut(
        **base,
        tests=[PlacementTestOut.of(t) for t in p.tests.all()],
        transfers=[PlacementTransferOut.of(t) for t in p.transfers.all()],
    )


class PlacementIn(Schema):
    person_id: RowId
    contact_id: RowId | None = None
    measure: str | None = Field(None, pattern=MEASURE_PATTERN)
    source: str | None = Field(None, pattern=SOURCE_PATTERN)
    site_id: RowId | None = None
    room_id: RowId | None = None
    needs_accessible: bool = False
    companion_of_id: RowId | None = None
    note: str = Field("", max_length=300)


class PlacementBulkIn(Schema):
    case_number: str = Field(..., min_length=1, max_length=32)
    site_ids: list[RowId] | None = Field(None, max_length=100)


class PlacementBulkOut(Schema):
    placed: int
    centralised: int
    at_home: int
    rooms_taken: int
    skipped_person_ids: list[int]
    needs_companion_person_ids: list[int]
    placement_ids: list[int]


class RoomAssignIn(Schema):
    room_id: RowId


class PlacementTransferIn(Schema):
    vehicle: str = Field("", max_length=32)
    planned_at: dt.datetime | None = None
    origin: str = Field("", max_length=300)


@router.get("/placements", summary="List placements the user may see", response=Page[PlacementOut])
def placement_list(
    request: AuthedRequest,
    paging: Query[PageQuery],
    status: str | None = Query(None, pattern=STATUS_PATTERN),
    measure: str | None = Query(None, pattern=MEASURE_PATTERN),
    site_id: int | None = Query(None, ge=1),
) -> Page[PlacementOut]:
    page = selectors.placements_page(
        user=request.user,
        status=status,
        measure=measure,
        site_id=site_id,
        cursor=paging.cursor,
        size=paging.size,
    )
    return Page[PlacementOut].of(page, PlacementOut.of)


@router.get(
    "/placements/{int:placement_id}",
    summary="Get a placement with its tests and transfers",
    response=PlacementDetailOut,
)
def placement_detail(request: AuthedRequest, placement_id: int) -> PlacementDetailOut:
    return _detail(request, placement_id)


@router.post("/placements", summary="Place a person", response={201: PlacementDetailOut})
def placement_create(request: AuthedRequest, payload: PlacementIn) -> Status[PlacementDetailOut]:
    user = request.user
    person = people_selectors.person_get(user=user, pk=payload.person_id)
    contact = None
    if payload.contact_id is not None:
        from fangkong.tracing.selectors import contacts as tracing_contacts

        contact = tracing_contacts.contact_get(user=user, pk=payload.contact_id)
    site = site_selectors.site_get(user=user, pk=payload.site_id) if payload.site_id else None
    room = None
    if payload.room_id is not None:
        room = site_selectors.room_of_site(user=user, site_id=payload.site_id, pk=payload.room_id)
        if room is None:
            raise NotFound("not_found", _("未找到或不在您的辖区内"), object="room")
    companion_of = (
        selectors.placement_for_manage(user=user, pk=payload.companion_of_id)
        if payload.companion_of_id
        else None
    )
    placement = services.placement_create(
        actor=user,
        person=person,
        contact=contact,
        measure=payload.measure,
        source=payload.source,
        site=site,
        room=room,
        note=payload.note,
        needs_accessible=payload.needs_accessible,
        companion_of=companion_of,
    )
    return Status(201, _detail(request, placement.pk))


@router.post(
    "/placements/bulk",
    summary="Place a case's unplaced close and secondary contacts in one action",
    response={201: PlacementBulkOut},
)
def placement_bulk(request: AuthedRequest, payload: PlacementBulkIn) -> Status[PlacementBulkOut]:
    user = request.user
    contacts = services.contacts_to_place(actor=user, case_number=payload.case_number.strip())
    visible = {r.site.pk for r in site_selectors.site_rows(user=user, active_only=True)}
    site_ids = [s for s in (payload.site_ids or []) if s in visible] or sorted(visible)
    result = services.placements_create_for_contacts(
        actor=user, contacts=contacts, site_ids=site_ids
    )
    return Status(
        201,
        PlacementBulkOut(
            placed=len(result.placements),
            centralised=result.centralised,
            at_home=result.at_home,
            rooms_taken=result.rooms_taken,
            skipped_person_ids=result.skipped_person_ids,
            needs_companion_person_ids=result.needs_companion_ids,
            placement_ids=[p.pk for p in result.placements],
        ),
    )


@router.post(
    "/placements/{int:placement_id}/room",
    summary="Assign a placement to a room (manual override)",
    response=PlacementDetailOut,
)
def placement_room(
    request: AuthedRequest, placement_id: int, payload: RoomAssignIn
) -> PlacementDetailOut:
    user = request.user
    placement = selectors.placement_for_manage(user=user, pk=placement_id)
    room = site_selectors.room_of_site(user=user, site_id=placement.site_id, pk=payload.room_id)
    if room is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="room")
    services.placement_room_assign(actor=user, placement=placement, room=room)
    return _detail(request, placement_id)


@router.get(
    "/transfers", summary="List transfers the user may see", response=Page[PlacementTransferOut]
)
def transfer_list(
    request: AuthedRequest,
    paging: Query[PageQuery],
    status: str | None = Query(None, pattern=TRANSFER_STATUS_PATTERN),
) -> Page[PlacementTransferOut]:
    page = selectors.transfers_page(
        user=request.user, status=status, cursor=paging.cursor, size=paging.size
    )
    return Page[PlacementTransferOut].of(page, PlacementTransferOut.of)


@router.post(
    "/placements/{int:placement_id}/transfers",
    summary="Arrange a transfer from home to the site",
    response={201: PlacementTransferOut},
)
def transfer_create(
    request: AuthedRequest, placement_id: int, payload: PlacementTransferIn
) -> Status[PlacementTransferOut]:
    user = request.user
    placement = selectors.placement_for_manage(user=user, pk=placement_id)
    transfer = services.transfer_create(
        actor=user,
        placement=placement,
        vehicle=payload.vehicle,
        planned_at=payload.planned_at,
        origin=payload.origin,
    )
    return Status(201, PlacementTransferOut.of(transfer))


@router.post(
    "/transfers/{int:transfer_id}/depart",
    summary="A transfer departs",
    response=PlacementTransferOut,
)
def transfer_depart(request: AuthedRequest, transfer_id: int) -> PlacementTransferOut:
    user = request.user
    transfer = selectors.transfer_for_manage(user=user, pk=transfer_id)
    return PlacementTransferOut.of(services.transfer_depart(actor=user, transfer=transfer))


@router.post(
    "/transfers/{int:transfer_id}/arrive",
    summary="A transfer arrives",
    response=PlacementTransferOut,
)
def transfer_arrive(request: AuthedRequest, transfer_id: int) -> PlacementTransferOut:
    user = request.user
    transfer = selectors.transfer_for_manage(user=user, pk=transfer_id)
    return PlacementTransferOut.of(services.transfer_arrive(actor=user, transfer=transfer))
