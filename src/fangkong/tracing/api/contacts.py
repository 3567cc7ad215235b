"""Tracing API: contacts. Masked by default; thin endpoints over selectors and services."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Query, Router, Schema, Status

from fangkong.accounts.types import AuthedRequest
from fangkong.core.apitypes import Page, PageQuery
from fangkong.core.http import client_address
from fangkong.people import selectors as people_selectors
from fangkong.people.rules import mask_name
from fangkong.tracing.models import Contact, Exposure
from fangkong.tracing.selectors import contacts as selectors
from fangkong.tracing.services import contacts as services

router = Router()


class ExposureOut(Schema):
    id: int
    source_case_id: int | None
    source_case_number: str | None
    source_contact_id: int | None
    kind: str
    classification: str
    place_id: int | None
    start: dt.datetime | None
    end: dt.datetime | None
    exposed_on: dt.date
    overlap_minutes: int
    evidence: dict
    # The evidence in words (places by name, local times), as the pages show it.
    basis: list[str] = []

    @staticmethod
    def from_exposure(e: Exposure) -> ExposureOut:
        return ExposureOut(
            id=e.pk,
            source_case_id=e.source_case_id,
            source_case_number=e.source_case.number if e.source_case_id else None,  # type: ignore[union-attr]
            source_contact_id=e.source_contact_id,
            kind=e.kind,
            classification=e.classification,
            place_id=e.place_id,
            start=e.start,
            end=e.end,
            exposed_on=e.exposed_on,
            overlap_minutes=e.overlap_minutes,
            evidence=e.evidence,
            basis=getattr(e, "basis", []),
        )


class ContactOut(Schema):
    """A contact as the API shows it: the person's name, ID and phone masked."""

    id: int
    person_id: int
    name_masked: str
    id_masked: str
    phone_masked: str
    jurisdiction_path: str
    classification: str
    status: str
    first_exposure_on: dt.date
    last_exposure_on: dt.date
    ruleset_version: str
    quarantine_end_on: dt.date | None
    monitoring_end_on: dt.date | None
    test_dates: list[dict]
    controlled_at: dt.datetime | None
    # The last change of class (an upgrade, or an investigator's promotion or demotion)
    # and why; `reclassified`: an investigator decided it.
    upgraded_at: dt.datetime | None
    upgrade_reason: str
    reclassified: bool = False

    @staticmethod
    def from_contact(c: Contact) -> ContactOut:
        return ContactOut(
            id=c.pk,
            person_id=c.person_id,
            name_masked=mask_name(c.person.name),
            id_masked=c.person.id_masked,
            phone_masked=c.person.phone_masked,
            jurisdiction_path=c.jurisdiction_path,
            classification=c.classification,
            status=c.status,
            first_exposure_on=c.first_exposure_on,
            last_exposure_on=c.last_exposure_on,
            ruleset_version=c.ruleset.version,
            quarantine_end_on=c.quarantine_end_on,
            monitoring_end_on=c.monitoring_end_on,
            test_dates=list(c.test_dates),
            controlled_at=c.controlled_at,
            upgraded_at=c.upgraded_at,
            upgrade_reason=c.upgrade_reason,
            reclassified=c.reclassified,
        )


class ContactDetailOut(ContactOut):
    exposures: list[ExposureOut]


class FindIn(Schema):
    tolerance_minutes: int | None = Field(None, ge=0, le=1440)


class FindOut(Schema):
    case_id: int
    stops: int
    found: int
    created: int
    updated: int
    exposures_created: int
    by_class: dict[str, int]


class SecondaryOut(Schema):
    close_contacts: int
    found: int
    created: int
    updated: int
    exposures_created: int
    by_class: dict[str, int]


class ManualContactIn(Schema):
    name: str = Field(..., min_length=1, max_length=64)
    id_kind: Literal["ric", "passport", "other", "none"] = "ric"
    id_number: str = Field("", max_length=40)
    phone: str = Field("", max_length=20)
    jurisdiction_id: int
    # None: by the case's rule set (a kind it lists as always close makes a close
    # contact; a plain manual addition is close).
    classification: Literal["close", "general", "co_presence"] | None = None
    kind: Literal["manual", "vehicle", "household", "workplace", "companion"] = "manual"
    exposed_on: dt.date
    note: str = Field("", max_length=300)


class ReclassifyIn(Schema):
    classification: str = Field(..., max_length=16)
    reason: str = Field("", max_length=600)


def _detail(contact: Contact) -> ContactDetailOut:
    base = ContactOut.from_contact(contact)
    return ContactDetailOut(
        **base.model_dump(),
        exposures=[ExposureOut.from_exposure(e) for e in contact.exposures.all()],
    )


