"""Pages of mass testing: coverage (应检尽检 / 愿检尽检).

- coverage_rounds      the rounds whose coverage the user may see
- coverage_dashboard   a round's dashboard: figures, ECharts by town and by hour, the
                       table per town; `coverage_live` is its htmx-polled fragment
- coverage_town        one town's communities
- coverage_untested    one community's untested persons (masked, keyset pages), with
                       the Excel export (`coverage_untested_export`: GET masked, POST
                       reveal=1 in clear, audited)

Thin views: the selectors scope and count, the service exports and audits.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from fangkong.accounts.permissions import has_capability, scope_path
from fangkong.accounts.roles import Capability
from fangkong.accounts.types import AuthedRequest
from fangkong.areas import selectors as area_selectors
from fangkong.core import jobs
from fangkong.core.http import client_address
from fangkong.core.pages import JobQueryForm
from fangkong.core.paths import community_of, is_under, town_of
from fangkong.people.rules import mask_name
from fangkong.testing import tasks_coverage
from fangkong.testing.forms import CursorForm, RevealForm
from fangkong.testing.models import Round
from fangkong.testing.selectors import coverage as selectors

if TYPE_CHECKING:
    from fangkong.accounts.models import User

POLL_SECONDS = 30
FIGURES_CACHE_SECONDS = 20


def _chart_config(coverage: selectors.Coverage, hours: list[selectors.HourPoint]) -> dict:
    return {
        "towns": [
            {
                "name": row.name,
                "path": row.path,
                "target": row.counts.target,
                "sampled": row.counts.sampled,
                "resulted": row.counts.resulted,
            }
            for row in coverage.rows
        ],
        "hours": [
            {
                "hour": f"{timezone.localtime(p.hour):%m-%d %H:00}",
                "samples": p.samples,
                "cumulative": p.cumulative,
            }
            for p in hours
        ],
        "labels": {
            "target": _("应检人数"),
            "sampled": _("已采样"),
            "resulted": _("已出结果"),
            "samples": _("每小时采样"),
            "cumulative": _("累计采样"),
        },
    }


def _own_community(user: User) -> str | None:
    """The community of a user bound to a community (or one of its grids)."""
    own = scope_path(user)
    return community_of(own) or None


def _dashboard_figures(user: User, rnd: Round) -> dict[str, Any]:
    """The dashboard's figures for the user's jurisdiction, computed at most once per
    FIGURES_CACHE_SECONDS per round and jurisdiction: every user of one scope polling
    the page shares one computation (a city round of a million persons costs seconds)."""
    key = f"testing:coverage:dashboard:{selectors.round_stamp(rnd)}:{scope_path(user)}"
    figures = cache.get(key)
    if figures is None:
        coverage = selectors.round_coverage(user=user, rnd=rnd, by="town")
        hours = selectors.samples_by_hour(user=user, rnd=rnd)
        figures = {"coverage": coverage, "hours": hours, "computed_at": timezone.now()}
        cache.set(key, figures, FIGURES_CACHE_SECONDS)
    return figures


def _dashboard_context(request: AuthedRequest, rnd: Round) -> dict[str, Any]:
    figures = _dashboard_figures(request.user, rnd)
    coverage = figures["coverage"]
    coverage.round = rnd
    return {
        "round": rnd,
        "coverage": coverage,
        "totals": coverage.totals,
        "chart_config": _chart_config(coverage, figures["hours"]),
        "computed_at": timezone.localtime(figures["computed_at"]),
        "poll_seconds": POLL_SECONDS,
        "own_community": _own_community(request.user),
        "scope": _scope(request.user, rnd),
    }


def _scope(user: User, rnd: Round | None = None) -> dict[str, Any]:
    """The user's jurisdiction, whose share of a round every figure is: its name, and
    whether it is narrower than the round's (then the page says the figures are a share)."""
    return {
        "name": selectors.scope_name(user=user),
        "partial": rnd is not None and _is_share(user, rnd),
    }


def list_scope(user: User, rounds: list[Round]) -> dict[str, Any]:
    """The scope note of a list of rounds: the user's jurisdiction, and whether any round's
    figure is only her share of it (the rounds list and the coverage list say so alike)."""
    return {
        "name": selectors.scope_name(user=user),
        "partial": any(_is_share(user, r) for r in rounds),
    }


def _is_share(user: User, rnd: Round) -> bool:
    """Whether the user's jurisdiction lies strictly inside the round's: then what she
    sees is her share of the round, not the whole."""
    own = scope_path(user)
    path = rnd.jurisdiction.path
    return bool(own) and own != path and is_under(own, path)


def _rounds_totals(user: User, rounds: list[Round]) -> dict[int, selectors.Counts]:
    """The list's figures of a page of rounds in the user's scope, shared by every user of
    the scope for FIGURES_CACHE_SECONDS (the key names each round's state), as the
    dashboard's figures are."""
    stamps = ",".join(selectors.round_stamp(r) for r in rounds)
    digest = hashlib.sha256(stamps.encode()).hexdigest()[:32]
    key = f"testing:coverage:totals:{scope_path(user)}:{digest}"
    totals = cache.get(key)
    if totals is None:
        totals = selectors.rounds_totals(user=user, rounds=rounds)
        cache.set(key, totals, FIGURES_CACHE_SECONDS)
    return totals  # type: ignore[no-any-return]


