"""API of mass testing: labs — transport boxes, results (batch and file), tube results
with their corrections, turnaround, holds and rechecks.

Thin endpoints: selectors read (scoped: a sampler sees their point's boxes, a lab the
boxes addressed to it, community and town staff their persons), services write; persons
are masked.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from fangkong.accounts.types import AuthedRequest
from fangkong.core.api import JobOut, job_accepted
from fangkong.core.apitypes import ROW_ID_MAX, Page, PageQuery, RowId
from fangkong.core.errors import DomainError
from fangkong.core.http import client_address
from fangkong.core.pagination import keyset_page, sequence_page
from fangkong.people.rules import mask_name
from fangkong.testing import tasks_labs
from fangkong.testing.models import Hold, Recheck, TransportBox
from fangkong.testing.selectors import labs as selectors
from fangkong.testing.services import boxes as box_services
from fangkong.testing.services import rechecks as recheck_services
from fangkong.testing.services import result_files
from fangkong.testing.services import results as result_services

router = Router()


# --- Schemas ---------------------------------------------------------------------------


class BoxIn(Schema):
    barcode: str = Field(..., min_length=1, max_length=64)
    lab_id: RowId


class BoxTubesIn(Schema):
    barcodes: list[str] = Field(..., min_length=1, max_length=500)


class BoxReceiveIn(Schema):
    barcode: str = Field(..., min_length=1, max_length=64)


class BoxOut(Schema):
    id: int
    barcode: str
    point_id: int
    lab_id: int
    lab_name: str
    state: str
    tubes: list[str]
    created_at: dt.datetime
    handed_over_at: dt.datetime | None
    received_at: dt.datetime | None

    @staticmethod
    def from_box(box: TransportBox) -> BoxOut:
        return BoxOut(
            id=box.pk,
            barcode=box.barcode,
            point_id=box.point_id,
            lab_id=box.lab_id,
            lab_name=box.lab.name,
            state=box.state,
            tubes=selectors.box_tube_barcodes(box=box),
            created_at=box.created_at,
            handed_over_at=box.handed_over_at,
            received_at=box.received_at,
        )


class RejectedTubeOut(Schema):
    barcode: str
    code: str = Field(..., description="tube_not_found, tube_in_other_box or tube_not_closed")
    message: str


class BoxAddOut(Schema):
    box: BoxOut
    added: list[str]
    unchanged: list[str]
    rejected: list[RejectedTubeOut] = Field(
        default_factory=list,
        description="Scanned barcodes not packed (the others were), each with its reason",
    )


class ResultIn(Schema):
    barcode: str = Field(..., min_length=1, max_length=64)
    result: str = Field(
        ..., max_length=16, description="阴性/阳性/无效 or negative/positive/invalid"
    )
    ct_orf1ab: float | None = None
    ct_n: float | None = None
    tested_at: str = Field(..., max_length=40, description="ISO 8601; naive = Asia/Shanghai")


class ResultsIn(Schema):
    results: list[ResultIn] = Field(..., min_length=1, max_length=100_000)
    batch_id: str = Field("", max_length=200)


class ImportErrorOut(Schema):
    line: int
    code: str
    message: str
    barcode: str


class ResultImportReportOut(Schema):
    import_id: int | None
    duplicate: bool
    rows: int
    applied: int
    unchanged: int
    corrected: int
    positives: int
    holds: int
    rechecks: int
    rechecks_resolved: int
    cases: list[int]

    @staticmethod
    def from_report(report: result_files.ResultImportReport) -> ResultImportReportOut:
        if report.errors:
            raise DomainError(
                "import_rows_invalid",
                _("导入文件有错误，未作任何修改"),
                errors=[
                    ImportErrorOut(
                        line=e.line, code=e.code, message=e.message, barcode=e.barcode
                    ).dict()
                    for e in report.errors
                ],
            )
        return ResultImportReportOut(
            import_id=report.import_id,
            duplicate=report.duplicate,
            rows=report.rows,
            applied=report.applied,
            unchanged=report.unchanged,
            corrected=report.corrected,
            positives=report.positives,
            holds=report.holds,
            rechecks=report.rechecks,
            rechecks_resolved=report.rechecks_resolved,
            cases=report.cases,
        )


class CorrectionOut(Schema):
    old_result: str
    new_result: str
    old_ct_orf1ab: float | None
    old_ct_n: float | None
    new_ct_orf1ab: float | None
    new_ct_n: float | None
    reason: str
    actor: str
    at: dt.datetime


class TubeResultOut(Schema):
    barcode: str
    round_id: int
    pool_size: int
    members: int
    state: str
    result: str | None
    ct_orf1ab: float | None
    ct_n: float | None
    tested_at: dt.datetime | None
    revision: int
    sampled_to_resulted_minutes: float | None
    received_to_resulted_minutes: float | None
    corrections: list[CorrectionOut]


class TurnaroundOut(Schema):
    tubes: int
    median_minutes: float | None
    p90_minutes: float | None


class LabTurnaroundOut(Schema):
    lab_id: int
    lab_name: str
    round_id: int
    round_name: str
    sampled_to_resulted: TurnaroundOut
    received_to_resulted: TurnaroundOut


class RecheckOut(Schema):
    id: int
    person_id: int
    name_masked: str
    id_masked: str
    phone_masked: str
    jurisdiction_path: str
    round_id: int
    source_tube: str
    status: str
    due_at: dt.datetime
    overdue: bool
    escalated_at: dt.datetime | None
    recheck_tube: str | None
    sampled_at: dt.datetime | None
    resulted_at: dt.datetime | None
    case_id: int | None

    @staticmethod
    def from_recheck(r: Recheck, now: dt.datetime) -> RecheckOut:
        return RecheckOut(
            id=r.pk,
            person_id=r.person_id,
            name_masked=mask_name(r.person.name),
            id_masked=r.person.id_masked,
            phone_masked=r.person.phone_masked,
            jurisdiction_path=r.jurisdiction_path,
            round_id=r.round_id,
            source_tube=r.source_tube.barcode,
            status=r.status,
            due_at=r.due_at,
            overdue=r.status in ("pending", "sampled") and r.due_at < now,
            escalated_at=r.escalated_at,
            recheck_tube=r.recheck_tube.barcode if r.recheck_tube else None,
            sampled_at=r.sampled_at,
            resulted_at=r.resulted_at,
            case_id=r.case_id,
        )


class RecheckSampleIn(Schema):
    barcode: str = Field(..., min_length=1, max_length=64)
    lab_id: RowId | None = None


class HoldOut(Schema):
    id: int
    person_id: int
    name_masked: str
    id_masked: str
    jurisdiction_path: str
    round_id: int
    tube: str
    state: str
    started_at: dt.datetime
    released_at: dt.datetime | None

    @staticmethod
    def from_hold(h: Hold) -> HoldOut:
        return HoldOut(
            id=h.pk,
            person_id=h.person_id,
            name_masked=mask_name(h.person.name),
            id_masked=h.person.id_masked,
            jurisdiction_path=h.jurisdiction_path,
            round_id=h.round_id,
            tube=h.tube.barcode,
            state=h.state,
            started_at=h.started_at,
            released_at=h.released_at,
        )


class RecheckFilter(PageQuery):
    status: Literal["pending", "sampled", "negative", "positive"] | None = None
    overdue: bool | None = None


class HoldFilter(PageQuery):
    state: Literal["held", "released"] | None = "held"


# --- boxes ---------------------------------------------------------------------------------


@router.get("/boxes", summary="List transport boxes", response=Page[BoxOut])
def box_list(request: AuthedRequest, paging: Query[PageQuery]) -> Page[BoxOut]:
    """A sampler's boxes (their point), or the boxes handed over to a lab user's lab."""
    from fangkong.accounts.permissions import has_capability
    from fangkong.accounts.roles import Capability

    if has_capability(request.user, Capability.BOX_MANAGE):
        boxes = selectors.point_boxes(user=request.user)
    else:
        boxes = selectors.lab_boxes(user=request.user)
    page = keyset_page(boxes, cursor=paging.cursor, size=paging.size)
    return Page[BoxOut].of(page, BoxOut.from_box)


@router.post("/boxes", summary="Create a transport box", response={201: BoxOut})
def box_create(request: AuthedRequest, payload: BoxIn) -> Status[BoxOut]:
    lab = selectors.lab_get(user=request.user, pk=payload.lab_id)
    box = box_services.box_create(
        actor=request.user, barcode=payload.barcode, lab=lab, ip=client_address(request)
    )
    return Status(201, BoxOut.from_box(box))


@router.get("/boxes/{int:box_id}", summary="Get a transport box", response=BoxOut)
def box_detail(request: AuthedRequest, box_id: int) -> BoxOut:
    return BoxOut.from_box(selectors.box_get(user=request.user, pk=box_id))


@router.post(
    "/boxes/{int:box_id}/tubes", summary="Add tubes to a transport box", response=BoxAddOut
)
def box_add_tubes(request: AuthedRequest, box_id: int, payload: BoxTubesIn) -> BoxAddOut:
    box = selectors.box_get(user=request.user, pk=box_id)
    report = box_services.box_add_tubes(
        actor=request.user, box=box, barcodes=payload.barcodes, ip=client_address(request)
    )
    box = selectors.box_get(user=request.user, pk=box_id)
    return BoxAddOut(
        box=BoxOut.from_box(box),
        added=report.added,
        unchanged=report.unchanged,
        rejected=[
            RejectedTubeOut(barcode=r.barcode, code=r.code, message=r.message)
            for r in report.rejected
        ],
    )


@router.post(
    "/boxes/{int:box_id}/hand-over",
    summary="Hand a transport box over for transport to its lab",
    response=BoxOut,
)
def box_hand_over(request: AuthedRequest, box_id: int) -> BoxOut:
    box = selectors.box_get(user=request.user, pk=box_id)
    box = box_services.box_hand_over(actor=request.user, box=box, ip=client_address(request))
    return BoxOut.from_box(box)


@router.post("/boxes/receive", summary="Receive a transport box at the lab", response=BoxOut)
def box_receive(request: AuthedRequest, payload: BoxReceiveIn) -> BoxOut:
    """The lab scans a box's barcode on arrival."""
    box = selectors.box_get(user=request.user, barcode=payload.barcode.strip())
    box = box_services.box_receive(actor=request.user, box=box, ip=client_address(request))
    return BoxOut.from_box(box)


