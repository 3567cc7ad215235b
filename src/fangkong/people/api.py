"""People API: persons and households. Masked by default; revealing is an audited POST.

Thin endpoints: selectors read (scoped), services write; errors are DomainErrors that
the project API turns into {code, message, detail}.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal

from ninja import Field, Query, Router, Schema, Status

from fangkong.accounts.permissions import has_capability
from fangkong.accounts.roles import Capability
from fangkong.accounts.types import AuthedRequest
from fangkong.core.apitypes import Page, PageQuery
from fangkong.core.http import client_address
from fangkong.people import rules, selectors, services
from fangkong.people.models import Household, Person

if TYPE_CHECKING:
    from fangkong.accounts.models import User

router = Router(tags=["people"])


# --- Schemas -------------------------------------------------------------------------


class PersonOut(Schema):
    """A person as the API shows it: name, ID number and phone masked; the birth year
    only to a role that may reveal (with the mask and the check digit it leaves about 33
    candidate ID numbers, so it is not for everyone who may search)."""

    id: int
    name_masked: str
    id_kind: str
    id_masked: str
    phone_masked: str
    sex: str
    birth_year: int | None
    jurisdiction_id: int
    jurisdiction_path: str
    jurisdiction_name: str
    household_id: int | None
    created_at: dt.datetime

    @staticmethod
    def from_person(person: Person, *, user: User) -> PersonOut:
        return PersonOut(
            id=person.pk,
            name_masked=rules.mask_name(person.name),
            id_kind=person.id_kind,
            id_masked=person.id_masked,
            phone_masked=person.phone_masked,
            sex=person.sex,
            birth_year=(
                person.birth_year if has_capability(user, Capability.PERSON_REVEAL) else None
            ),
            jurisdiction_id=person.jurisdiction_id,
            jurisdiction_path=person.jurisdiction_path,
            jurisdiction_name=person.jurisdiction.name,
            household_id=person.household_id,
            created_at=person.created_at,
        )


class PersonIn(Schema):
    name: str = Field(..., min_length=1, max_length=64)
    id_kind: Literal["ric", "passport", "other", "none"]
    id_number: str = Field("", max_length=40)
    phone: str = Field("", max_length=20)
    jurisdiction_id: int
    household_id: int | None = None
    workplace_id: int | None = None


class LookupIn(Schema):
    """A full ID number, passport or other document number, or mobile number."""

    number: str = Field(..., min_length=1, max_length=100)


class LookupOut(Schema):
    items: list[PersonOut]


class RevealIn(Schema):
    field: Literal["id_number", "phone"]


class RevealOut(Schema):
    field: str
    value: str


class HouseholdOut(Schema):
    id: int
    address: str
    community_id: int
    community_name: str
    jurisdiction_path: str

    @staticmethod
    def from_household(household: Household) -> HouseholdOut:
        return HouseholdOut(
            id=household.pk,
            address=household.address,
            community_id=household.community_id,
            community_name=household.community.name,
            jurisdiction_path=household.jurisdiction_path,
        )


class HouseholdDetailOut(HouseholdOut):
    members: list[PersonOut]


class HouseholdIn(Schema):
    address: str = Field(..., min_length=1, max_length=300)
    community_id: int


class MemberIn(Schema):
    person_id: int


# --- Persons -------------------------------------------------------------------------


@router.get("/persons", summary="Search persons", response=Page[PersonOut])
def person_list(
    request: AuthedRequest, paging: Query[PageQuery], q: str = Query("", max_length=100)
) -> Page[PersonOut]:
    page = selectors.person_search(user=request.user, q=q, cursor=paging.cursor, size=paging.size)
    return Page[PersonOut].of(page, lambda p: PersonOut.from_person(p, user=request.user))


@router.post(
    "/persons/lookup", summary="Look up a person by a full ID number or phone", response=LookupOut
)
def person_lookup(request: AuthedRequest, payload: LookupIn) -> LookupOut:
    """Exact lookup by a full number, in the body (never a URL): audited (`person.lookup`,
    the keyed hash of the number), budgeted per role (429 `lookup_budget_exhausted`,
    `lookup_suspended` after a burst of misses). A GET search by a full number answers
    400 `lookup_needs_post`."""
    persons = services.person_lookup(
        actor=request.user, query=payload.number, ip=client_address(request)
    )
    return LookupOut(items=[PersonOut.from_person(p, user=request.user) for p in persons])


@router.get("/persons/{int:person_id}", summary="Get a person (masked)", response=PersonOut)
def person_detail(request: AuthedRequest, person_id: int) -> PersonOut:
    return PersonOut.from_person(
        selectors.person_get(user=request.user, pk=person_id), user=request.user
    )


@router.post(
    "/persons",
    summary="Create a person, or get the one with the same ID number",
    response={200: PersonOut, 201: PersonOut},
)
def person_create(request: AuthedRequest, payload: PersonIn) -> Status[PersonOut]:
    """Create-or-get by ID number: 201 when created, 200 with the existing person."""
    user = request.user
    jurisdiction = selectors.jurisdiction_for_person(user=user, pk=payload.jurisdiction_id)
    household = (
        selectors.household_for_write(user=user, pk=payload.household_id)
        if payload.household_id is not None
        else None
    )
    workplace = (
        selectors.place_for_person(user=user, pk=payload.workplace_id)
        if payload.workplace_id is not None
        else None
    )
    person, created = services.person_get_or_create(
        actor=user,
        name=payload.name,
        id_kind=payload.id_kind,
        id_number=payload.id_number,
        phone=payload.phone,
        jurisdiction=jurisdiction,
        household=household,
        workplace=workplace,
        ip=client_address(request),
    )
    return Status(201 if created else 200, PersonOut.from_person(person, user=user))


@router.post(
    "/persons/{int:person_id}/reveal",
    summary="Reveal a person's ID number or phone (audited)",
    response=RevealOut,
)
def person_reveal(request: AuthedRequest, person_id: int, payload: RevealIn) -> RevealOut:
    person = selectors.person_get(user=request.user, pk=person_id)
    value = services.person_reveal(
        actor=request.user, person=person, field=payload.field, ip=client_address(request)
    )
    return RevealOut(field=payload.field, value=value)


# --- Households ----------------------------------------------------------------------


@router.get("/households", summary="List households", response=Page[HouseholdOut])
def household_list(request: AuthedRequest, paging: Query[PageQuery]) -> Page[HouseholdOut]:
    page = selectors.household_search(user=request.user, cursor=paging.cursor, size=paging.size)
    return Page[HouseholdOut].of(page, HouseholdOut.from_household)


@router.post("/households", summary="Create a household", response={201: HouseholdOut})
def household_create(request: AuthedRequest, payload: HouseholdIn) -> Status[HouseholdOut]:
    community = selectors.jurisdiction_for_person(user=request.user, pk=payload.community_id)
    household = services.household_create(
        actor=request.user,
        address=payload.address,
        community=community,
        ip=client_address(request),
    )
    return Status(201, HouseholdOut.from_household(household))


@router.get(
    "/households/{int:household_id}",
    summary="Get a household with its members",
    response=HouseholdDetailOut,
)
def household_detail(request: AuthedRequest, household_id: int) -> HouseholdDetailOut:
    household = selectors.household_get(user=request.user, pk=household_id)
    members = selectors.household_members(user=request.user, household=household)
    base = HouseholdOut.from_household(household)
    return HouseholdDetailOut(
        **base.model_dump(), members=[PersonOut.from_person(p, user=request.user) for p in members]
    )


@router.post(
    "/households/{int:household_id}/members",
    summary="Add a person to a household",
    response=PersonOut,
)
def household_add_member(request: AuthedRequest, household_id: int, payload: MemberIn) -> PersonOut:
    household = selectors.household_get(user=request.user, pk=household_id)
    person = selectors.person_get(user=request.user, pk=payload.person_id)
    person = services.household_add_member(
        actor=request.user, household=household, person=person, ip=client_address(request)
    )
    return PersonOut.from_person(person, user=request.user)
