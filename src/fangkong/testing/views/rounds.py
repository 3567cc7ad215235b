"""Pages of mass testing: rounds (list, create, detail with the planner and the pool-size
advisor, open, close). Thin views: selectors read (scoped), services write; a refusal of
the role (403) or an object outside the jurisdiction (404) escapes to the
DomainErrorMiddleware, other refusals are shown on the form."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.permissions import has_capability, in_scope, require, scope_path
from fangkong.accounts.roles import Capability
from fangkong.accounts.types import AuthedRequest
from fangkong.areas import selectors as area_selectors
from fangkong.areas.choices import ZoneState
from fangkong.core import jobs
from fangkong.core.errors import DomainError, NotFound, PermissionDenied
from fangkong.core.http import client_address
from fangkong.core.pages import JobQueryForm
from fangkong.core.pagination import shown_total
from fangkong.core.paths import is_under, town_of
from fangkong.testing import tasks_rounds
from fangkong.testing.forms import AdviceForm, RoundCreateForm, RoundFilterForm
from fangkong.testing.models import RoundStatus, SealedPooling, SupplyKind
from fangkong.testing.rules import rounds as rules
from fangkong.testing.selectors import rounds as selectors
from fangkong.testing.selectors import supplies as supply_selectors
from fangkong.testing.services import rounds as services
from fangkong.testing.views.coverage import list_scope

if TYPE_CHECKING:
    from fangkong.accounts.models import User

DEFAULT_PREVALENCE_PERCENT = 1.0
ZONE_LEVEL_LABELS = {
    "sealed": gettext_lazy("封控区"),
    "controlled": gettext_lazy("管控区"),
    "precaution": gettext_lazy("防范区"),
    "none": gettext_lazy("风险区外"),
}


ROUND_LIST_MAX = 200


@require_GET
@login_required
def round_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    status = RoundFilterForm(request.GET).lenient()["status"] or ""
    status = status if status in RoundStatus.values else ""
    rounds = selectors.rounds(user=user, status=status or None)
    rows = list(rounds[:ROUND_LIST_MAX])
    return render(
        request,
        "testing/rounds_list.html",
        {
            "rows": rows,
            "total": shown_total(rows, limit=ROUND_LIST_MAX, qs=rounds),
            "status": status,
            "statuses": RoundStatus.choices,
            "scope": list_scope(user, rows),
            "can_manage": has_capability(user, Capability.ROUND_MANAGE),
            "low_stock": (
                supply_selectors.low_stock_count(user=user)
                if has_capability(user, Capability.SUPPLY_VIEW)
                else None
            ),
        },
    )


def _town_groups(towns: list[Any], communities: list[Any]) -> list[dict[str, Any]]:
    """The scope's choices grouped by town, [{town, communities}], in the towns' order; a
    community whose town is not offered (a town staff's own) comes in a group without one."""
    groups = [{"town": t, "communities": []} for t in towns]
    by_path = {t.path: g for t, g in zip(towns, groups, strict=True)}
    loose: list[Any] = []
    for c in communities:
        group = by_path.get(town_of(c.path))
        (group["communities"] if group else loose).append(c)
    if loose:
        groups.append({"town": None, "communities": loose})
    return groups


def _choices(user: User) -> dict[str, Any]:
    own = scope_path(user)
    towns = [
        t
        for t in area_selectors.jurisdictions(user=user, level="town")
        if is_under(t.path, own) or is_under(own, t.path)
    ]
    communities = [
        c
        for c in area_selectors.jurisdictions(user=user, level="community")
        if is_under(c.path, own)
    ]
    zones = [
        z
        for z in area_selectors.zones(user=user, state=ZoneState.ACTIVE)
        if is_under(z.jurisdiction_path, own)
    ]
    towns = [t for t in towns if in_scope(user, t.path)]
    return {
        "town_groups": _town_groups(towns, communities),
        "zones": zones,
        "sealed_poolings": SealedPooling.choices,
    }


@require_http_methods(["GET", "POST"])
@login_required
def round_create(request: AuthedRequest) -> HttpResponse:
    user = request.user
    require(user, Capability.ROUND_MANAGE)
    error: DomainError | None = None
    more_errors: list[str] = []
    form: dict[str, Any] = {
        "name": "",
        "starts_at": timezone.localtime()
        .replace(second=0, microsecond=0)
        .strftime("%Y-%m-%dT%H:%M"),
        "sealed_pooling": SealedPooling.SINGLE,
        "jurisdictions": [],
        "zones": [],
    }
    if request.method == "POST":
        round_form = RoundCreateForm(request.POST)
        typed = round_form.echo(limit=300)
        form = {  # what was typed, to fill the form in again
            "name": typed["name"],
            "starts_at": typed["starts_at"][:40],
            "sealed_pooling": typed["sealed_pooling"] or SealedPooling.SINGLE,
            "jurisdictions": request.POST.getlist("jurisdictions")[:500],
            "zones": request.POST.getlist("zones")[:200],
        }
        try:
            data = round_form.cleaned()
            jurisdictions = area_selectors.jurisdictions_resolve(
                user=user, pks=data["jurisdictions"]
            )
            zones = [_zone(user, pk) for pk in data["zones"]]
            rnd = services.round_create(
                actor=user,
                name=data["name"],
                jurisdictions=jurisdictions,
                zones=zones,
                starts_at=data["starts_at"],
                sealed_pooling=data["sealed_pooling"] or SealedPooling.SINGLE,
                ip=client_address(request),
            )
        except (PermissionDenied, NotFound):
            raise
        except DomainError as exc:
            error = exc
            # Every field's refusal, not only the first one's.
            more_errors = [m for m in round_form.messages().values() if m != exc.message]
        else:
            messages.success(request, _("已创建轮次"))
            return redirect("testing:round_detail", pk=rnd.pk)
    context = {"form": form, "error": error, "more_errors": more_errors, **_choices(user)}
    return render(request, "testing/rounds_create.html", context, status=400 if error else 200)


def _zone(user: User, pk: int) -> Any:
    try:
        return area_selectors.zone_get(user=user, pk=pk)
    except NotFound as exc:
        raise DomainError("unknown_zone", _("风险区不存在"), id=pk) from exc


def _advice_context(query: Any) -> dict[str, Any]:
    form = AdviceForm(query)
    try:
        prevalence = form.cleaned()["prevalence"]
    except DomainError as exc:
        return {
            "advice": None,
            "prevalence_percent": form.echo(limit=20)["prevalence"],
            "advice_error": exc.message,
        }
    percent = DEFAULT_PREVALENCE_PERCENT if prevalence is None else prevalence
    advice = rules.best_pool_size(percent / 100)
    curve = rules.advice_curve(percent / 100)
    return {
        "advice": advice,
        "prevalence_percent": f"{percent:g}",
        "advice_error": "",
        "advice_rows": [
            {"k": k, "e": e, "best": k == advice.pool_size}
            for k, e in curve
            if k in {1, 5, 10, 15, 20, 30, 50} or k == advice.pool_size
        ],
    }


@require_GET
@login_required
def round_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    rnd = selectors.round_get(user=user, pk=pk)
    plan = selectors.planner(user=user, rnd=rnd)
    manage = has_capability(user, Capability.ROUND_MANAGE) and in_scope(user, rnd.jurisdiction_path)
    kinds = dict(SupplyKind.choices)
    sizes = sorted(plan.total.by_pool_size)
    context = {
        "round": rnd,
        "scope": selectors.round_scope_labels(rnd=rnd),
        "plan": plan,
        "pool_sizes": sizes,
        "planner_rows": [
            {
                "row": row,
                "persons": [row.by_pool_size.get(k, 0) for k in sizes],
                "tubes": [(k, row.tubes.get(k, 0)) for k in sizes],
            }
            for row in plan.rows
        ],
        "zone_levels": [
            (label, plan.total.by_zone_level[key])
            for key, label in ZONE_LEVEL_LABELS.items()
            if key in plan.total.by_zone_level
        ],
        "supply_rows": [
            {
                "kind": kind,
                "label": kinds.get(kind, kind),
                "needed": need,
                "on_hand": have,
                "short": max(0, need - have),
            }
            for kind, (need, have) in plan.total.supplies.items()
        ],
        "can_open": manage and rnd.status == RoundStatus.PLANNED,
        "can_close": manage and rnd.status == RoundStatus.OPEN,
        "can_see_supplies": has_capability(user, Capability.SUPPLY_VIEW),
        **_advice_context(request.GET),
    }
    job_id = JobQueryForm(request.GET).lenient()["job"]
    if job_id is not None:
        job = jobs.job_get(user=user, job_id=job_id)
        context.update(jobs.job_context(job))
    return render(request, "testing/rounds_detail.html", context)


@require_GET
@login_required
def pool_advice(request: AuthedRequest) -> HttpResponse:
    """The advisor's answer for an estimated prevalence (htmx swaps it in place)."""
    require(request.user, Capability.ROUND_VIEW)
    context = _advice_context(request.GET)
    status = 400 if context["advice_error"] else 200
    return render(request, "testing/_rounds_advice.html", context, status=status)


@require_POST
@login_required
def round_open(request: AuthedRequest, pk: int) -> HttpResponse:
    """Open the round by a background job, and 303 to the round's page with `?job=`:
    its progress, then the targets counted (or why it failed); a reload never opens it
    again."""
    job = tasks_rounds.round_open_start(actor=request.user, round_id=pk, ip=client_address(request))
    return jobs.started_answer(job)


@require_POST
@login_required
def round_close(request: AuthedRequest, pk: int) -> HttpResponse:
    rnd = selectors.round_get(user=request.user, pk=pk)
    services.round_close(actor=request.user, round=rnd, ip=client_address(request))
    messages.success(request, _("轮次已结束"))
    return redirect("testing:round_detail", pk=pk)


urlpatterns: list[URLPattern] = [
    path("rounds/", round_list, name="round_list"),
    path("rounds/new/", round_create, name="round_create"),
    path("rounds/<int:pk>/", round_detail, name="round_detail"),
    path("rounds/<int:pk>/open/", round_open, name="round_open"),
    path("rounds/<int:pk>/close/", round_close, name="round_close"),
    path("rounds/advice/", pool_advice, name="pool_advice"),
]
