"""Tracing API: cases, their lifecycle and itinerary.

Thin endpoints: selectors read (scoped: a case outside the user's jurisdiction is a
404), services write; a DomainError becomes {code, message, detail} with its status.
Person names are masked.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from fangkong.accounts.types import AuthedRequest
from fangkong.areas import selectors as area_selectors
from fangkong.core.apitypes import Page, PageQuery
from fangkong.core.http import client_address
from fangkong.people import rules as people_rules
from fangkong.people import selectors as people_selectors
from fangkong.tracing.models import Case, Investigation, ItineraryStop
from fangkong.tracing.rules import cases as rules
from fangkong.tracing.selectors import cases as selectors
from fangkong.tracing.services import cases as services
from fangkong.tracing.services import itinerary as itinerary_services

if TYPE_CHECKING:
    from fangkong.areas.models import Place

router = Router()

CaseKindName = Literal["confirmed", "asymptomatic"]
CaseOriginName = Literal["local", "imported", "domestic_imported"]
CaseStatusName = Literal["reported", "investigating", "investigated", "closed"]


# --- Schemas -------------------------------------------------------------------------


class CaseOut(Schema):
    """A case with its rule set, look-back start and deadlines; the person masked."""

    id: int
    number: str
    person_id: int
    person_name_masked: str
    jurisdiction_path: str
    kind: str
    origin: str
    status: str
    onset_date: dt.date | None
    first_positive_sampled_on: dt.date
    reported_at: dt.datetime
    reporting_unit: str
    ruleset_version: str
    lookback_start: dt.date
    core_facts_due_at: dt.datetime
    report_due_at: dt.datetime
    core_facts_done_at: dt.datetime | None
    report_done_at: dt.datetime | None
    escalated_at: dt.datetime | None
    overdue: bool
    source_unknown: bool
    from_contact_id: int | None

    @staticmethod
    def from_case(case: Case, now: dt.datetime | None = None) -> CaseOut:
        return CaseOut(
            id=case.pk,
            number=case.number,
            person_id=case.person_id,
            person_name_masked=people_rules.mask_name(case.person.name),
            jurisdiction_path=case.jurisdiction_path,
            kind=case.kind,
            origin=case.origin,
            status=case.status,
            onset_date=case.onset_date,
            first_positive_sampled_on=case.first_positive_sampled_on,
            reported_at=case.reported_at,
            reporting_unit=case.reporting_unit,
            ruleset_version=case.ruleset.version,
            lookback_start=case.lookback_start,
            core_facts_due_at=case.core_facts_due_at,
            report_due_at=case.report_due_at,
            core_facts_done_at=case.core_facts_done_at,
            report_done_at=case.report_done_at,
            escalated_at=case.escalated_at,
            overdue=rules.case_is_overdue(
                status=case.status,
                now=now or timezone.now(),
                core_facts_due_at=case.core_facts_due_at,
                core_facts_done_at=case.core_facts_done_at,
                report_due_at=case.report_due_at,
                report_done_at=case.report_done_at,
            ),
            source_unknown=case.source_unknown,
            from_contact_id=case.from_contact_id,
        )


class StopOut(Schema):
    id: int
    place_id: int | None
    place_name: str
    address: str
    start: dt.datetime
    end: dt.datetime
    companions: str
    note: str
    source: str
    confirmed: bool

    @staticmethod
    def from_stop(stop: ItineraryStop) -> StopOut:
        return StopOut(
            id=stop.pk,
            place_id=stop.place_id,
            place_name=stop.place.name if stop.place else "",
            address=stop.address,
            start=stop.start,
            end=stop.end,
            companions=stop.companions,
            note=stop.note,
            source=stop.source,
            confirmed=stop.confirmed,
        )


class InvestigationOut(Schema):
    investigator: str
    started_at: dt.datetime
    itinerary_confirmed_at: dt.datetime | None
    completed_at: dt.datetime | None
    symptoms: str
    vaccination: str
    interview_notes: str

    @staticmethod
    def from_investigation(investigation: Investigation) -> InvestigationOut:
        return InvestigationOut(
            investigator=str(investigation.investigator or ""),
            started_at=investigation.started_at,
            itinerary_confirmed_at=investigation.itinerary_confirmed_at,
            completed_at=investigation.completed_at,
            symptoms=investigation.symptoms,
            vaccination=investigation.vaccination,
            interview_notes=investigation.interview_notes,
        )


class TimelineOut(Schema):
    at: dt.datetime
    kind: str
    label: str


class CaseDetailOut(CaseOut):
    investigation: InvestigationOut | None
    stops: list[StopOut]
    timeline: list[TimelineOut]


class CaseIn(Schema):
    person_id: int
    kind: CaseKindName
    first_positive_sampled_on: dt.date
    onset_date: dt.date | None = None
    origin: CaseOriginName = "local"
    reported_at: dt.datetime | None = Field(None, description="默认为当前时间；须带时区")
    reporting_unit: str = Field("", max_length=200)


class CoreFactsIn(Schema):
    symptoms: str = Field("", max_length=2000)
    vaccination: str = Field("", max_length=200)
    interview_notes: str = Field("", max_length=20000)


class ReportIn(CoreFactsIn):
    pass


class CaseCloseIn(Schema):
    reason: str = Field(..., max_length=500)


class StopIn(Schema):
    place_id: int | None = None
    address: str = Field("", max_length=300)
    start: dt.datetime
    end: dt.datetime
    companions: str = Field("", max_length=2000)
    note: str = Field("", max_length=300)


class ItineraryOut(Schema):
    itinerary_confirmed_at: dt.datetime | None
    proposed: int
    stops: list[StopOut]


# --- helpers -------------------------------------------------------------------------


def _detail(case: Case) -> CaseDetailOut:
    investigation = selectors.case_investigation(case)
    base = CaseOut.from_case(case)
    return CaseDetailOut(
        **base.model_dump(),
        investigation=(
            InvestigationOut.from_investigation(investigation) if investigation else None
        ),
        stops=[StopOut.from_stop(s) for s in selectors.case_stops(case)],
        timeline=[
            TimelineOut(at=e.at, kind=e.kind, label=str(e.label))
            for e in selectors.case_timeline(case)
        ],
    )


def _itinerary(case: Case, proposed: int = 0) -> ItineraryOut:
    investigation = selectors.case_investigation(case)
    return ItineraryOut(
        itinerary_confirmed_at=investigation.itinerary_confirmed_at if investigation else None,
        proposed=proposed,
        stops=[StopOut.from_stop(s) for s in selectors.case_stops(case)],
    )


def _reload(request: AuthedRequest, case: Case) -> Case:
    return selectors.case_get(user=request.user, pk=case.pk)


def _place(request: AuthedRequest, place_id: int | None) -> Place | None:
    if place_id is None:
        return None
    return area_selectors.places_resolve(user=request.user, pks=[place_id])[0]


# --- Cases ---------------------------------------------------------------------------


@router.get("/cases", summary="List cases", response=Page[CaseOut])
def case_list(
    request: AuthedRequest,
    paging: Query[PageQuery],
    status: CaseStatusName | None = None,
    town_id: int | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    overdue: bool | None = None,
) -> Page[CaseOut]:
    """The cases the user may see, newest first (keyset pages)."""
    town = area_selectors.jurisdiction_resolve(user=request.user, pk=town_id)
    page = selectors.cases(
        user=request.user,
        status=status,
        town=town,
        since=since,
        until=until,
        overdue=overdue,
        cursor=paging.cursor,
        size=paging.size,
    )
    now = timezone.now()
    return Page[CaseOut].of(page, lambda c: CaseOut.from_case(c, now))


@router.get("/cases/overdue", summary="List overdue cases", response=Page[CaseOut])
def case_overdue_list(request: AuthedRequest, paging: Query[PageQuery]) -> Page[CaseOut]:
    """Open cases past a deadline not met, the most urgent first (for command)."""
    now = timezone.now()
    page = selectors.cases_overdue_page(
        user=request.user, now=now, cursor=paging.cursor, size=paging.size
    )
    return Page[CaseOut].of(page, lambda c: CaseOut.from_case(c, now))


@router.post("/cases", summary="Report a case", response={201: CaseDetailOut})
def case_create(request: AuthedRequest, payload: CaseIn) -> Status[CaseDetailOut]:
    person = people_selectors.person_get(user=request.user, pk=payload.person_id)
    case = services.case_create(
        actor=request.user,
        person=person,
        kind=payload.kind,
        first_positive_sampled_on=payload.first_positive_sampled_on,
        onset_date=payload.onset_date,
        origin=payload.origin,
        reported_at=payload.reported_at,
        reporting_unit=payload.reporting_unit,
        ip=client_address(request),
    )
    return Status(201, _detail(_reload(request, case)))


@router.get(
    "/cases/{int:case_id}",
    summary="Get a case with its investigation, itinerary and timeline",
    response=CaseDetailOut,
)
def case_detail(request: AuthedRequest, case_id: int) -> CaseDetailOut:
    return _detail(selectors.case_get(user=request.user, pk=case_id))


@router.post(
    "/cases/{int:case_id}/start-investigation",
    summary="Start a case's investigation",
    response=CaseDetailOut,
)
def case_start_investigation(request: AuthedRequest, case_id: int) -> CaseDetailOut:
    case = selectors.case_get(user=request.user, pk=case_id)
    services.case_start_investigation(actor=request.user, case=case, ip=client_address(request))
    return _detail(_reload(request, case))


@router.post(
    "/cases/{int:case_id}/core-facts", summary="Record a case's core facts", response=CaseDetailOut
)
def case_core_facts(request: AuthedRequest, case_id: int, payload: CoreFactsIn) -> CaseDetailOut:
    case = selectors.case_get(user=request.user, pk=case_id)
    services.case_record_core_facts(
        actor=request.user, case=case, ip=client_address(request), **payload.model_dump()
    )
    return _detail(_reload(request, case))


@router.post(
    "/cases/{int:case_id}/complete-report",
    summary="Complete a case's investigation report",
    response=CaseDetailOut,
)
def case_complete_report(request: AuthedRequest, case_id: int, payload: ReportIn) -> CaseDetailOut:
    case = selectors.case_get(user=request.user, pk=case_id)
    services.case_complete_report(
        actor=request.user, case=case, ip=client_address(request), **payload.model_dump()
    )
    return _detail(_reload(request, case))


@router.post("/cases/{int:case_id}/close", summary="Close a case", response=CaseDetailOut)
def case_close(request: AuthedRequest, case_id: int, payload: CaseCloseIn) -> CaseDetailOut:
    case = selectors.case_get(user=request.user, pk=case_id)
    services.case_close(
        actor=request.user, case=case, reason=payload.reason, ip=client_address(request)
    )
    return _detail(_reload(request, case))


# --- Itinerary -------------------------------------------------------------------------


@router.get("/cases/{int:case_id}/stops", summary="Get a case's itinerary", response=ItineraryOut)
def case_stop_list(request: AuthedRequest, case_id: int) -> ItineraryOut:
    return _itinerary(selectors.case_get(user=request.user, pk=case_id))


@router.post(
    "/cases/{int:case_id}/stops",
    summary="Add a stop to a case's itinerary",
    response={201: StopOut},
)
def case_stop_add(request: AuthedRequest, case_id: int, payload: StopIn) -> Status[StopOut]:
    case = selectors.case_get(user=request.user, pk=case_id)
    stop = itinerary_services.itinerary_stop_add(
        actor=request.user,
        case=case,
        place=_place(request, payload.place_id),
        address=payload.address,
        start=payload.start,
        end=payload.end,
        companions=payload.companions,
        note=payload.note,
        ip=client_address(request),
    )
    return Status(201, StopOut.from_stop(stop))


@router.put(
    "/cases/{int:case_id}/stops/{int:stop_id}",
    summary="Update a stop of a case's itinerary",
    response=StopOut,
)
def case_stop_update(
    request: AuthedRequest, case_id: int, stop_id: int, payload: StopIn
) -> StopOut:
    case = selectors.case_get(user=request.user, pk=case_id)
    stop = selectors.case_stop_get(case=case, pk=stop_id)
    stop = itinerary_services.itinerary_stop_update(
        actor=request.user,
        stop=stop,
        place=_place(request, payload.place_id),
        address=payload.address,
        start=payload.start,
        end=payload.end,
        companions=payload.companions,
        note=payload.note,
        ip=client_address(request),
    )
    return StopOut.from_stop(stop)


@router.delete(
    "/cases/{int:case_id}/stops/{int:stop_id}",
    summary="Delete a stop of a case's itinerary",
    response={204: None},
)
def case_stop_delete(request: AuthedRequest, case_id: int, stop_id: int) -> Status[None]:
    case = selectors.case_get(user=request.user, pk=case_id)
    stop = selectors.case_stop_get(case=case, pk=stop_id)
    itinerary_services.itinerary_stop_delete(
        actor=request.user, stop=stop, ip=client_address(request)
    )
    return Status(204, None)


@router.post(
    "/cases/{int:case_id}/propose-itinerary",
    summary="Propose a case's itinerary from venue scans",
    response=ItineraryOut,
)
def case_propose_itinerary(request: AuthedRequest, case_id: int) -> ItineraryOut:
    """Replace the unconfirmed scan-sourced stops with stops built from the person's scans."""
    case = selectors.case_get(user=request.user, pk=case_id)
    created = itinerary_services.itinerary_propose_from_scans(
        actor=request.user, case=case, ip=client_address(request)
    )
    return _itinerary(case, proposed=len(created))


@router.post(
    "/cases/{int:case_id}/confirm-itinerary",
    summary="Confirm a case's itinerary",
    response=ItineraryOut,
)
def case_confirm_itinerary(request: AuthedRequest, case_id: int) -> ItineraryOut:
    case = selectors.case_get(user=request.user, pk=case_id)
    itinerary_services.itinerary_confirm(actor=request.user, case=case, ip=client_address(request))
    return _itinerary(case)
