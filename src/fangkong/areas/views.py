"""Areas pages: zones (list, detail with htmx actions, create), places, the jurisdiction tree.

Views are thin: selectors read, services write and check permissions. A refused action
shows the DomainError's message in place; a role refusal is a 403 page, anything absent
or out of scope a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.permissions import has_capability, require
from fangkong.accounts.roles import Capability
from fangkong.accounts.types import AuthedRequest
from fangkong.areas import selectors
from fangkong.areas.forms import (
    JurisdictionDepthForm,
    PlaceFilterForm,
    ZoneActionForm,
    ZoneCreateForm,
    ZoneFilterForm,
    ZoneOwnerForm,
    ZonePlaceSearchForm,
    ZoneProposalForm,
)
from fangkong.areas.models import (
    Jurisdiction,
    Level,
    Place,
    PlaceKind,
    ZoneAction,
    ZoneLevel,
    ZoneState,
)
from fangkong.areas.services import zones as zone_services
from fangkong.core.errors import DomainError, NotFound, PermissionDenied
from fangkong.core.http import client_address
from fangkong.core.pagination import sequence_total, shown_total

ZONE_LIST_MAX = 500
ZONE_ACTIONS = ("record_case", "screening", "downgrade", "lift", "close_day")
PROPOSAL_ACTIONS = ("confirm", "decline")


# --- Zones ----------------------------------------------------------------------------


@require_GET
@login_required
def zone_list(request: AuthedRequest) -> HttpResponse:
    filters = ZoneFilterForm(request.GET).lenient()
    level, state = filters["level"] or None, filters["state"] or None
    town = filters["town"] or None
    zones = selectors.zones(user=request.user, level=level, state=state, town=town)
    rows = [{"zone": z, "progress": selectors.zone_progress(z)} for z in zones[:ZONE_LIST_MAX]]
    proposals = [
        {"zone": z, "progress": selectors.zone_progress(z)}
        for z in selectors.zones_proposed(user=request.user)
    ]
    return render(
        request,
        "areas/zone_list.html",
        {
            "rows": rows,
            "proposals": proposals,
            "map_config": _map_config(),
            "total": shown_total(rows, limit=ZONE_LIST_MAX, qs=zones),
            "level": level or "",
            "state": state or "",
            "town": town or "",
            "levels": ZoneLevel.choices,
            "states": ZoneState.choices,
            "can_manage": has_capability(request.user, Capability.ZONE_MANAGE),
        },
    )


def _map_config() -> dict[str, Any]:
    """What zones.js needs: the outline and zone-point endpoints and the level words."""
    return {
        "outline_url": reverse("api:zone_map"),
        "markers_url": reverse("api:zone_markers"),
        "labels": {
            **{str(code): str(label) for code, label in ZoneLevel.choices},
            "none": str(_("无风险区")),
            "days": str(_("连续无新增")),
            "unit": str(_("天")),
            "proposal": str(_("待确认降级")),
            "empty": str(_("暂无生效中的风险区")),
            "failed": str(_("地图加载失败")),
            "outside": str(_("不在所属辖区之内，不能选")),
            "added": str(_("：已选")),
            "removed": str(_("：已取消")),
        },
    }


def _history(rows: list[Any]) -> list[dict[str, Any]]:
    """The zone's history newest first, a run of consecutive day closings with nothing
    else between them folded into one row (first and last day, how many), so that a
    month of counting is a line, not thirty."""
    out: list[dict[str, Any]] = []
    for row in reversed(rows):
        last = out[-1] if out else None
        if (
            row.action == ZoneAction.CLOSE_DAY
            and last is not None
            and last["row"].action == ZoneAction.CLOSE_DAY
            and last["row"].to_level == row.to_level
        ):
            last["first"] = row
            last["count"] += 1
            continue
        out.append({"row": row, "first": row, "count": 1})
    return out


def _zone_context(request: AuthedRequest, pk: int, **extra: Any) -> dict[str, Any]:
    zone = selectors.zone_detail(user=request.user, pk=pk)
    today = timezone.localdate()
    blank = {"on_date": today.isoformat(), "reason": "", "all_negative": "1"}
    return {
        "zone": zone,
        "progress": selectors.zone_progress(zone),
        "members": list(zone.members.all()),
        "children": list(zone.children.all()),
        "transitions": list(zone.transitions.all()),
        "history": _history(list(zone.transitions.all())),
        "can_manage": selectors.can_manage_zone(request.user, zone),
        "can_view_ruleset": has_capability(request.user, Capability.RULESET_VIEW),
        "today": today,
        "values": {action: dict(blank) for action in ZONE_ACTIONS + PROPOSAL_ACTIONS},
        "error": None,
        **extra,
    }


@require_GET
@login_required
def zone_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return render(request, "areas/zone_detail.html", _zone_context(request, pk))


@require_POST
@login_required
def zone_action(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    """One action form of the zone page: done, it redirects to the zone page (for htmx
    too); refused, htmx swaps the zone's main panel with the message in place."""
    if action not in ZONE_ACTIONS + PROPOSAL_ACTIONS:
        raise Http404
    selectors.zone_get(user=request.user, pk=pk)  # 404 before anything else
    require(request.user, Capability.ZONE_MANAGE)
    form: ZoneActionForm | ZoneProposalForm = (
        ZoneProposalForm(request.POST)
        if action in PROPOSAL_ACTIONS
        else ZoneActionForm(request.POST)
    )
    error: DomainError | None = None
    if not form.is_valid():
        error = form.refusal()
    elif action in PROPOSAL_ACTIONS:
        decide = (
            zone_services.zone_proposal_confirm
            if action == "confirm"
            else zone_services.zone_proposal_decline
        )
        try:
            decide(
                actor=request.user,
                zone=pk,
                reason=form.cleaned_data["reason"],
                ip=client_address(request),
            )
        except (PermissionDenied, NotFound):
            raise
        except DomainError as exc:
            error = exc
    else:
        data = form.cleaned_data
        common: dict[str, Any] = {"actor": request.user, "zone": pk}
        try:
            if action == "close_day":
                zone_services.zone_close_day(day=data["on_date"], **common)
            elif action == "screening":
                zone_services.zone_record_screening(
                    on_date=data["on_date"],
                    all_negative=bool(data["all_negative"]),
                    reason=data["reason"],
                    ip=client_address(request),
                    **common,
                )
            else:
                service = {
                    "record_case": zone_services.zone_record_case,
                    "downgrade": zone_services.zone_downgrade,
                    "lift": zone_services.zone_lift,
                }[action]
                service(
                    on_date=data["on_date"],
                    reason=data["reason"],
                    ip=client_address(request),
                    **common,
                )
        except (PermissionDenied, NotFound):
            raise
        except DomainError as exc:
            error = exc
    if error is None:
        # POST-redirect-GET: the level and state in the page's heading, the map and the
        # history all change, so the browser loads the zone page afresh (htmx follows
        # HX-Redirect with a full navigation).
        if request.headers.get("HX-Request") == "true":
            done = HttpResponse(status=204)
            done["HX-Redirect"] = reverse("areas:zone_detail", kwargs={"pk": pk})
            return done
        return redirect("areas:zone_detail", pk=pk)
    context = _zone_context(request, pk, error=error, failed_action=action if error else "")
    if error:
        # The refused form comes back with what was typed in it.
        context["values"][action] = form.echo()
    if request.headers.get("HX-Request") == "true":
        # 200 so that htmx swaps the panel with the message in it.
        return render(request, "areas/_zone_main.html", context)
    return render(request, "areas/zone_detail.html", context, status=error.status if error else 200)