# --- results ---------------------------------------------------------------------------------


@router.post("/results", summary="Submit a batch of tube results", response=ResultImportReportOut)
def results_submit(request: AuthedRequest, payload: ResultsIn) -> ResultImportReportOut:
    """A batch of results; all or none (400 `import_rows_invalid` with the bad lines); a
    retried batch is reported `duplicate` and changes nothing."""
    report = result_services.results_submit(
        actor=request.user,
        results=[r.dict() for r in payload.results],
        batch_id=payload.batch_id,
        ip=client_address(request),
    )
    return ResultImportReportOut.from_report(report)


@router.post(
    "/results/import",
    summary="Import a results file (CSV or Excel) as a background job",
    response={202: JobOut},
)
def results_import(request: AuthedRequest, file: File[UploadedFile]) -> Status[JobOut]:
    """A results file (CSV or Excel, multipart `file`), imported by a background job:
    202 and the job (poll GET /api/jobs/{id}). Done, its `result` is the import report;
    bad lines fail it (`import_rows_invalid`, the lines in `error_detail.errors`); all
    rows or none."""
    job = tasks_labs.results_import_start(
        actor=request.user,
        data=file.read(result_files.MAX_IMPORT_BYTES + 1),
        filename=file.name or "",
        ip=client_address(request),
    )
    return job_accepted(job)


