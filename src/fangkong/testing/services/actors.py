"""Who acts where in labs' work: the sampling point a sampler works at, the lab a lab
user works for, and the city's system actor in whose name automatic consequences that
cross domains are done (docs/decisions/0008)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.accounts.roles import Role
from fangkong.areas.models import Jurisdiction, Place
from fangkong.core.errors import NotFound, PermissionDenied
from fangkong.testing.models import (
    SamplingPoint,
)

SYSTEM_USERNAME_PREFIX = "system-"
CITY_PATH_WIDTH = 6


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
    lab = Place.objects.filter(pk=place_id, kind="lab").first() if place_id else None
    if lab is None:
        raise PermissionDenied("no_lab", _("您的账号未绑定检测机构"))
    return lab


def system_actor(*, city_path: str) -> User:
    """The command centre's service account of a city (`system-<city code>`): role
    command, bound to the city, no usable password (it cannot log in). Automatic
    consequences that cross domains (a positive recheck reporting a case to tracing) are
    done in its name, so that tracing's own permission checks hold unchanged and the
    audit trail says the system did it. See docs/decisions/0008."""
    city = Jurisdiction.objects.filter(path=city_path[:CITY_PATH_WIDTH], level="city").first()
    if city is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="jurisdiction")
    username = f"{SYSTEM_USERNAME_PREFIX}{city.path}"
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user
    user = User(
        username=username,
        role=Role.COMMAND,
        jurisdiction=city,
        scope_path=city.path,
        display_name=_("系统（全员核酸）"),
    )
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError:  # a concurrent first use created it
        return User.objects.get(username=username)
    return user