def _owner_choices(request: AuthedRequest) -> list[tuple[int, str]]:
    nodes = selectors.jurisdictions(user=request.user).filter(depth__lte=2)
    return [(n.pk, "　" * n.depth + n.name) for n in nodes]


def _member_groups(
    request: AuthedRequest, owner_pk: int | None, picked: set[int]
) -> tuple[Jurisdiction | None, list[dict[str, Any]]]:
    """The checklist of a zone's members: one group per child of the owner (per town
    when the owner is the city), each holding the child and what lies below it
    (communities, grids), in path order; `picked` are ticked. The owner itself is
    offered apart (the whole jurisdiction as the zone)."""
    if owner_pk is None:
        return None, []
    try:
        owner = selectors.jurisdiction_get(user=request.user, pk=owner_pk)
    except NotFound:
        return None, []
    groups: list[dict[str, Any]] = []
    for node in selectors.jurisdictions_under(user=request.user, root=owner):
        if node.pk == owner.pk:
            continue
        option = {"node": node, "picked": node.pk in picked, "indent": node.depth - owner.depth}
        if node.depth == owner.depth + 1:
            groups.append({"head": node, "options": [option]})
        elif groups:
            groups[-1]["options"].append(option)
    for group in groups:
        group["picked"] = sum(1 for o in group["options"] if o["picked"])
    return owner, groups


MEMBER_PLACE_RESULTS = 30


def _place_options(
    request: AuthedRequest, owner: Jurisdiction | None, q: str, picked: list[int]
) -> dict[str, Any]:
    """The places ticked so far, then up to 30 more under the owner matching `q`."""
    chosen = selectors.places_resolve(user=request.user, pks=picked) if picked else []
    found: list[Place] = []
    if owner is not None and q:
        page = selectors.places(
            user=request.user, jurisdiction=owner, q=q, size=MEMBER_PLACE_RESULTS
        )
        found = [p for p in page.items if p.pk not in set(picked)]
    return {"chosen": chosen, "found": found, "q": q, "searched": bool(q)}


