"""Pages of mass testing: sampling points (list with queue status, register, edit, queue
update in place by htmx)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.permissions import has_capability, require, scope_path
from fangkong.accounts.roles import Capability, Role
from fangkong.accounts.types import AuthedRequest
from fangkong.areas import selectors as area_selectors
from fangkong.areas.choices import PlaceKind
from fangkong.core.errors import DomainError, NotFound, PermissionDenied
from fangkong.core.http import client_address
from fangkong.core.pagination import shown_total
from fangkong.core.paths import CITY_WIDTH, TOWN_WIDTH
from fangkong.testing.forms import PointFilterForm, PointForm, QueueForm, RegisterPointForm
from fangkong.testing.models import QueueStatus, SamplingPoint
from fangkong.testing.selectors import points as selectors
from fangkong.testing.services import points as services

if TYPE_CHECKING:
    from fangkong.accounts.models import User


def _is_htmx(request: HttpRequest) -> bool:
    return bool(request.headers.get("HX-Request"))


def _row(user: Any, point: SamplingPoint, error: str = "") -> dict[str, Any]:
    return {
        "point": point,
        "can_queue": services.can_update_queue(user, point),
        "error": error,
    }


def _can_register(user: User) -> bool:
    return has_capability(user, Capability.POINT_MANAGE) and user.role != Role.SAMPLER


POINT_LIST_MAX = 500


@require_GET
@login_required
def point_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    filters = PointFilterForm(request.GET).lenient()
    jurisdiction = filters["jurisdiction"] or ""
    queue = filters["queue"] if filters["queue"] in QueueStatus.values else ""
    qs = selectors.points(
        user=user, jurisdiction_path=jurisdiction or None, queue_status=queue or None
    )
    rows = [_row(user, p) for p in qs[:POINT_LIST_MAX]]
    own = scope_path(user)
    level = "town" if len(own) <= CITY_WIDTH else "community"
    areas = (
        [j for j in area_selectors.jurisdictions(user=user, level=level) if j.path.startswith(own)]
        if has_capability(user, Capability.AREA_VIEW) and len(own) <= TOWN_WIDTH
        else []
    )
    return render(
        request,
        "testing/points_list.html",
        {
            "rows": rows,
            "total": shown_total(rows, limit=POINT_LIST_MAX, qs=qs),
            "queue": queue,
            "queue_choices": QueueStatus.choices,
            "areas": areas,
            "jurisdiction": jurisdiction,
            "can_register": _can_register(user),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def point_register(request: AuthedRequest) -> HttpResponse:
    user = request.user
    require(user, Capability.POINT_MANAGE)
    error: DomainError | None = None
    form = {"place": "", "tables": "2", "samplers": "4", "opens_at": "", "closes_at": ""}
    if request.method == "POST":
        point_form = RegisterPointForm(request.POST)
        form = {k: v[:20] for k, v in point_form.echo().items()}
        try:
            data = point_form.cleaned()
            place = area_selectors.places_resolve(user=user, pks=[data["place"]])[0]
            point = services.point_register(
                actor=user,
                place=place,
                tables=data["tables"],
                samplers=data["samplers"],
                opens_at=data["opens_at"],
                closes_at=data["closes_at"],
                ip=client_address(request),
            )
        except (PermissionDenied, NotFound):
            raise
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, _("已登记采样点 %(name)s") % {"name": point.place.name})
            return redirect("testing:point_list")
    candidates = [
        p
        for p in area_selectors.places(user=user, kind=PlaceKind.SAMPLING_POINT, size=200).items
        if p.jurisdiction_path.startswith(scope_path(user))
    ]
    taken = selectors.registered_place_ids(place_ids=[p.pk for p in candidates])
    places = [p for p in candidates if p.pk not in taken]
    return render(
        request,
        "testing/points_form.html",
        {"form": form, "error": error, "places": places, "point": None},
        status=400 if error else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
def point_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    point = selectors.point_get(user=user, pk=pk)
    require(user, Capability.POINT_MANAGE)
    error: DomainError | None = None
    form = {
        "tables": str(point.tables),
        "samplers": str(point.samplers),
        "opens_at": point.opens_at.strftime("%H:%M") if point.opens_at else "",
        "closes_at": point.closes_at.strftime("%H:%M") if point.closes_at else "",
    }
    if request.method == "POST":
        point_form = PointForm(request.POST)
        form = {k: point_form.echo()[k][:20] for k in form}
        try:
            data = point_form.cleaned()
            services.point_update(
                actor=user,
                point=point,
                tables=data["tables"],
                samplers=data["samplers"],
                opens_at=data["opens_at"],
                closes_at=data["closes_at"],
                ip=client_address(request),
            )
        except (PermissionDenied, NotFound):
            raise
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, _("已保存采样点"))
            return redirect("testing:point_list")
    return render(
        request,
        "testing/points_form.html",
        {"form": form, "error": error, "places": [], "point": point},
        status=400 if error else 200,
    )


@require_POST
@login_required
def point_queue(request: AuthedRequest, pk: int) -> HttpResponse:
    """Update the queue (htmx swaps the row in place; without htmx, back to the list)."""
    user = request.user
    point = selectors.point_get(user=user, pk=pk)
    error = ""
    status_code = 200
    try:
        data = QueueForm(request.POST).cleaned()
        services.point_queue_update(
            actor=user,
            point=point,
            status=data["status"],
            length=data["length"],
            ip=client_address(request),
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        if not _is_htmx(request):
            raise
        error, status_code = exc.message, 400
    if not _is_htmx(request):
        messages.success(request, _("已更新排队状态"))
        return redirect("testing:point_list")
    point = selectors.point_get(user=user, pk=pk)
    return render(
        request,
        "testing/_points_row.html",
        {
            "row": _row(user, point, error),
            "queue_choices": QueueStatus.choices,
            "can_register": _can_register(user),
        },
        status=status_code,
    )


urlpatterns: list[URLPattern] = [
    path("points/", point_list, name="point_list"),
    path("points/new/", point_register, name="point_register"),
    path("points/<int:pk>/edit/", point_edit, name="point_edit"),
    path("points/<int:pk>/queue/", point_queue, name="point_queue"),
]