@require_GET
@login_required
def coverage_rounds(request: AuthedRequest) -> HttpResponse:
    cursor = CursorForm(request.GET).cleaned()["cursor"] or None
    user = request.user
    page = selectors.coverage_rounds(user=user, cursor=cursor)
    totals = _rounds_totals(user, list(page.items))
    rows = [{"round": rnd, "totals": totals[rnd.pk]} for rnd in page.items]
    return render(
        request,
        "testing/coverage_rounds.html",
        {
            "page": page,
            "rows": rows,
            "own_community": _own_community(user),
            "scope": _scope(user),
            "scope_partial": any(_is_share(user, r) for r in page.items),
        },
    )


@require_GET
@login_required
def coverage_dashboard(request: AuthedRequest, pk: int) -> HttpResponse:
    rnd = selectors.coverage_round_get(user=request.user, pk=pk)
    return render(request, "testing/coverage_dashboard.html", _dashboard_context(request, rnd))


@require_GET
@login_required
def coverage_live(request: AuthedRequest, pk: int) -> HttpResponse:
    """The dashboard's live part (figures, table, chart data), polled by htmx."""
    rnd = selectors.coverage_round_get(user=request.user, pk=pk)
    return render(request, "testing/_coverage_live.html", _dashboard_context(request, rnd))


@require_GET
@login_required
def coverage_town(request: AuthedRequest, pk: int, town: str) -> HttpResponse:
    rnd = selectors.coverage_round_get(user=request.user, pk=pk)
    coverage = selectors.round_coverage(user=request.user, rnd=rnd, by="community", within=town)
    town_name = area_selectors.jurisdiction_names(paths=[town]).get(town, town)
    return render(
        request,
        "testing/coverage_town.html",
        {
            "round": rnd,
            "coverage": coverage,
            "town_path": town,
            "town_name": town_name,
            "scope": _scope(request.user, rnd),
        },
    )


@require_GET
@login_required
def coverage_untested(request: AuthedRequest, pk: int, community: str) -> HttpResponse:
    rnd = selectors.coverage_round_get(user=request.user, pk=pk)
    page = selectors.untested_page(
        user=request.user,
        rnd=rnd,
        community_path=community,
        cursor=CursorForm(request.GET).cleaned()["cursor"] or None,
    )
    counts = selectors.round_coverage(
        user=request.user, rnd=rnd, by="community", within=community
    ).totals
    names = area_selectors.jurisdiction_names(paths=[community, town_of(community)])
    rows = [
        {
            "target": t,
            "name": mask_name(t.person.name),
            "id_masked": t.person.id_masked,
            "phone_masked": t.person.phone_masked,
            "address": t.person.household.address if t.person.household else "",
            "grid": t.person.jurisdiction.name,
        }
        for t in page.items
    ]
    user = request.user
    return render(
        request,
        "testing/coverage_untested.html",
        {
            "round": rnd,
            "community_path": community,
            "community_name": names.get(community, community),
            "town_path": town_of(community),
            "town_name": names.get(town_of(community), ""),
            "counts": counts,
            "rows": rows,
            "page": page,
            "can_export": has_capability(user, Capability.PERSON_EXPORT),
            "can_reveal": has_capability(user, Capability.PERSON_REVEAL),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def coverage_untested_export(request: AuthedRequest, pk: int, community: str) -> HttpResponse:
    """POST: start the export, masked, or in clear with reveal=1 (confirmed, audited), by
    a background job, and 303 to this page with `?job=`. GET: the page with the export
    buttons and (`?job=`) the job: its progress, then the file to download. A GET never
    starts an export (a reload or a link does not write, nor audit, a workbook)."""
    user = request.user
    if request.method == "POST":
        job = tasks_coverage.untested_export_start(
            actor=user,
            round_id=pk,
            community=community,
            reveal=RevealForm(request.POST).lenient()["reveal"] is True,
            ip=client_address(request),
        )
        return jobs.started_answer(job)
    rnd = tasks_coverage.untested_export_check(
        actor=user, round_id=pk, community=community, reveal=False
    )
    names = area_selectors.jurisdiction_names(paths=[community])
    back_url = reverse("testing:coverage_untested", args=[pk, community])
    context: dict[str, Any] = {
        "title": _("应检未检人员"),
        "subject": f"{rnd.name} · {names.get(community, community)}",
        "back_url": back_url,
        "export_url": reverse("testing:coverage_untested_export", args=[pk, community]),
        "can_reveal": has_capability(user, Capability.PERSON_REVEAL),
    }
    job_id = JobQueryForm(request.GET).lenient()["job"]
    if job_id is not None:
        job = jobs.job_get(user=user, job_id=job_id)
        context.update(jobs.job_context(job, back_url=back_url, back_label=_("返回名单")))
    return render(request, "web/export.html", context)


urlpatterns: list[URLPattern] = [
    path("coverage/", coverage_rounds, name="coverage_rounds"),
    path("rounds/<int:pk>/coverage/", coverage_dashboard, name="coverage_dashboard"),
    path("rounds/<int:pk>/coverage/live/", coverage_live, name="coverage_live"),
    path("rounds/<int:pk>/coverage/towns/<str:town>/", coverage_town, name="coverage_town"),
    path(
        "rounds/<int:pk>/coverage/communities/<str:community>/untested/",
        coverage_untested,
        name="coverage_untested",
    ),
    path(
        "rounds/<int:pk>/coverage/communities/<str:community>/untested/export/",
        coverage_untested_export,
        name="coverage_untested_export",
    ),
]