@require_GET
@login_required
def zone_place_options(request: AuthedRequest) -> HttpResponse:
    """The place search of the zone form (htmx fragment)."""
    require(request.user, Capability.ZONE_MANAGE)
    data = ZonePlaceSearchForm(request.GET).lenient()
    owner = selectors.jurisdiction_resolve(user=request.user, pk=data["jurisdiction"])
    try:
        context = _place_options(request, owner, data["q"] or "", data["member_places"] or [])
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        context = {"chosen": [], "found": [], "q": "", "searched": False, "error": exc}
    return render(request, "areas/_zone_place_options.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def zone_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, Capability.ZONE_MANAGE)
    source = request.POST if request.method == "POST" else request.GET
    owner_pk = ZoneOwnerForm(source).lenient()["jurisdiction"]
    owners = _owner_choices(request)
    if owner_pk is None and owners:
        owner_pk = owners[0][0]
    parents = [
        (z.pk, f"{z.name}（{z.get_level_display()}）")
        for z in selectors.zones_active_parents(user=request.user)
    ]
    kwargs = {"owners": owners, "parents": parents}
    error: DomainError | None = None
    picked: set[int] = set()
    picked_places: list[int] = []
    if request.method == "POST":
        form = ZoneCreateForm(request.POST, **kwargs)
        if form.is_valid():
            data = form.cleaned_data
            picked = set(data["member_jurisdictions"])
            picked_places = list(data["member_places"])
            try:
                owner = selectors.jurisdiction_resolve(user=request.user, pk=data["jurisdiction"])
                assert owner is not None
                zone = zone_services.zone_create(
                    actor=request.user,
                    name=data["name"],
                    level=data["level"],
                    jurisdiction=owner,
                    member_jurisdictions=selectors.jurisdictions_resolve(
                        user=request.user, pks=data["member_jurisdictions"]
                    ),
                    member_places=selectors.places_resolve(
                        user=request.user, pks=data["member_places"]
                    ),
                    parent=selectors.zone_resolve(user=request.user, pk=data["parent"]),
                    started_on=data["started_on"],
                    reason=data["reason"],
                    ip=client_address(request),
                )
            except (PermissionDenied, NotFound):
                raise
            except DomainError as exc:
                error = exc
            else:
                return redirect("areas:zone_detail", pk=zone.pk)
    else:
        form = ZoneCreateForm(initial={"jurisdiction": owner_pk}, **kwargs)
    owner, groups = _member_groups(request, owner_pk, picked)
    try:
        places = _place_options(request, owner, "", picked_places)
    except DomainError:
        places = _place_options(request, owner, "", [])
    status = 200 if request.method == "GET" else (error.status if error else 400)
    return render(
        request,
        "areas/zone_create.html",
        {
            "form": form,
            "error": error,
            "owner": owner,
            "owner_picked": owner is not None and owner.pk in picked,
            "groups": groups,
            "places": places,
            "picked_count": len(picked) + len(picked_places),
            "map_config": {**_map_config(), "pick": True},
        },
        status=status,
    )


# --- Places and jurisdictions ---------------------------------------------------------


@require_GET
@login_required
def place_list(request: AuthedRequest) -> HttpResponse:
    filters = PlaceFilterForm(request.GET).lenient()
    kind, q = filters["kind"] or None, filters["q"] or ""
    towns = list(selectors.jurisdictions(user=request.user, level=Level.TOWN))
    town = next((t for t in towns if t.pk == filters["town"]), None)
    error: DomainError | None = None
    try:
        page = selectors.places(
            user=request.user,
            kind=kind,
            jurisdiction=town,
            q=q or None,
            cursor=filters["cursor"] or None,
            size=50,
            with_total=True,
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:  # a bad cursor: show the first page with the message
        error = exc
        page = selectors.places(
            user=request.user, kind=kind, jurisdiction=town, q=q or None, with_total=True
        )
    params = request.GET.copy()
    params.pop("cursor", None)
    context = {
        "page": page,
        "kind": kind or "",
        "kinds": PlaceKind.choices,
        "q": q,
        "towns": towns,
        "town": town,
        "error": error,
        "base_query": params.urlencode(),
    }
    template = (
        "areas/_place_results.html"
        if request.headers.get("HX-Request") == "true"
        else "areas/place_list.html"
    )
    return render(request, template, context)


@require_GET
@login_required
def jurisdiction_list(request: AuthedRequest) -> HttpResponse:
    depth = JurisdictionDepthForm(request.GET).lenient()["depth"] or 2
    rows = selectors.jurisdiction_tree(user=request.user, max_depth=depth)
    return render(
        request,
        "areas/jurisdiction_list.html",
        {"rows": rows, "depth": depth, "total": sequence_total(rows)},
    )
