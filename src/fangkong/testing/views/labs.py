"""Pages of mass testing: labs — the sampler's packing page, the lab's receiving page,
the lab's results import, a tube's result with its corrections, and the community's and
town's rechecks and holds.

Thin views: selectors read (scoped, masked), services write. A refused action (bad
barcode, wrong state) comes back as a message on the same page; a permission or scope
refusal is a 403/404 page (web.middleware.DomainErrorMiddleware).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.permissions import has_capability, require
from fangkong.accounts.roles import Capability
from fangkong.accounts.types import AuthedRequest
from fangkong.core import jobs
from fangkong.core.errors import DomainError, NotFound
from fangkong.core.http import client_address
from fangkong.core.pages import JobQueryForm, refusal_message
from fangkong.core.pagination import shown_total
from fangkong.people.rules import mask_name
from fangkong.testing import tasks_labs
from fangkong.testing.forms import (
    BoxOpenForm,
    BoxReceiveForm,
    BoxTubesForm,
    HoldFilterForm,
    RecheckFilterForm,
    RecheckSampleForm,
    ResultsUploadForm,
    TubeLookupForm,
)
from fangkong.testing.models import HoldState, RecheckStatus
from fangkong.testing.selectors import labs as selectors
from fangkong.testing.services import actors, result_files
from fangkong.testing.services import boxes as box_services
from fangkong.testing.services import rechecks as recheck_services

# --- the sampler's boxes ------------------------------------------------------------------


BOX_LIST_MAX = 50


@require_http_methods(["GET", "POST"])
@login_required
def box_list(request: AuthedRequest) -> HttpResponse:
    """A sampler's boxes; POST opens a new box (scan its barcode, choose the lab)."""
    user = request.user
    require(user, Capability.BOX_MANAGE)
    if request.method == "POST":
        try:
            data = BoxOpenForm(request.POST).lenient()
            lab = selectors.lab_get(user=user, pk=data["lab"] or 0)
            box = box_services.box_create(
                actor=user,
                barcode=data["barcode"] or "",
                lab=lab,
                ip=client_address(request),
            )
        except DomainError as exc:
            refusal_message(request, exc)
            return redirect("testing:box_list")
        return redirect("testing:box_detail", pk=box.pk)
    boxes = selectors.boxes_of_point(user=user, limit=BOX_LIST_MAX)
    context = {
        "point": actors.point_of(user),
        "boxes": boxes,
        "total": shown_total(boxes, limit=BOX_LIST_MAX, qs=selectors.point_boxes(user=user)),
        "labs": selectors.labs_available(user=user),
    }
    return render(request, "testing/labs_box_list.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def box_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """One box: scan tubes into it (one or many barcodes, one a line), hand it over.

    Scanned tubes that can be packed are packed; each barcode that cannot is listed with
    its reason and left in the text area to correct or scan again (the page answers the
    POST itself then, 200 if some were packed, the refusal's 4xx if none were)."""
    user = request.user
    box = selectors.box_get(user=user, pk=pk)
    rejected: list[dict[str, str]] = []
    status = 200
    if request.method == "POST":
        try:
            data = BoxTubesForm(request.POST).cleaned()
            if data["action"] == "hand_over":
                box_services.box_hand_over(actor=user, box=box, ip=client_address(request))
                messages.success(request, _("转运箱已交接"))
            else:
                codes = [c for c in data["barcodes"].split() if c]
                report = box_services.box_add_tubes(
                    actor=user, box=box, barcodes=codes, ip=client_address(request)
                )
                packed = _("已装箱 %(added)d 管") % {"added": len(report.added)}
                if report.unchanged:
                    # Scanned again: already in this box, nothing changed for them.
                    packed += _("，另 %(unchanged)d 管原已在箱内") % {
                        "unchanged": len(report.unchanged)
                    }
                messages.success(request, packed)
                rejected = [
                    {"barcode": r.barcode, "code": r.code, "message": r.message}
                    for r in report.rejected
                ]
        except DomainError as exc:
            rejected = list(exc.detail.get("rejected") or [])
            if not rejected:
                refusal_message(request, exc)
            status = exc.status
        if not rejected:
            return redirect("testing:box_detail", pk=pk)
        box = selectors.box_get(user=user, pk=pk)
    context = {
        "box": box,
        "tubes": selectors.box_tube_barcodes(box=box),
        "can_pack": has_capability(user, Capability.BOX_MANAGE) and box.state == "packing",
        "rejected": rejected,
        "rescan": "\n".join(r["barcode"] for r in rejected),
        "packed_any": status == 200,
    }
    return render(request, "testing/labs_box_detail.html", context, status=status)


# --- the lab ------------------------------------------------------------------------------------


INCOMING_MAX = 100


@require_http_methods(["GET", "POST"])
@login_required
def box_receive(request: AuthedRequest) -> HttpResponse:
    """The lab's receiving page: scan a box's barcode (or press 接收 on an incoming box)."""
    user = request.user
    require(user, Capability.BOX_RECEIVE)
    if request.method == "POST":
        try:
            barcode = BoxReceiveForm(request.POST).cleaned()["barcode"]
            box = selectors.box_get(user=user, barcode=barcode)
            box = box_services.box_receive(actor=user, box=box, ip=client_address(request))
            messages.success(
                request,
                _("已接收转运箱 %(box)s，共 %(n)d 管")
                % {"box": box.barcode, "n": len(selectors.box_tube_barcodes(box=box))},
            )
        except NotFound:
            messages.error(request, _("转运箱不存在或不是送往本机构的"))
        except DomainError as exc:
            refusal_message(request, exc)
        return redirect("testing:box_receive")
    incoming = selectors.boxes_for_lab(user=user, state="handed_over", limit=INCOMING_MAX)
    context = {
        "lab": actors.lab_of(user),
        "incoming": incoming,
        "incoming_total": shown_total(
            incoming, limit=INCOMING_MAX, qs=selectors.lab_boxes(user=user, state="handed_over")
        ),
        "received": selectors.boxes_for_lab(user=user, state="received", limit=20),
    }
    return render(request, "testing/labs_box_receive.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def lab_results(request: AuthedRequest) -> HttpResponse:
    """Upload a results file (CSV or Excel): it is saved and imported by a background
    job, and the POST answers 303 to this page with `?job=` (a reload shows the job, it
    never imports again); the page shows its progress, then the bad rows by line, or
    what was applied, unchanged, corrected, and the positive pools held."""
    user = request.user
    require(user, Capability.RESULT_IMPORT)
    job = None
    lookup = TubeLookupForm(request.GET).lenient()["tube"] or ""
    if request.method == "GET" and lookup and "/" not in lookup:
        return redirect("testing:tube_result", barcode=lookup)
    job_id = JobQueryForm(request.GET).lenient()["job"]
    if request.method == "GET" and job_id is not None:
        job = jobs.job_get(user=user, job_id=job_id)
    if request.method == "POST":
        try:
            upload = ResultsUploadForm(request.POST, request.FILES).cleaned()["file"]
            job = tasks_labs.results_import_start(
                actor=user,
                data=upload.read(result_files.MAX_IMPORT_BYTES + 1),
                filename=upload.name or "",
                ip=client_address(request),
            )
        except DomainError as exc:
            refusal_message(request, exc)
            return redirect("testing:lab_results")
        return jobs.started_answer(job)
    context = {
        "lab": actors.lab_of(user),
        "imports": selectors.result_imports(user=user),
        "turnaround": selectors.turnaround_by_lab(user=user),
    }
    if job is not None:
        context.update(jobs.job_context(job))
    return render(request, "testing/labs_results.html", context)


@require_GET
@login_required
def tube_result(request: AuthedRequest, barcode: str) -> HttpResponse:
    view = selectors.tube_result_get(user=request.user, barcode=barcode)
    return render(request, "testing/labs_tube_result.html", {"view": view})


# --- rechecks and holds --------------------------------------------------------------------------


def _recheck_rows(items: list[Any]) -> list[dict[str, Any]]:
    now = timezone.now()
    open_states = (RecheckStatus.PENDING, RecheckStatus.SAMPLED)
    return [
        {
            "recheck": r,
            "name_masked": mask_name(r.person.name),
            "overdue": r.status in open_states and r.due_at < now,
            "open": r.status in open_states,
            "due_iso": r.due_at.isoformat(),
        }
        for r in items
    ]


@require_GET
@login_required
def recheck_list(request: AuthedRequest) -> HttpResponse:
    """Rechecks of the user's community / town with countdowns to their deadline."""
    user = request.user
    filters = RecheckFilterForm(request.GET).lenient()
    status = filters["status"] if filters["status"] in RecheckStatus.values else ""
    overdue = bool(filters["overdue"])
    page = selectors.rechecks(
        user=user,
        status=status or None,
        overdue=True if overdue else None,
        cursor=filters["cursor"] or None,
    )
    context = {
        "rows": _recheck_rows(page.items),
        "page": page,
        "counts": selectors.recheck_counts(user=user),
        "status": status,
        "overdue": overdue,
        "statuses": RecheckStatus.choices,
        "can_manage": has_capability(user, Capability.RECHECK_MANAGE),
        "labs": selectors.labs_available(user=user),
    }
    return render(request, "testing/labs_recheck_list.html", context)


@require_POST
@login_required
def recheck_sample(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    recheck = selectors.recheck_get(user=user, pk=pk)
    try:
        data = RecheckSampleForm(request.POST).cleaned()
        lab = selectors.lab_get(user=user, pk=data["lab"]) if data["lab"] else None
        recheck_services.recheck_record_sample(
            actor=user,
            recheck=recheck,
            barcode=data["barcode"],
            lab=lab,
            ip=client_address(request),
        )
        messages.success(request, _("已登记复核采样"))
    except DomainError as exc:
        refusal_message(request, exc)
    return redirect("testing:recheck_list")


@require_GET
@login_required
def hold_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    filters = HoldFilterForm(request.GET).lenient()
    state = filters["state"] if "state" in request.GET else HoldState.HELD
    state = state if state in HoldState.values else ""
    page = selectors.holds(user=user, state=state or None, cursor=filters["cursor"] or None)
    rows = [{"hold": h, "name_masked": mask_name(h.person.name)} for h in page.items]
    context = {"rows": rows, "page": page, "state": state, "states": HoldState.choices}
    return render(request, "testing/labs_hold_list.html", context)


urlpatterns: list[URLPattern] = [
    path("boxes/", box_list, name="box_list"),
    path("boxes/<int:pk>/", box_detail, name="box_detail"),
    path("lab/receive/", box_receive, name="box_receive"),
    path("lab/results/", lab_results, name="lab_results"),
    path("tubes/<str:barcode>/result/", tube_result, name="tube_result"),
    path("rechecks/", recheck_list, name="recheck_list"),
    path("rechecks/<int:pk>/sample/", recheck_sample, name="recheck_sample"),
    path("holds/", hold_list, name="hold_list"),
]
