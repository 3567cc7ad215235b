"""Tracing API: verification pushes (推送核查), the towns' feedback, Excel, assist requests.

Thin endpoints: selectors read (scoped: a town sees only its lists and persons, anything
else is a 404), services write; persons are masked.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from fangkong.accounts.types import AuthedRequest
from fangkong.core.api import JobOut, export_api_answer
from fangkong.core.apitypes import Page, PageQuery
from fangkong.core.errors import DomainError
from fangkong.core.http import client_address
from fangkong.core.paths import TOWN_WIDTH, path_pattern
from fangkong.people.rules import mask_name
from fangkong.tracing import excel, tasks_pushes
from fangkong.tracing.models import AssistRequest, PushItem, VerificationPush
from fangkong.tracing.selectors import pushes as selectors
from fangkong.tracing.services import pushes as services

router = Router()


# --- Schemas -------------------------------------------------------------------------


class CountsOut(Schema):
    total: int
    pending: int
    located: int
    controlled: int
    not_found: int
    outside: int
    percent_done: int

    @staticmethod
    def from_counts(c: selectors.ItemCounts) -> CountsOut:
        return CountsOut(
            total=c.total,
            pending=c.pending,
            located=c.located,
            controlled=c.controlled,
            not_found=c.not_found,
            outside=c.outside,
            percent_done=c.percent_done,
        )


class PushOut(Schema):
    id: int
    number: str
    town_id: int
    town_name: str
    jurisdiction_path: str
    case_id: int | None
    case_number: str
    status: str
    deadline: dt.datetime
    overdue: bool
    escalated_at: dt.datetime | None
    completed_at: dt.datetime | None
    created_at: dt.datetime
    counts: CountsOut

    @staticmethod
    def from_push(push: VerificationPush, counts: selectors.ItemCounts) -> PushOut:
        return PushOut(
            id=push.pk,
            number=push.number,
            town_id=push.town_id,
            town_name=push.town.name,
            jurisdiction_path=push.jurisdiction_path,
            case_id=push.case_id,
            case_number=push.case.number if push.case else "",
            status=push.status,
            deadline=push.deadline,
            overdue=push.status == "open" and push.deadline < timezone.now(),
            escalated_at=push.escalated_at,
            completed_at=push.completed_at,
            created_at=push.created_at,
            counts=CountsOut.from_counts(counts),
        )


class PushItemOut(Schema):
    """A person on a list, masked."""

    id: int
    push_id: int
    contact_id: int
    name_masked: str
    id_masked: str
    phone_masked: str
    classification: str
    contact_status: str
    last_exposure_on: dt.date
    quarantine_end_on: dt.date | None
    status: str
    note: str
    marked_at: dt.datetime | None
    late: bool

    @staticmethod
    def from_item(item: PushItem, push: VerificationPush) -> PushItemOut:
        contact = item.contact
        person = contact.person
        return PushItemOut(
            id=item.pk,
            push_id=item.push_id,
            contact_id=contact.pk,
            name_masked=mask_name(person.name),
            id_masked=person.id_masked,
            phone_masked=person.phone_masked,
            classification=contact.classification,
            contact_status=contact.status,
            last_exposure_on=contact.last_exposure_on,
            quarantine_end_on=contact.quarantine_end_on,
            status=item.status,
            note=item.note,
            marked_at=item.marked_at,
            late=services.push_item_is_late(item, push),
        )


class PushDetailOut(PushOut):
    items: list[PushItemOut]


class MarkIn(Schema):
    status: Literal["located", "centralised", "home", "hospital", "not_found", "outside"]
    note: str = Field("", max_length=300)


class ImportErrorOut(Schema):
    row: int
    code: str
    message: str


class ImportReportOut(Schema):
    rows: int
    changed: int
    unchanged: int
    errors: list[ImportErrorOut]
    stale: list[ImportErrorOut]  # rows not applied: the item was marked after the export


class ExportIn(Schema):
    reveal: bool = False


class AssistRequestOut(Schema):
    id: int
    number: str
    contact_id: int
    name_masked: str
    id_masked: str
    phone_masked: str
    target_region: str
    reason: str
    created_at: dt.datetime

    @staticmethod
    def from_request(assist: AssistRequest) -> AssistRequestOut:
        person = assist.contact.person
        return AssistRequestOut(
            id=assist.pk,
            number=assist.number,
            contact_id=assist.contact_id,
            name_masked=mask_name(person.name),
            id_masked=person.id_masked,
            phone_masked=person.phone_masked,
            target_region=assist.target_region,
            reason=assist.reason,
            created_at=assist.created_at,
        )


# --- Endpoints -----------------------------------------------------------------------


@router.get("/pushes", summary="List verification pushes", response=Page[PushOut])
def push_list(
    request: AuthedRequest,
    paging: Query[PageQuery],
    status: Literal["open", "done"] | None = None,
    overdue: bool | None = None,
    town: str | None = Query(None, pattern=path_pattern(TOWN_WIDTH)),
) -> Page[PushOut]:
    """The lists the user may see (a town: only its own), newest first."""
    page = selectors.pushes(
        user=request.user,
        status=status,
        overdue=overdue,
        town_path=town,
        cursor=paging.cursor,
        size=paging.size,
    )
    counts = selectors.push_item_counts(user=request.user, push_ids=[p.pk for p in page.items])
    return Page[PushOut].of(page, lambda p: PushOut.from_push(p, counts[p.pk]))


def _detail(request: AuthedRequest, push: VerificationPush) -> PushDetailOut:
    items = selectors.push_items(user=request.user, push=push)
    counts = selectors.push_item_counts(user=request.user, push_ids=[push.pk])[push.pk]
    base = PushOut.from_push(push, counts)
    return PushDetailOut(**base.dict(), items=[PushItemOut.from_item(i, push) for i in items])


@router.get(
    "/pushes/{int:push_id}",
    summary="Get a verification push with its items",
    response=PushDetailOut,
)
def push_detail(request: AuthedRequest, push_id: int) -> PushDetailOut:
    return _detail(request, selectors.push_get(user=request.user, pk=push_id))


@router.post(
    "/cases/{int:case_id}/push",
    summary="Push a case's new contacts to the towns for verification",
    response={201: list[PushOut]},
)
def case_push(request: AuthedRequest, case_id: int) -> Status[list[PushOut]]:
    """Push the case's newly identified contacts to their towns ([] when none are new)."""
    case = selectors.case_for_pushes(user=request.user, pk=case_id)
    created = services.pushes_create_for_case(
        actor=request.user, case=case, ip=client_address(request)
    )
    counts = selectors.push_item_counts(user=request.user, push_ids=[p.pk for p in created])
    return Status(201, [PushOut.from_push(p, counts[p.pk]) for p in created])


