"""Who acts where in labs' work: the sampling point a sampler works at, the lab a lab
user works for, and the city's system actor in whose name automatic consequences that
cross domains are done (docs/decisions/0008)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from fangkong.accounts.roles import Role
from fangkong.accounts.services import service_account
from fangkong.areas import selectors as area_selectors
from fangkong.areas.choices import Level, PlaceKind
from fangkong.core.errors import NotFound, PermissionDenied
from fangkong.core.paths import city_of
from fangkong.testing.models import (
    SamplingPoint,
)

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.areas.models import Place

SYSTEM_USERNAME_PREFIX = "system-"


def point_of(actor: User) -> SamplingPoint:
    """The sampling point a sampler works at (User.place), or 403."""
    place_id = getattr(actor, "place_id", None)
    point = SamplingPoint.objects.filter(place_id=place_id).first() if place_id else None
    if point is None:
        raise PermissionDenied("no_sampling_point", _("您的账号未绑定采样点"))
    return point


def lab_of(actor: User) -> Place:
    """The lab a lab user works for (User.place, of kind lab), or 403."""
    place_id = getattr(actor, "place_id", None)
    lab = area_selectors.place_find(pk=place_id) if place_id else None
    if lab is None or lab.kind != PlaceKind.LAB:
        raise PermissionDenied("no_lab", _("您的账号未绑定检测机构"))
    return lab


def system_actor(*, city_path: str) -> User:
    """The command centre's service account of a city (`system-<city code>`): role
    command, bound to the city, no usable password (it cannot log in). Automatic
    consequences that cross domains (a positive recheck reporting a case to tracing) are
    done in its name, so that tracing's own permission checks hold unchanged and the
    audit trail says the system did it. See docs/decisions/0008."""
    city_code = city_of(city_path)
    city = area_selectors.jurisdictions_at(paths=[city_code], level=Level.CITY).get(city_code)
    if city is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="jurisdiction")
    return service_account(
        username=f"{SYSTEM_USERNAME_PREFIX}{city.path}",
        role=Role.COMMAND,
        jurisdiction=city,
        display_name=_("系统（全员核酸）"),
    )
