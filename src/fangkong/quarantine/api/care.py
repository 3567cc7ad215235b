"""API of the care of placed persons: the site's day (arrivals, checks, tests and
releases due), check-in, health checks, site samples and their dispatch to a lab,
release and its certificate, alerts, and the community's home list with check-ins.

Thin endpoints over `selectors.care` and `services.care`; the same scoping as the pages
(site staff: their site; command: its jurisdiction; a community: its own residents).
Persons are masked."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from ninja import Field, Query, Router, Schema, Status

from fangkong.accounts.types import AuthedRequest
from fangkong.core.apitypes import Page, PageQuery
from fangkong.core.http import client_address
from fangkong.core.pagination import sequence_page
from fangkong.quarantine.selectors import care as selectors
from fangkong.quarantine.services import care as services

router = Router()


class ArrivalOut(Schema):
    placement_id: int
    name: str
    room: str
    status: str
    transfer_status: str


class CheckDueOut(Schema):
    placement_id: int
    name: str
    room: str
    done: list[str]
    due_now: bool
    missing: list[str]


class TestDueOut(Schema):
    test_id: int
    placement_id: int
    name: str
    kind: str
    due_on: dt.date


class ReleaseDueOut(Schema):
    placement_id: int
    name: str
    quarantine_end_on: dt.date | None
    allowed: bool
    reason_code: str
    reason: str


class CarePlacementOut(Schema):
    id: int
    status: str
    measure: str
    checked_in_at: dt.datetime | None
    closed_at: dt.datetime | None
    certificate_number: str
    quarantine_end_on: dt.date | None
    monitoring_end_on: dt.date | None


class HealthCheckIn(Schema):
    slot: Literal["am", "pm"]
    temperature: Decimal = Field(..., max_digits=4, decimal_places=1)
    symptoms: list[str] = Field(default_factory=list, max_length=20)
    note: str = Field("", max_length=300)


class HealthCheckOut(Schema):
    id: int
    placement_id: int
    on_date: dt.date
    slot: str
    temperature: Decimal
    symptoms: list[str]
    alert_raised: bool


class SampleIn(Schema):
    barcode: str = Field(..., max_length=64)


class StayTestOut(Schema):
    id: int
    placement_id: int
    kind: str
    due_on: dt.date
    tube: str
    sampled_at: dt.datetime | None
    result: str
    resulted_at: dt.datetime | None


class DispatchIn(Schema):
    lab_id: int = Field(..., ge=1, le=2**31 - 1)
    box_barcode: str = Field(..., max_length=64)


class DispatchOut(Schema):
    box: str
    tubes: int


class AlertOut(Schema):
    id: int
    placement_id: int
    name: str
    kind: str
    state: str
    raised_at: dt.datetime
    handled_at: dt.datetime | None
    outcome: str


class AlertHandleIn(Schema):
    outcome: str = Field(..., max_length=300)


class AlertFilter(PageQuery):
    state: Literal["open", "handled"] | None = None


class HomeOut(Schema):
    placement_id: int
    name: str
    measure: str
    end_on: dt.date | None
    checked_today: bool
    missed_days: int
    due_today: bool


class HomeFilter(PageQuery):
    missed: bool = False


class HomeCheckInIn(Schema):
    temperature: Decimal | None = Field(None, max_digits=4, decimal_places=1)
    symptoms: list[str] = Field(default_factory=list, max_length=20)
    note: str = Field("", max_length=300)


class HomeCheckInOut(Schema):
    id: int
    placement_id: int
    on_date: dt.date


class CertificateOut(Schema):
    placement_id: int
    certificate_number: str
    name: str
    id_number: str
    site: str
    start_on: dt.date
    quarantine_end_on: dt.date | None
    monitoring_end_on: dt.date | None
    closed_at: dt.datetime | None
    ruleset: str
    tests: list[StayTestOut]


def _placement_out(p) -> CarePlacementOut:
    return CarePlacementOut(
        id=p.pk,
        status=p.status,
        measure=p.measure,
        checked_in_at=p.checked_in_at,
        closed_at=p.closed_at,
        certificate_number=p.certificate_number,
        quarantine_end_on=p.quarantine_end_on,
        monitoring_end_on=p.monitoring_end_on,
    )


def _test_out(t) -> StayTestOut:
    return StayTestOut(
        id=t.pk,
        placement_id=t.placement_id,
        kind=t.kind,
        due_on=t.due_on,
        tube=t.tube.barcode if t.tube_id else "",
        sampled_at=t.sampled_at,
        result=t.result,
        resulted_at=t.resulted_at,
    )


# --- the site's day ------------------------------------------------------------------------


@router.get(
    "/site/arrivals", summary="List arrivals due at the user's site", response=Page[ArrivalOut]
)
def site_arrivals(request: AuthedRequest, paging: Query[PageQuery]) -> Page[ArrivalOut]:
    day = selectors.site_day(user=request.user)
    rows = [
        ArrivalOut(
            placement_id=p.pk,
            name=name,
            room=str(p.room or ""),
            status=p.status,
            transfer_status=t.status if t else "",
        )
        for p, name, t in day.arrivals
    ]
    page = sequence_page(
        rows, key=lambda r: (r.placement_id,), cursor=paging.cursor, size=paging.size
    )
    return Page[ArrivalOut].of(page, lambda r: r)


@router.get(
    "/site/checks",
    summary="List today's health checks due and missing at the user's site",
    response=Page[CheckDueOut],
)
def site_checks(request: AuthedRequest, paging: Query[PageQuery]) -> Page[CheckDueOut]:
    day = selectors.site_day(user=request.user)
    rows = [
        CheckDueOut(
            placement_id=r.placement.pk,
            name=r.name,
            room=str(r.placement.room or ""),
            done=sorted(r.done),
            due_now=r.due_now,
            missing=list(r.missing),
        )
        for r in day.checks
    ]
    page = sequence_page(
        rows, key=lambda r: (r.placement_id,), cursor=paging.cursor, size=paging.size
    )
    return Page[CheckDueOut].of(page, lambda r: r)


@router.get("/site/tests", summary="List tests due at the user's site", response=Page[TestDueOut])
def site_tests(request: AuthedRequest, paging: Query[PageQuery]) -> Page[TestDueOut]:
    day = selectors.site_day(user=request.user)
    rows = [
        TestDueOut(
            test_id=t.pk, placement_id=t.placement_id, name=name, kind=t.kind, due_on=t.due_on
        )
        for t, name, _late in day.tests
    ]
    page = sequence_page(rows, key=lambda r: (r.test_id,), cursor=paging.cursor, size=paging.size)
    return Page[TestDueOut].of(page, lambda r: r)


@router.get(
    "/site/releases", summary="List releases due at the user's site", response=Page[ReleaseDueOut]
)
def site_releases(request: AuthedRequest, paging: Query[PageQuery]) -> Page[ReleaseDueOut]:
    day = selectors.site_day(user=request.user)
    rows = [
        ReleaseDueOut(
            placement_id=r.placement.pk,
            name=r.name,
            quarantine_end_on=r.placement.quarantine_end_on,
            allowed=r.ok,
            reason_code="" if r.ok else r.code,
            reason=r.reason,
        )
        for r in day.releases
    ]
    page = sequence_page(
        rows, key=lambda r: (r.placement_id,), cursor=paging.cursor, size=paging.size
    )
    return Page[ReleaseDueOut].of(page, lambda r: r)


# --- actions at the site ---------------------------------------------------------------------


@router.post(
    "/placements/{int:placement_id}/check-in",
    summary="Check a placed person in at the site",
    response=CarePlacementOut,
)
def check_in(request: AuthedRequest, placement_id: int) -> CarePlacementOut:
    placement = selectors.placement_for_care(user=request.user, pk=placement_id)
    done = services.placement_check_in(
        actor=request.user, placement=placement, ip=client_address(request)
    )
    return _placement_out(done)


@router.post(
    "/placements/{int:placement_id}/health-checks",
    summary="Record a health check",
    response={201: HealthCheckOut},
)
def health_check(
    request: AuthedRequest, placement_id: int, payload: HealthCheckIn
) -> Status[HealthCheckOut]:
    placement = selectors.placement_for_care(user=request.user, pk=placement_id)
    check = services.health_check_record(
        actor=request.user,
        placement=placement,
        slot=payload.slot,
        temperature=payload.temperature,
        symptoms=payload.symptoms,
        note=payload.note,
        ip=client_address(request),
    )
    return Status(
        201,
        HealthCheckOut(
            id=check.pk,
            placement_id=placement.pk,
            on_date=check.on_date,
            slot=check.slot,
            temperature=check.temperature,
            symptoms=list(check.symptoms),
            alert_raised=check.temperature >= services.FEVER_FROM or bool(check.symptoms),
        ),
    )


@router.post(
    "/placement-tests/{int:test_id}/sample",
    summary="Record a test's sample taken at the site",
    response=StayTestOut,
)
def test_sample(request: AuthedRequest, test_id: int, payload: SampleIn) -> StayTestOut:
    test = selectors.test_for_care(user=request.user, pk=test_id)
    done = services.placement_test_sample(
        actor=request.user, test=test, barcode=payload.barcode, ip=client_address(request)
    )
    return _test_out(done)


@router.post(
    "/site/tubes/dispatch",
    summary="Pack the site's sampled tubes and hand them to a lab",
    response=DispatchOut,
)
def tubes_dispatch(request: AuthedRequest, payload: DispatchIn) -> DispatchOut:
    from fangkong.testing.selectors.labs import lab_get

    lab = lab_get(user=request.user, pk=payload.lab_id)
    box = services.site_tubes_dispatch(
        actor=request.user, lab=lab, box_barcode=payload.box_barcode, ip=client_address(request)
    )
    return DispatchOut(box=box.barcode, tubes=box.tubes.count())


@router.post(
    "/placements/{int:placement_id}/release",
    summary="Release a placed person",
    response=CarePlacementOut,
)
def release(request: AuthedRequest, placement_id: int) -> CarePlacementOut:
    placement = selectors.placement_for_care(user=request.user, pk=placement_id)
    done = services.placement_release(
        actor=request.user, placement=placement, ip=client_address(request)
    )
    return _placement_out(done)


class HospitalDepartIn(Schema):
    vehicle: str = ""


@router.post(
    "/site/transfers/{int:transfer_id}/hospital-depart",
    summary="Record the departure of a placed person's transfer to hospital",
    response=CarePlacementOut,
)
def hospital_depart(
    request: AuthedRequest, transfer_id: int, body: HospitalDepartIn
) -> CarePlacementOut:
    transfer = selectors.transfer_for_care(user=request.user, pk=transfer_id)
    services.transfer_hospital_depart(
        actor=request.user,
        transfer=transfer,
        vehicle=body.vehicle,
        ip=client_address(request),
    )
    return _placement_out(selectors.placement_for_care(user=request.user, pk=transfer.placement_id))


@router.post(
    "/site/transfers/{int:transfer_id}/hospital-arrive",
    summary="Record a placed person's arrival at hospital",
    response=CarePlacementOut,
)
def hospital_arrive(request: AuthedRequest, transfer_id: int) -> CarePlacementOut:
    transfer = selectors.transfer_for_care(user=request.user, pk=transfer_id)
    done = services.transfer_hospital_arrive(
        actor=request.user, transfer=transfer, ip=client_address(request)
    )
    return _placement_out(done)


@router.get(
    "/placements/{int:placement_id}/certificate",
    summary="Get a release certificate",
    response=CertificateOut,
)
def certificate(request: AuthedRequest, placement_id: int) -> CertificateOut:
    cert = selectors.certificate(user=request.user, pk=placement_id)
    p = cert.placement
    return CertificateOut(
        placement_id=p.pk,
        certificate_number=p.certificate_number,
        name=cert.name,
        id_number=cert.id_number,
        site=p.site.name if p.site else "",
        start_on=p.start_on,
        quarantine_end_on=p.quarantine_end_on,
        monitoring_end_on=p.monitoring_end_on,
        closed_at=p.closed_at,
        ruleset=p.ruleset.version,
        tests=[_test_out(t) for t in cert.tests],
    )


# --- alerts -------------------------------------------------------------------------------


def _alert_out(a) -> AlertOut:
    return AlertOut(
        id=a.pk,
        placement_id=a.placement_id,
        name=selectors.person_label(a.placement.person),
        kind=a.kind,
        state=a.state,
        raised_at=a.raised_at,
        handled_at=a.handled_at,
        outcome=a.outcome,
    )


@router.get("/alerts", summary="List health alerts", response=Page[AlertOut])
def alert_list(request: AuthedRequest, filters: Query[AlertFilter]) -> Page[AlertOut]:
    page = selectors.alerts(
        user=request.user, state=filters.state, cursor=filters.cursor, size=filters.size
    )
    return Page[AlertOut].of(page, _alert_out)


@router.post("/alerts/{int:alert_id}/handle", summary="Handle a health alert", response=AlertOut)
def alert_handle(request: AuthedRequest, alert_id: int, payload: AlertHandleIn) -> AlertOut:
    alert = selectors.alert_get(user=request.user, pk=alert_id)
    done = services.alert_handle(
        actor=request.user, alert=alert, outcome=payload.outcome, ip=client_address(request)
    )
    return _alert_out(selectors.alert_get(user=request.user, pk=done.pk))


# --- at home ------------------------------------------------------------------------------


@router.get(
    "/home", summary="List persons at home under the community's monitoring", response=Page[HomeOut]
)
def home_list(request: AuthedRequest, filters: Query[HomeFilter]) -> Page[HomeOut]:
    page, rows = selectors.home_list(
        user=request.user, cursor=filters.cursor, missed_only=filters.missed, size=filters.size
    )
    out = [
        HomeOut(
            placement_id=r.placement.pk,
            name=r.name,
            measure=r.placement.measure,
            end_on=r.end_on,
            checked_today=r.checked_today,
            missed_days=r.missed_days,
            due_today=r.due_today,
        )
        for r in rows
    ]
    return Page[HomeOut](items=out, next_cursor=page.next_cursor)


@router.post(
    "/home/{int:placement_id}/check-ins",
    summary="Record a home check-in",
    response={201: HomeCheckInOut},
)
def home_checkin(
    request: AuthedRequest, placement_id: int, payload: HomeCheckInIn
) -> Status[HomeCheckInOut]:
    placement = selectors.home_placement_get(user=request.user, pk=placement_id)
    done = services.home_checkin_record(
        actor=request.user,
        placement=placement,
        temperature=payload.temperature,
        symptoms=payload.symptoms,
        note=payload.note,
        ip=client_address(request),
    )
    return Status(201, HomeCheckInOut(id=done.pk, placement_id=placement.pk, on_date=done.on_date))
