"""Who sees which sites and placements (see the package's docstring)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require, scope_path, scope_q
from fangkong.accounts.roles import Capability, Role
from fangkong.core.errors import NotFound
from fangkong.core.paths import city_of, under
from fangkong.quarantine.models import Placement, Site

if TYPE_CHECKING:
    from fangkong.accounts.models import User


def site_bound(user: User) -> bool:
    """Site staff: bound to one quarantine site (their place)."""
    return getattr(user, "role", "") == Role.SITE_STAFF


def placement_scope_q(user: User, prefix: str = "") -> Q:
    """Q limiting placements (through `prefix`, e.g. "placement__") to the user's."""
    if site_bound(user):
        place_id = getattr(user, "place_id", None)
        if place_id is None:
            return Q(pk__in=[])
        return Q(**{f"{prefix}site__place_id": place_id})
    return scope_q(user, f"{prefix}jurisdiction_path")


def site_scope_q(user: User, prefix: str = "") -> Q:
    """Q limiting sites (through `prefix`, e.g. "site__") to those the user sees."""
    if site_bound(user):
        place_id = getattr(user, "place_id", None)
        if place_id is None:
            return Q(pk__in=[])
        return Q(**{f"{prefix}place_id": place_id})
    path = scope_path(user)
    if not path:
        return Q(pk__in=[])
    return under(f"{prefix}jurisdiction_path", city_of(path))


def placements_visible(user: User) -> QuerySet[Placement]:
    require(user, Capability.SITE_VIEW)
    return Placement.objects.filter(placement_scope_q(user))


def sites_visible(user: User) -> QuerySet[Site]:
    require(user, Capability.SITE_VIEW)
    return Site.objects.filter(site_scope_q(user))


def site_get(*, user: User, pk: int) -> Site:
    site = sites_visible(user).select_related("place").filter(pk=pk).first()
    if site is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="site")
    return site