@router.post(
    "/cases/{int:case_id}/find-contacts",
    summary="Find a case's contacts from its itinerary and venue scans",
    response=FindOut,
)
def case_find_contacts(request: AuthedRequest, case_id: int, payload: FindIn) -> FindOut:
    case = selectors.case_for_contact_management(user=request.user, pk=case_id)
    result = services.contacts_find_for_case(
        actor=request.user,
        case=case,
        tolerance_minutes=payload.tolerance_minutes,
        ip=client_address(request),
    )
    return FindOut(
        case_id=result.case_id,
        stops=result.stops,
        found=result.found,
        created=result.created,
        updated=result.updated,
        exposures_created=result.exposures_created,
        by_class={str(k): v for k, v in result.by_class.items()},
    )


@router.get(
    "/cases/{int:case_id}/contacts",
    summary="List a case's contacts",
    response=Page[ContactDetailOut],
)
def case_contacts(
    request: AuthedRequest,
    case_id: int,
    paging: Query[PageQuery],
    classification: str | None = Query(None, max_length=16),
) -> Page[ContactDetailOut]:
    """The case's contacts, the strongest class first, then the latest exposure first."""
    case = selectors.case_for_contacts(user=request.user, pk=case_id)
    page = selectors.contacts_of_case_page(
        user=request.user,
        case=case,
        classification=classification,
        cursor=paging.cursor,
        size=paging.size,
    )
    return Page[ContactDetailOut].of(page, _detail)


@router.post(
    "/cases/{int:case_id}/contacts",
    summary="Add a contact to a case by hand",
    response={201: ContactDetailOut},
)
def case_add_contact(
    request: AuthedRequest, case_id: int, payload: ManualContactIn
) -> Status[ContactDetailOut]:
    case = selectors.case_for_contact_management(user=request.user, pk=case_id)
    jurisdiction = people_selectors.jurisdiction_for_person(
        user=request.user, pk=payload.jurisdiction_id
    )
    contact = services.contact_add_manual(
        actor=request.user,
        case=case,
        name=payload.name,
        id_kind=payload.id_kind,
        id_number=payload.id_number,
        phone=payload.phone,
        jurisdiction=jurisdiction,
        classification=payload.classification,
        kind=payload.kind,
        exposed_on=payload.exposed_on,
        note=payload.note,
        ip=client_address(request),
    )
    return Status(201, _detail(selectors.contact_get(user=request.user, pk=contact.pk)))


@router.get("/contacts", summary="List contacts", response=Page[ContactOut])
def contact_list(
    request: AuthedRequest,
    paging: Query[PageQuery],
    classification: str | None = Query(None, max_length=16),
    status: str | None = Query(None, max_length=16),
) -> Page[ContactOut]:
    page = selectors.contacts(
        user=request.user,
        classification=classification,
        status=status,
        cursor=paging.cursor,
        size=paging.size,
    )
    return Page[ContactOut].of(page, ContactOut.from_contact)


@router.get(
    "/contacts/{int:contact_id}",
    summary="Get a contact with its exposures",
    response=ContactDetailOut,
)
def contact_detail(request: AuthedRequest, contact_id: int) -> ContactDetailOut:
    return _detail(selectors.contact_get(user=request.user, pk=contact_id))


@router.post(
    "/contacts/{int:contact_id}/find-secondary",
    summary="Find a close contact's secondary contacts",
    response=SecondaryOut,
)
def contact_find_secondary(request: AuthedRequest, contact_id: int) -> SecondaryOut:
    contact = selectors.contact_get(user=request.user, pk=contact_id)
    result = services.secondary_contacts_find(
        actor=request.user, contact=contact, ip=client_address(request)
    )
    return SecondaryOut(
        close_contacts=result.close_contacts,
        found=result.found,
        created=result.created,
        updated=result.updated,
        exposures_created=result.exposures_created,
        by_class={str(k): v for k, v in result.by_class.items()},
    )


@router.post(
    "/contacts/{int:contact_id}/reclassify",
    summary="Promote or demote a contact, with a reason",
    response=ContactDetailOut,
)
def contact_reclassify(
    request: AuthedRequest, contact_id: int, payload: ReclassifyIn
) -> ContactDetailOut:
    """close ↔ secondary ↔ co_presence ↔ general; the dates are recounted from the rule
    set. Codes: reason_required, invalid_classification (400), classification_unchanged,
    contact_became_case (409)."""
    contact = selectors.contact_get(user=request.user, pk=contact_id)
    services.contact_reclassify(
        actor=request.user,
        contact=contact,
        classification=payload.classification,
        reason=payload.reason,
        ip=client_address(request),
    )
    return _detail(selectors.contact_get(user=request.user, pk=contact_id))