@router.get("/tubes/{barcode}/result", summary="Get a tube's result", response=TubeResultOut)
def tube_result(request: AuthedRequest, barcode: str) -> TubeResultOut:
    view = selectors.tube_result_get(user=request.user, barcode=barcode)
    r = view.result
    return TubeResultOut(
        barcode=view.tube.barcode,
        round_id=view.tube.round_id,
        pool_size=view.tube.pool_size,
        members=view.members,
        state=view.tube.state,
        result=r.result if r else None,
        ct_orf1ab=r.ct_orf1ab if r else None,
        ct_n=r.ct_n if r else None,
        tested_at=r.tested_at if r else None,
        revision=r.revision if r else 0,
        sampled_to_resulted_minutes=view.sampled_to_resulted_minutes,
        received_to_resulted_minutes=view.received_to_resulted_minutes,
        corrections=[
            CorrectionOut(
                old_result=c.old_result,
                new_result=c.new_result,
                old_ct_orf1ab=c.old_ct_orf1ab,
                old_ct_n=c.old_ct_n,
                new_ct_orf1ab=c.new_ct_orf1ab,
                new_ct_n=c.new_ct_n,
                reason=c.reason,
                actor=c.actor.username if c.actor else "",
                at=c.at,
            )
            for c in view.corrections
        ],
    )


