"""Tracing pages: transmission chains (graph, a case's chain, a case's map), clusters and
the upload of venue-scan logs.

Views are thin: selectors read (scoped), services write (permission, scope, audit). The
case page (cases part) loads `case_chain` and `case_map` by htmx; their forms post back
to the fragment, which re-renders in place with the outcome or the DomainError message.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.permissions import has_capability, require
from fangkong.accounts.roles import Capability
from fangkong.accounts.types import AuthedRequest
from fangkong.core import jobs
from fangkong.core.errors import DomainError, NotFound, PermissionDenied
from fangkong.core.http import client_address
from fangkong.core.pages import JobQueryForm
from fangkong.core.pagination import shown_total
from fangkong.scans import ingest
from fangkong.scans import tasks as scan_tasks
from fangkong.tracing.forms import (
    ChainActionForm,
    ChainFilterForm,
    ClusterCaseForm,
    ClusterForm,
    ScanImportForm,
)
from fangkong.tracing.models import Case
from fangkong.tracing.selectors import chains as selectors
from fangkong.tracing.services import chains as services


def case_url(pk: int) -> str | None:
    """The case page, when the cases part has wired it (resolved defensively)."""
    try:
        return reverse("tracing:case_detail", args=[pk])
    except NoReverseMatch:
        return None


# --- The chain graph ------------------------------------------------------------------


@require_GET
@login_required
def chain_graph(request: AuthedRequest) -> HttpResponse:
    user = request.user
    filters = ChainFilterForm(request.GET).lenient()
    case_id, cluster_id = filters["case"], filters["cluster"]
    number = filters["number"] or ""
    error = None
    case = cluster = None
    try:
        if number:
            case = selectors.case_by_number(user=user, number=number)
        elif case_id:
            case = selectors.case_for_chain(user=user, pk=case_id)
        if cluster_id:
            cluster = selectors.cluster_get(user=user, pk=cluster_id)
    except NotFound as exc:
        error = exc.message
    # The filter form always sends `number`; its unchecked box then means "no contacts".
    submitted = "number" in request.GET or "cluster" in request.GET
    include_contacts = bool(filters["contacts"]) if submitted else True
    graph = selectors.chain_graph(
        user=user, case=case, cluster=cluster, include_contacts=include_contacts
    )
    case_link = case_url(0)
    config = {
        "graph": graph,
        "case_url": case_link.replace("/0/", "/{id}/") if case_link else None,
        "labels": {
            "case": _("病例"),
            "close": _("密切接触者"),
            "secondary": _("密接的密接"),
            "other": _("其他接触者"),
            "generation": _("代"),
            "source_unknown": _("来源不明"),
            "infection": _("传播"),
            "exposure": _("暴露"),
            "empty": _("没有可显示的病例"),
            "expand": _("点击展开为人员"),
            "collapse": _("点击收起"),
        },
    }
    return render(
        request,
        "tracing/chain_graph.html",
        {
            "config": config,
            "graph": graph,
            "case": case,
            "cluster": cluster,
            "number": number or (case.number if case else ""),
            "include_contacts": include_contacts,
            "clusters": selectors.clusters(user=user, limit=200),
            "error": error,
            "can_import": has_capability(user, Capability.SCANS_IMPORT),
        },
    )


# --- A case's chain (fragment for the case page) --------------------------------------


def _chain_fragment(
    request: AuthedRequest,
    case: Case,
    *,
    error: str | None = None,
    status: int = 200,
    typed: dict[str, str] | None = None,
) -> HttpResponse:
    user = request.user
    chain = selectors.case_chain(user=user, case=case)
    can_manage = has_capability(user, Capability.CASE_MANAGE)

    def row(link: Any, other: Case) -> dict[str, Any]:
        return {
            "link": link,
            "label": selectors.case_label(other),
            "url": case_url(other.pk),
            "graph": f"{reverse('tracing:chain_graph')}?case={other.pk}",
        }

    return render(
        request,
        "tracing/_case_chain.html",
        {
            "case": case,
            "chain": chain,
            "infected_by": [row(link, link.infector) for link in chain.infected_by],
            "infected": [row(link, link.infectee) for link in chain.infected],
            "can_manage": can_manage,
            "clusters": selectors.clusters(user=user, limit=200) if can_manage else [],
            "error": error,
            "typed": typed or {},
        },
        status=status,
    )


@require_GET
@login_required
def case_chain(request: AuthedRequest, pk: int) -> HttpResponse:
    case = selectors.case_for_chain(user=request.user, pk=pk)
    return _chain_fragment(request, case)


@require_POST
@login_required
def case_chain_action(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    """One form of the chain fragment: link, unlink, cluster, source_unknown."""
    user = request.user
    case = selectors.case_for_chain(user=user, pk=pk)
    require(user, Capability.CASE_MANAGE)
    ip = client_address(request)
    try:
        data = ChainActionForm(request.POST).cleaned()
        if action == "link":
            infector = selectors.case_by_number(user=user, number=data["infector"])
            services.case_link_create(
                actor=user,
                infector=infector,
                infectee=case,
                evidence=data["evidence"],
                ip=ip,
            )
        elif action == "unlink":
            link = selectors.case_link_get(user=user, pk=data["link"] or 0)
            if case.pk not in (link.infector_id, link.infectee_id):
                raise NotFound("not_found", _("未找到或不在您的辖区内"), object="case_link")
            services.case_link_delete(actor=user, link=link, ip=ip)
        elif action == "cluster":
            cluster = selectors.cluster_get(user=user, pk=data["cluster"] or 0)
            services.cluster_add_case(actor=user, cluster=cluster, case=case, ip=ip)
        elif action == "source_unknown":
            services.case_set_source_unknown(actor=user, case=case, unknown=data["unknown"], ip=ip)
        else:
            raise Http404
    except DomainError as exc:
        if isinstance(exc, PermissionDenied):
            raise
        case = selectors.case_for_chain(user=user, pk=pk)
        typed = ChainActionForm(request.POST).echo(limit=200) if action == "link" else None
        return _chain_fragment(request, case, error=exc.message, status=exc.status, typed=typed)
    case = selectors.case_for_chain(user=user, pk=pk)
    return _chain_fragment(request, case)


# --- A case's map (fragment) ----------------------------------------------------------


@require_GET
@login_required
def case_map(request: AuthedRequest, pk: int) -> HttpResponse:
    case = selectors.case_for_chain(user=request.user, pk=pk)
    config = {
        "stops_url": f"/api/tracing/cases/{case.pk}/stops.geojson",
        "outline_url": "/api/areas/map.geojson?level=town",
        "labels": {
            "empty": _("暂无带坐标的轨迹点"),
            "failed": _("地图数据加载失败"),
            "unlocated": _("无坐标的轨迹点"),
        },
    }
    return render(
        request,
        "tracing/_case_map.html",
        {
            "case": case,
            "config": config,
            "map_id": f"case-map-{case.pk}",
            "config_id": f"case-map-{case.pk}-config",
        },
    )


# --- Clusters -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def cluster_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    error = None
    if request.method == "POST":
        try:
            data = ClusterForm(request.POST).cleaned()
            cluster = services.cluster_create(
                actor=user,
                name=data["name"],
                description=data["description"],
                ip=client_address(request),
            )
            return redirect("tracing:cluster_detail", pk=cluster.pk)
        except DomainError as exc:
            if isinstance(exc, PermissionDenied):
                raise
            error = exc.message
    rows = selectors.clusters(user=user)
    return render(
        request,
        "tracing/cluster_list.html",
        {
            "rows": rows,
            "total": shown_total(
                rows, limit=selectors.CLUSTER_LIST_MAX, qs=selectors.clusters_in_scope(user=user)
            ),
            "can_manage": has_capability(user, Capability.CASE_MANAGE),
            "error": error,
        },
        status=400 if error else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
def cluster_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    cluster = selectors.cluster_get(user=user, pk=pk)
    error = None
    typed = ""
    if request.method == "POST":
        typed = ClusterCaseForm(request.POST).echo(limit=100)["number"]
        try:
            number = ClusterCaseForm(request.POST).cleaned()["number"]
            case = selectors.case_by_number(user=user, number=number)
            services.cluster_add_case(
                actor=user, cluster=cluster, case=case, ip=client_address(request)
            )
            return redirect("tracing:cluster_detail", pk=cluster.pk)
        except DomainError as exc:
            if isinstance(exc, PermissionDenied):
                raise
            error = exc.message
    cases = selectors.cluster_cases(user=user, cluster=cluster)
    generations = {
        n["case_id"]: n["generation"]
        for n in selectors.chain_graph(user=user, cluster=cluster, include_contacts=False)["nodes"]
    }
    rows = [
        {
            "case": c,
            "label": selectors.case_label(c),
            "url": case_url(c.pk),
            "generation": generations.get(c.pk),
        }
        for c in cases
    ]
    return render(
        request,
        "tracing/cluster_detail.html",
        {
            "cluster": cluster,
            "rows": rows,
            "can_manage": has_capability(user, Capability.CASE_MANAGE),
            "error": error,
            "typed_number": typed if error else "",
        },
        status=400 if error else 200,
    )


# --- Upload of scan logs --------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def scan_import(request: AuthedRequest) -> HttpResponse:
    """Upload a scan log: saved, then ingested by a background job, and the POST answers
    303 to this page with `?job=` (a reload shows the job, it never imports again); the
    page shows its progress, then the report with the bad rows by line. A file refused
    before any job (none chosen, too large) is shown here at once (400)."""
    user = request.user
    require(user, Capability.SCANS_IMPORT)
    job = None
    error: DomainError | None = None
    job_id = JobQueryForm(request.GET).lenient()["job"]
    if request.method == "GET" and job_id is not None:
        job = jobs.job_get(user=user, job_id=job_id)
    if request.method == "POST":
        try:
            data = ScanImportForm(request.POST, request.FILES).cleaned()
            job = scan_tasks.scans_import_start(
                actor=user,
                upload=data["file"],
                strict=data["strict"],
                ip=client_address(request),
            )
        except DomainError as exc:
            if isinstance(exc, PermissionDenied):
                raise
            error = exc
        else:
            return jobs.started_answer(job)
    status = error.status if error else 200
    context: dict[str, Any] = {
        "error": error,
        "history": ingest.scan_imports_recent(user=user, limit=20),
    }
    if job is not None:
        context.update(jobs.job_context(job))
    return render(request, "tracing/scan_import.html", context, status=status)


urlpatterns: list[URLPattern] = [
    path("chains/", chain_graph, name="chain_graph"),
    path("cases/<int:pk>/chain/", case_chain, name="case_chain"),
    path(
        "cases/<int:pk>/chain/<slug:action>/",
        case_chain_action,
        name="case_chain_action",
    ),
    path("cases/<int:pk>/map/", case_map, name="case_map"),
    path("clusters/", cluster_list, name="cluster_list"),
    path("clusters/<int:pk>/", cluster_detail, name="cluster_detail"),
    path("scans/import/", scan_import, name="scan_import"),
]
