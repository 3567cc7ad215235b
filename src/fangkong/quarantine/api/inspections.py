"""API of inspections against the standard: the checklist, inspections, rectifications
and the closed-loop staff roster. Scoped as the pages are (site staff: their own site)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from fangkong.accounts.types import AuthedRequest
from fangkong.core.apitypes import Page, PageQuery, RowId
from fangkong.core.errors import InvalidInput
from fangkong.core.http import client_address
from fangkong.core.pagination import keyset_page
from fangkong.quarantine.choices import RectificationStatus, StaffPost, TestResult
from fangkong.quarantine.models import (
    ChecklistItem,
    Inspection,
    Rectification,
    StaffShift,
)
from fangkong.quarantine.rules.inspections import staff_standing
from fangkong.quarantine.selectors import inspections as selectors
from fangkong.quarantine.services import inspections as services
from fangkong.quarantine.services import staff as staff_services

router = Router()


def _pattern(values: list[str]) -> str:
    return "^(" + "|".join(values) + ")$"


# --- the checklist ---------------------------------------------------------------------


class ChecklistItemOut(Schema):
    id: int
    code: str
    category: str
    text: str
    order: int
    active: bool

    @staticmethod
    def of(item: ChecklistItem) -> ChecklistItemOut:
        return ChecklistItemOut(
            id=item.pk,
            code=item.code,
            category=item.category,
            text=item.text,
            order=item.order,
            active=item.active,
        )


class ChecklistItemIn(Schema):
    code: str = Field(..., max_length=16)
    category: str = Field(..., max_length=50)
    text: str = Field(..., max_length=300)
    order: int = Field(0, ge=0, le=32767)


class ChecklistItemUpdateIn(Schema):
    category: str = Field(..., max_length=50)
    text: str = Field(..., max_length=300)
    order: int = Field(..., ge=0, le=32767)


class ActiveIn(Schema):
    active: bool


@router.get("/checklist", summary="List the inspection checklist", response=Page[ChecklistItemOut])
def checklist_list(
    request: AuthedRequest, paging: Query[PageQuery], include_retired: bool = False
) -> Page[ChecklistItemOut]:
    qs = selectors.checklist_items(user=request.user, include_retired=include_retired)
    page = keyset_page(
        qs, cursor=paging.cursor, size=paging.size, order=(*selectors.CHECKLIST_ORDER, "pk")
    )
    return Page[ChecklistItemOut].of(page, ChecklistItemOut.of)


@router.post("/checklist", summary="Add a checklist item", response={201: ChecklistItemOut})
def checklist_create(request: AuthedRequest, payload: ChecklistItemIn) -> Status[ChecklistItemOut]:
    item = services.checklist_item_create(
        actor=request.user,
        code=payload.code,
        category=payload.category,
        text=payload.text,
        order=payload.order,
        ip=client_address(request),
    )
    return Status(201, ChecklistItemOut.of(item))


@router.put("/checklist/{int:item_id}", summary="Edit a checklist item", response=ChecklistItemOut)
def checklist_update(
    request: AuthedRequest, item_id: int, payload: ChecklistItemUpdateIn
) -> ChecklistItemOut:
    item = selectors.checklist_item_get(user=request.user, pk=item_id)
    services.checklist_item_update(
        actor=request.user,
        item=item,
        category=payload.category,
        text=payload.text,
        order=payload.order,
        ip=client_address(request),
    )
    return ChecklistItemOut.of(item)


@router.post(
    "/checklist/{int:item_id}/active",
    summary="Retire or restore a checklist item",
    response=ChecklistItemOut,
)
def checklist_active(request: AuthedRequest, item_id: int, payload: ActiveIn) -> ChecklistItemOut:
    item = selectors.checklist_item_get(user=request.user, pk=item_id)
    services.checklist_item_retire(
        actor=request.user, item=item, active=payload.active, ip=client_address(request)
    )
    return ChecklistItemOut.of(item)


# --- inspections -----------------------------------------------------------------------


class InspectionOut(Schema):
    id: int
    site_id: int
    site_name: str
    inspected_on: dt.date
    inspector: str
    summary: str
    failed: int
    items: int

    @staticmethod
    def of(inspection: Inspection) -> InspectionOut:
        inspector = inspection.inspector
        return InspectionOut(
            id=inspection.pk,
            site_id=inspection.site_id,
            site_name=inspection.site.name,
            inspected_on=inspection.inspected_on,
            inspector=(inspector.display_name or inspector.username) if inspector else "",
            summary=inspection.summary,
            failed=inspection.failed_count,  # type: ignore[attr-defined]
            items=inspection.item_count,  # type: ignore[attr-defined]
        )


class FindingOut(Schema):
    item_id: int
    code: str
    category: str
    text: str
    passed: bool
    note: str
    rectification_id: int | None


class InspectionDetailOut(InspectionOut):
    findings: list[FindingOut]


class AnswerIn(Schema):
    item_id: RowId
    passed: bool
    note: str = Field("", max_length=300)


class InspectionIn(Schema):
    site_id: RowId
    inspected_on: dt.date
    answers: list[AnswerIn] = Field(..., max_length=500)
    summary: str = Field("", max_length=2000)
    owner_name: str = Field("", max_length=50)
    owner_id: RowId | None = None
    deadline_at: dt.datetime | None = None


def _detail(request: AuthedRequest, pk: int) -> InspectionDetailOut:
    inspection = selectors.inspections(user=request.user).get(pk=pk)
    findings = selectors.inspection_findings(inspection)
    base = InspectionOut.of(inspection)
    return InspectionDetailOut(
        **base.dict(),
        findings=[
            FindingOut(
                item_id=f.item_id,
                code=f.item.code,
                category=f.item.category,
                text=f.item.text,
                passed=f.passed,
                note=f.note,
                rectification_id=f.rectification.pk if not f.passed else None,
            )
            for f in findings
        ],
    )


@router.get("/inspections", summary="List inspections of sites", response=Page[InspectionOut])
def inspection_list(
    request: AuthedRequest, paging: Query[PageQuery], site: int | None = Query(None, ge=1)
) -> Page[InspectionOut]:
    qs = selectors.inspections(user=request.user, site_id=site)
    page = keyset_page(qs, cursor=paging.cursor, size=paging.size, order=selectors.INSPECTION_ORDER)
    return Page[InspectionOut].of(page, InspectionOut.of)


@router.get(
    "/inspections/{int:inspection_id}",
    summary="Get an inspection with its findings",
    response=InspectionDetailOut,
)
def inspection_detail(request: AuthedRequest, inspection_id: int) -> InspectionDetailOut:
    selectors.inspection_get(user=request.user, pk=inspection_id)  # 404 out of scope
    return _detail(request, inspection_id)


@router.post(
    "/inspections",
    summary="Record an inspection against the checklist",
    response={201: InspectionDetailOut},
)
def inspection_create(request: AuthedRequest, payload: InspectionIn) -> Status[InspectionDetailOut]:
    user = request.user
    site = selectors.site_for_inspections(user=user, pk=payload.site_id)
    results: dict[int, tuple[bool, str]] = {}
    for answer in payload.answers:
        if answer.item_id in results:
            raise InvalidInput("item_repeated", _("同一条目重复作答"), item=answer.item_id)
        results[answer.item_id] = (answer.passed, answer.note)
    owner = None
    if payload.owner_id is not None:
        owner = next(
            (a for a in selectors.site_staff_accounts(site) if a.pk == payload.owner_id), None
        )
        if owner is None:
            raise InvalidInput(
                "owner_not_site_staff",
                _("整改责任人账户须为本隔离点的工作人员"),
                field="owner_id",
            )
    inspection = services.inspection_create(
        actor=user,
        site=site,
        inspected_on=payload.inspected_on,
        results=results,
        summary=payload.summary,
        owner_name=payload.owner_name,
        owner=owner,
        deadline_at=payload.deadline_at,
        ip=client_address(request),
    )
    return Status(201, _detail(request, inspection.pk))


# --- rectifications --------------------------------------------------------------------


class RectificationOut(Schema):
    id: int
    site_id: int
    site_name: str
    inspection_id: int
    item_code: str
    item_text: str
    problem: str
    owner_name: str
    owner_id: int | None
    deadline_at: dt.datetime
    status: str
    overdue: bool
    escalated_at: dt.datetime | None
    done_at: dt.datetime | None
    done_note: str

    @staticmethod
    def of(rect: Rectification) -> RectificationOut:
        finding = rect.finding
        return RectificationOut(
            id=rect.pk,
            site_id=rect.site_id,
            site_name=rect.site.name,
            inspection_id=finding.inspection_id,
            item_code=finding.item.code,
            item_text=finding.item.text,
            problem=finding.note,
            owner_name=rect.owner_name,
            owner_id=rect.owner_id,
            deadline_at=rect.deadline_at,
            status=rect.status,
            overdue=rect.status == RectificationStatus.OPEN and rect.deadline_at < timezone.now(),
            escalated_at=rect.escalated_at,
            done_at=rect.done_at,
            done_note=rect.done_note,
        )


class CompleteIn(Schema):
    note: str = Field(..., max_length=300)


class ReassignIn(Schema):
    owner_name: str = Field("", max_length=50)
    owner_id: RowId | None = None
    deadline_at: dt.datetime


@router.get(
    "/rectifications",
    summary="List rectifications, overdue first",
    response=Page[RectificationOut],
)
def rectification_list(
    request: AuthedRequest,
    paging: Query[PageQuery],
    site: int | None = Query(None, ge=1),
    status: str | None = Query(None, pattern=_pattern(RectificationStatus.values)),
    overdue: bool = False,
) -> Page[RectificationOut]:
    qs = selectors.rectifications(
        user=request.user, site_id=site, status=status, overdue_only=overdue
    )
    page = keyset_page(
        qs, cursor=paging.cursor, size=paging.size, order=selectors.RECTIFICATION_ORDER
    )
    return Page[RectificationOut].of(page, RectificationOut.of)


@router.get(
    "/rectifications/{int:rectification_id}",
    summary="Get a rectification",
    response=RectificationOut,
)
def rectification_detail(request: AuthedRequest, rectification_id: int) -> RectificationOut:
    return RectificationOut.of(selectors.rectification_get(user=request.user, pk=rectification_id))


@router.post(
    "/rectifications/{int:rectification_id}/complete",
    summary="Complete a rectification",
    response=RectificationOut,
)
def rectification_complete(
    request: AuthedRequest, rectification_id: int, payload: CompleteIn
) -> RectificationOut:
    rect = selectors.rectification_get(user=request.user, pk=rectification_id)
    services.rectification_complete(
        actor=request.user, rectification=rect, note=payload.note, ip=client_address(request)
    )
    return RectificationOut.of(selectors.rectification_get(user=request.user, pk=rect.pk))


@router.post(
    "/rectifications/{int:rectification_id}/reassign",
    summary="Change a rectification's owner or deadline",
    response=RectificationOut,
)
def rectification_reassign(
    request: AuthedRequest, rectification_id: int, payload: ReassignIn
) -> RectificationOut:
    rect = selectors.rectification_get(user=request.user, pk=rectification_id)
    owner = None
    if payload.owner_id is not None:
        owner = next(
            (a for a in selectors.site_staff_accounts(rect.site) if a.pk == payload.owner_id),
            None,
        )
        if owner is None:
            raise InvalidInput(
                "owner_not_site_staff",
                _("整改责任人账户须为本隔离点的工作人员"),
                field="owner_id",
            )
    services.rectification_reassign(
        actor=request.user,
        rectification=rect,
        owner_name=payload.owner_name,
        owner=owner,
        deadline_at=payload.deadline_at,
        ip=client_address(request),
    )
    return RectificationOut.of(selectors.rectification_get(user=request.user, pk=rect.pk))


# --- the staff roster ------------------------------------------------------------------


class StaffShiftOut(Schema):
    id: int
    site_id: int
    site_name: str
    name: str
    post: str
    starts_on: dt.date
    ends_on: dt.date
    user_id: int | None
    last_test_on: dt.date | None
    last_result: str | None
    flags: list[str]

    @staticmethod
    def of(shift: StaffShift, today: dt.date) -> StaffShiftOut:
        last_on = getattr(shift, "last_test_on", None)
        last_result = getattr(shift, "last_result", None)
        standing = staff_standing(
            today=today,
            starts_on=shift.starts_on,
            ends_on=shift.ends_on,
            last_test_on=last_on,
            last_result=last_result,
        )
        return StaffShiftOut(
            id=shift.pk,
            site_id=shift.site_id,
            site_name=shift.site.name,
            name=shift.name,
            post=shift.post,
            starts_on=shift.starts_on,
            ends_on=shift.ends_on,
            user_id=shift.user_id,
            last_test_on=last_on,
            last_result=last_result,
            flags=list(standing.flags),
        )


class StaffShiftIn(Schema):
    site_id: RowId
    name: str = Field(..., max_length=50)
    post: str = Field(..., pattern=_pattern(StaffPost.values))
    starts_on: dt.date
    ends_on: dt.date
    user_id: RowId | None = None


class StaffTestIn(Schema):
    tested_on: dt.date
    result: str = Field(..., pattern=_pattern(TestResult.values))


def _shift_out(request: AuthedRequest, pk: int) -> StaffShiftOut:
    shift = selectors.staff_shifts(user=request.user).get(pk=pk)
    return StaffShiftOut.of(shift, timezone.localdate())


@router.get("/staff", summary="List the closed-loop staff of sites", response=Page[StaffShiftOut])
def staff_list(
    request: AuthedRequest, paging: Query[PageQuery], site: int | None = Query(None, ge=1)
) -> Page[StaffShiftOut]:
    today = timezone.localdate()
    qs = selectors.staff_shifts(user=request.user, site_id=site, current_on=today)
    page = keyset_page(qs, cursor=paging.cursor, size=paging.size, order=selectors.SHIFT_ORDER)
    return Page[StaffShiftOut].of(page, lambda s: StaffShiftOut.of(s, today))


@router.post(
    "/staff",
    summary="Put a staff member on a site's closed-loop roster",
    response={201: StaffShiftOut},
)
def staff_create(request: AuthedRequest, payload: StaffShiftIn) -> Status[StaffShiftOut]:
    user = request.user
    site = selectors.site_for_inspections(user=user, pk=payload.site_id)
    account = None
    if payload.user_id is not None:
        account = next(
            (a for a in selectors.site_staff_accounts(site) if a.pk == payload.user_id), None
        )
        if account is None:
            raise InvalidInput(
                "user_not_site_staff", _("账户须为本隔离点的工作人员"), field="user_id"
            )
    shift = staff_services.staff_shift_create(
        actor=user,
        site=site,
        name=payload.name,
        post=payload.post,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        user=account,
        ip=client_address(request),
    )
    return Status(201, _shift_out(request, shift.pk))


@router.post(
    "/staff/{int:shift_id}/tests",
    summary="Record a closed-loop staff member's own test",
    response=StaffShiftOut,
)
def staff_test(request: AuthedRequest, shift_id: int, payload: StaffTestIn) -> StaffShiftOut:
    shift = selectors.staff_shift_get(user=request.user, pk=shift_id)
    staff_services.staff_test_record(
        actor=request.user,
        shift=shift,
        tested_on=payload.tested_on,
        result=payload.result,
        ip=client_address(request),
    )
    return _shift_out(request, shift.pk)
