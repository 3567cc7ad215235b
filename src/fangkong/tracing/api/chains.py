"""Tracing API: transmission chains, clusters, the chain graph, a case's stops, and the
ingestion of venue-scan logs.

Thin endpoints: selectors read (scoped), services write (permission, scope, audit);
DomainErrors become {code, message, detail}. Case ids named in a request body that do not
exist or lie outside the user's jurisdiction are bad input (400 `unknown_case`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.http import HttpResponse, JsonResponse
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from fangkong.accounts.types import AuthedRequest
from fangkong.core.api import JobOut, job_accepted
from fangkong.core.apitypes import Page, PageQuery
from fangkong.core.errors import DomainError, NotFound
from fangkong.core.http import client_address
from fangkong.core.pagination import keyset_page
from fangkong.scans import ingest
from fangkong.scans import tasks as scan_tasks
from fangkong.tracing.models import Case, CaseLink, Cluster
from fangkong.tracing.selectors import chains as selectors
from fangkong.tracing.services import chains as services

if TYPE_CHECKING:
    from fangkong.scans.models import ScanImport

router = Router()

TEXT_INPUT_MAX = 8000


class CaseLinkIn(Schema):
    infector: int
    infectee: int
    evidence: str = Field("", max_length=TEXT_INPUT_MAX)


class CaseLinkOut(Schema):
    id: int
    infector: int
    infector_number: str
    infectee: int
    infectee_number: str
    evidence: str
    created_at: dt.datetime

    @staticmethod
    def of(link: CaseLink) -> CaseLinkOut:
        return CaseLinkOut(
            id=link.pk,
            infector=link.infector_id,
            infector_number=link.infector.number,
            infectee=link.infectee_id,
            infectee_number=link.infectee.number,
            evidence=link.evidence,
            created_at=link.created_at,
        )


class ClusterIn(Schema):
    name: str = Field(..., max_length=1000)
    description: str = Field("", max_length=TEXT_INPUT_MAX)


class ClusterOut(Schema):
    id: int
    name: str
    description: str
    cases: int
    created_at: dt.datetime

    @staticmethod
    def of(cluster: Cluster, cases: int) -> ClusterOut:
        return ClusterOut(
            id=cluster.pk,
            name=cluster.name,
            description=cluster.description,
            cases=cases,
            created_at=cluster.created_at,
        )


class ClusterCaseIn(Schema):
    case: int


class ClusterCaseOut(Schema):
    cluster: int
    case: int
    case_number: str


class SourceUnknownIn(Schema):
    unknown: bool


class SourceUnknownOut(Schema):
    case: int
    source_unknown: bool


class BadRowOut(Schema):
    line: int
    code: str
    message: str
    value: str


class ScanImportReportOut(Schema):
    import_id: int | None
    name: str
    sha256: str
    fmt: str
    strict: bool
    rows: int
    added: int
    duplicates: int
    bad: int
    bad_rows: list[BadRowOut]
    already_imported: bool


class ScanImportOut(Schema):
    id: int
    name: str
    sha256: str
    fmt: str
    rows: int
    added: int
    duplicates: int
    bad: int
    actor: str | None
    at: dt.datetime

    @staticmethod
    def of(row: ScanImport) -> ScanImportOut:
        return ScanImportOut(
            id=row.pk,
            name=row.name,
            sha256=row.sha256,
            fmt=row.fmt,
            rows=row.rows,
            added=row.added,
            duplicates=row.duplicates,
            bad=row.bad,
            actor=row.actor.username if row.actor else None,
            at=row.at,
        )


def _case_in_body(request: AuthedRequest, pk: int, field: str) -> Case:
    try:
        return selectors.case_for_chain(user=request.user, pk=pk)
    except NotFound as exc:
        raise DomainError("unknown_case", "病例不存在或不在您的辖区内", field=field) from exc


# --- Links ----------------------------------------------------------------------------


@router.post(
    "/case-links", response={201: CaseLinkOut}, summary="Link an infector case to an infectee case"
)
def case_link_create(request: AuthedRequest, payload: CaseLinkIn) -> Status:
    link = services.case_link_create(
        actor=request.user,
        infector=_case_in_body(request, payload.infector, "infector"),
        infectee=_case_in_body(request, payload.infectee, "infectee"),
        evidence=payload.evidence,
        ip=client_address(request),
    )
    return Status(201, CaseLinkOut.of(link))


@router.delete("/case-links/{link_id}", response={204: None}, summary="Delete a transmission link")
def case_link_delete(request: AuthedRequest, link_id: int) -> Status:
    link = selectors.case_link_get(user=request.user, pk=link_id)
    services.case_link_delete(actor=request.user, link=link, ip=client_address(request))
    return Status(204, None)


@router.post(
    "/cases/{case_id}/source-unknown",
    response=SourceUnknownOut,
    summary="Mark a case's source as unknown",
)
def case_source_unknown(
    request: AuthedRequest, case_id: int, payload: SourceUnknownIn
) -> SourceUnknownOut:
    case = selectors.case_for_chain(user=request.user, pk=case_id)
    services.case_set_source_unknown(
        actor=request.user, case=case, unknown=payload.unknown, ip=client_address(request)
    )
    return SourceUnknownOut(case=case.pk, source_unknown=case.source_unknown)


# --- Clusters -------------------------------------------------------------------------


@router.get("/clusters", response=Page[ClusterOut], summary="List clusters")
def cluster_list(request: AuthedRequest, paging: Query[PageQuery]) -> Page[ClusterOut]:
    page = keyset_page(
        selectors.clusters_in_scope(user=request.user),
        cursor=paging.cursor,
        size=paging.size,
        order=selectors.CLUSTER_ORDER,
    )
    return Page[ClusterOut].of(page, lambda c: ClusterOut.of(c, c.n))


@router.post("/clusters", response={201: ClusterOut}, summary="Create a cluster")
def cluster_create(request: AuthedRequest, payload: ClusterIn) -> Status:
    cluster = services.cluster_create(
        actor=request.user,
        name=payload.name,
        description=payload.description,
        ip=client_address(request),
    )
    return Status(201, ClusterOut.of(cluster, 0))


@router.post(
    "/clusters/{cluster_id}/cases",
    response=ClusterCaseOut,
    summary="Add a case to a cluster",
)
def cluster_add_case(
    request: AuthedRequest, cluster_id: int, payload: ClusterCaseIn
) -> ClusterCaseOut:
    cluster = selectors.cluster_get(user=request.user, pk=cluster_id)
    case = _case_in_body(request, payload.case, "case")
    services.cluster_add_case(
        actor=request.user, cluster=cluster, case=case, ip=client_address(request)
    )
    return ClusterCaseOut(cluster=cluster.pk, case=case.pk, case_number=case.number)


# --- Graph and map --------------------------------------------------------------------


@router.get("/graph", response=dict[str, Any], summary="Get the transmission chain graph")
def chain_graph(
    request: AuthedRequest,
    case: int | None = None,
    cluster: int | None = None,
    include_contacts: bool = True,
    limit: int = selectors.GRAPH_LIMIT,
) -> dict[str, Any]:
    return selectors.chain_graph(
        user=request.user,
        case=selectors.case_for_chain(user=request.user, pk=case) if case else None,
        cluster=selectors.cluster_get(user=request.user, pk=cluster) if cluster else None,
        include_contacts=include_contacts,
        limit=limit,
    )


@router.get(
    "/cases/{case_id}/stops.geojson",
    response=dict[str, Any],
    summary="Map of a case's itinerary (GeoJSON)",
)
def case_stops(request: AuthedRequest, case_id: int) -> HttpResponse:
    case = selectors.case_for_chain(user=request.user, pk=case_id)
    return JsonResponse(
        selectors.case_stops_geojson(user=request.user, case=case),
        content_type="application/geo+json",
        json_dumps_params={"ensure_ascii": False},
    )


# --- Scan-log ingestion ---------------------------------------------------------------


@router.post(
    "/scan-imports",
    response={202: JobOut},
    summary="Import a venue scan log file as a background job",
)
def scan_import_upload(
    request: AuthedRequest,
    file: File[UploadedFile],
    strict: Form[bool] = False,
) -> Status[JobOut]:
    """The file is saved and ingested by a background job: 202 and the job (poll GET
    /api/jobs/{id}); done, its `result` is the import report with the bad rows by line;
    in strict mode a bad row fails it (`import_bad_rows`, rows in `error_detail`)."""
    job = scan_tasks.scans_import_start(
        actor=request.user, upload=file, strict=strict, ip=client_address(request)
    )
    return job_accepted(job)


@router.get("/scan-imports", response=Page[ScanImportOut], summary="List venue scan log imports")
def scan_import_history(request: AuthedRequest, paging: Query[PageQuery]) -> Page[ScanImportOut]:
    page = keyset_page(
        ingest.scan_imports(user=request.user),
        cursor=paging.cursor,
        size=paging.size,
        order=ingest.SCAN_IMPORT_ORDER,
    )
    return Page[ScanImportOut].of(page, ScanImportOut.of)