@router.post(
    "/push-items/{int:item_id}/mark",
    summary="Mark a push item's verification outcome",
    response=PushItemOut,
)
def push_item_mark(request: AuthedRequest, item_id: int, payload: MarkIn) -> PushItemOut:
    item = selectors.push_item_get(user=request.user, pk=item_id)
    services.push_item_mark(
        actor=request.user,
        item=item,
        status=payload.status,
        note=payload.note,
        ip=client_address(request),
    )
    item = selectors.push_item_get(user=request.user, pk=item_id)
    return PushItemOut.from_item(item, item.push)


def _export_response(
    request: AuthedRequest, push_id: int, *, reveal: bool
) -> HttpResponse | Status[JobOut]:
    """Written by a background job: the file when it has finished, else 202 and the job
    (then GET /api/jobs/{id}/file)."""
    job = tasks_pushes.push_export_start(
        actor=request.user, push_id=push_id, reveal=reveal, ip=client_address(request)
    )
    return export_api_answer(job)


@router.get(
    "/pushes/{int:push_id}/export.xlsx",
    summary="Export a verification push (Excel, masked)",
    response={200: None, 202: JobOut},
)
def push_export(request: AuthedRequest, push_id: int) -> HttpResponse | Status[JobOut]:
    """The list as Excel, masked; every export audited. Revealing is a POST."""
    if request.GET.get("reveal", "").lower() not in ("", "0", "false"):
        raise DomainError("reveal_requires_post", _("明文导出须以 POST 请求提交"), method="POST")
    return _export_response(request, push_id, reveal=False)


@router.post(
    "/pushes/{int:push_id}/export.xlsx",
    summary="Export a verification push (Excel, optionally revealed)",
    response={200: None, 202: JobOut},
)
def push_export_post(
    request: AuthedRequest, push_id: int, payload: ExportIn
) -> HttpResponse | Status[JobOut]:
    """The list as Excel; `{"reveal": true}` in clear (person.reveal); audited."""
    return _export_response(request, push_id, reveal=payload.reveal)


@router.post(
    "/pushes/{int:push_id}/import",
    summary="Import a town's verification feedback (Excel)",
    response=ImportReportOut,
)
def push_import(request: AuthedRequest, push_id: int, file: File[UploadedFile]) -> ImportReportOut:
    """Apply the town's feedback from the exported workbook: every row or none (400 with
    the bad rows by row number). Rows on items marked since the export are not applied
    and are listed under `stale` (code `row_stale`)."""
    push = selectors.push_get(user=request.user, pk=push_id)
    report = excel.push_import_feedback(
        actor=request.user,
        push=push,
        file=file.read(excel.MAX_IMPORT_BYTES + 1),
        ip=client_address(request),
    )
    errors = [ImportErrorOut(row=e.row, code=e.code, message=e.message) for e in report.errors]
    if errors:
        raise DomainError(
            "import_rows_invalid",
            _("导入文件有错误，未作任何修改"),
            errors=[e.dict() for e in errors],
        )
    return ImportReportOut(
        rows=report.rows,
        changed=report.changed,
        unchanged=report.unchanged,
        errors=[],
        stale=[ImportErrorOut(row=e.row, code=e.code, message=e.message) for e in report.stale],
    )


@router.get(
    "/assist-requests/{int:assist_id}",
    summary="Get an assist request to another region",
    response=AssistRequestOut,
)
def assist_request_detail(request: AuthedRequest, assist_id: int) -> AssistRequestOut:
    return AssistRequestOut.from_request(
        selectors.assist_request_get(user=request.user, pk=assist_id)
    )