@router.get(
    "/labs/turnaround",
    summary="List turnaround times per lab and round",
    response=Page[LabTurnaroundOut],
)
def lab_turnaround(
    request: AuthedRequest,
    paging: Query[PageQuery],
    round_id: int | None = Query(None, ge=1, le=ROW_ID_MAX),
) -> Page[LabTurnaroundOut]:
    """Median and p90 minutes, sampled → resulted and received → resulted, per lab and
    round (by lab id, then round id)."""
    page = sequence_page(
        selectors.turnaround_by_lab(user=request.user, round_id=round_id),
        key=lambda t: (t.lab_id, t.round_id),
        cursor=paging.cursor,
        size=paging.size,
    )
    return Page[LabTurnaroundOut].of(
        page,
        lambda t: LabTurnaroundOut(
            lab_id=t.lab_id,
            lab_name=t.lab_name,
            round_id=t.round_id,
            round_name=t.round_name,
            sampled_to_resulted=TurnaroundOut(**t.sampled_to_resulted.__dict__),
            received_to_resulted=TurnaroundOut(**t.received_to_resulted.__dict__),
        ),
    )


# --- holds and rechecks --------------------------------------------------------------------------


@router.get("/rechecks", summary="List rechecks", response=Page[RecheckOut])
def recheck_list(request: AuthedRequest, filters: Query[RecheckFilter]) -> Page[RecheckOut]:
    page = selectors.rechecks(
        user=request.user,
        status=filters.status,
        overdue=filters.overdue,
        cursor=filters.cursor,
        size=filters.size,
    )
    now = timezone.now()
    return Page[RecheckOut].of(page, lambda r: RecheckOut.from_recheck(r, now))


@router.get("/rechecks/{int:recheck_id}", summary="Get a recheck", response=RecheckOut)
def recheck_detail(request: AuthedRequest, recheck_id: int) -> RecheckOut:
    return RecheckOut.from_recheck(
        selectors.recheck_get(user=request.user, pk=recheck_id), timezone.now()
    )


@router.post(
    "/rechecks/{int:recheck_id}/sample",
    summary="Record a recheck's single-tube sample",
    response=RecheckOut,
)
def recheck_sample(request: AuthedRequest, recheck_id: int, payload: RecheckSampleIn) -> RecheckOut:
    """Record the single-tube recheck sample (its tube goes to the lab in its own box)."""
    recheck = selectors.recheck_get(user=request.user, pk=recheck_id)
    lab = selectors.lab_get(user=request.user, pk=payload.lab_id) if payload.lab_id else None
    recheck_services.recheck_record_sample(
        actor=request.user,
        recheck=recheck,
        barcode=payload.barcode,
        lab=lab,
        ip=client_address(request),
    )
    return RecheckOut.from_recheck(
        selectors.recheck_get(user=request.user, pk=recheck_id), timezone.now()
    )


@router.get("/holds", summary="List holds on persons of positive pools", response=Page[HoldOut])
def hold_list(request: AuthedRequest, filters: Query[HoldFilter]) -> Page[HoldOut]:
    page = selectors.holds(
        user=request.user, state=filters.state, cursor=filters.cursor, size=filters.size
    )
    return Page[HoldOut].of(page, HoldOut.from_hold)
