"""Reads of sampling points: the points of the user's jurisdiction with their queue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import has_capability, scope_q
from fangkong.accounts.roles import Capability
from fangkong.areas.choices import PlaceKind
from fangkong.core.errors import NotFound, PermissionDenied
from fangkong.core.paths import under
from fangkong.testing.models import SamplingPoint

if TYPE_CHECKING:
    from fangkong.accounts.models import User


def _require_view(user: User) -> None:
    if not (
        has_capability(user, Capability.ROUND_VIEW) or has_capability(user, Capability.POINT_MANAGE)
    ):
        raise PermissionDenied(
            "permission_denied", _("您的角色无权执行此操作"), capability="round.view"
        )


# By jurisdiction, then name; the primary key last (a unique order, for keyset pages).
POINT_ORDER = ("jurisdiction_path", "place__name", "pk")


def points(
    *, user: User, jurisdiction_path: str | None = None, queue_status: str | None = None
) -> QuerySet[SamplingPoint]:
    """The sampling points in the user's jurisdiction (a sampler: those of the
    sampler's community), optionally under one jurisdiction, by path then name."""
    _require_view(user)
    # A quarantine site's own point (its tests, testing.services.site_samples) is no
    # public sampling point.
    qs = SamplingPoint.objects.filter(
        scope_q(user), place__kind=PlaceKind.SAMPLING_POINT
    ).select_related("place", "place__jurisdiction", "queue_updated_by")
    if jurisdiction_path:
        qs = qs.filter(under("jurisdiction_path", jurisdiction_path))
    if queue_status:
        qs = qs.filter(Q(queue_status=queue_status))
    return qs.order_by(*POINT_ORDER)


def point_get(*, user: User, pk: int) -> SamplingPoint:
    _require_view(user)
    found = (
        SamplingPoint.objects.filter(scope_q(user), pk=pk)
        .select_related("place", "place__jurisdiction", "queue_updated_by")
        .first()
    )
    if found is None:
        raise NotFound("not_found", _("未找到该采样点或不在您的辖区内"), object="sampling_point")
    return found


def registered_place_ids(*, place_ids: list[int]) -> set[int]:
    """Which of these places already are sampling points (the register form's choices)."""
    return set(
        SamplingPoint.objects.filter(place_id__in=place_ids).values_list("place_id", flat=True)
    )
