"""Who may do what, and where: the checks every service and selector makes.

`require(user, capability)` refuses a role that lacks the capability (403).
`scope_q(user, field)` is the Q that limits a queryset to the user's jurisdiction: city-
wide roles see the whole city they are bound to, every other role only its subtree.
`require_in_scope(user, path)` refuses an object outside the user's jurisdiction with a
404, so that a town's staff cannot even learn that another town's person exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils.translation import gettext as _

from fangkong.accounts.roles import ROLE_CAPABILITIES, Capability
from fangkong.core.errors import NotFound, PermissionDenied
from fangkong.core.paths import is_under, under

if TYPE_CHECKING:
    from fangkong.accounts.models import User


def has_capability(user: User, capability: str | Capability) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return str(capability) in ROLE_CAPABILITIES.get(user.role, frozenset())


def require(user: User, capability: str | Capability) -> None:
    if not has_capability(user, capability):
        raise PermissionDenied(
            "permission_denied", _("您的角色无权执行此操作"), capability=str(capability)
        )


def scope_path(user: User) -> str:
    """The jurisdiction path a user may see; an unbound user sees nothing."""
    return str(getattr(user, "scope_path", "") or "")


def scope_q(user: User, field: str = "jurisdiction_path") -> Q:
    """Q limiting rows (by a path column) to the user's jurisdiction."""
    path = scope_path(user)
    if not path:
        return Q(pk__in=[])
    return under(field, path)


def in_scope(user: User, path: str) -> bool:
    own = scope_path(user)
    return bool(own) and bool(path) and is_under(path, own)


def require_in_scope(user: User, path: str, *, what: str = "object") -> None:
    if not in_scope(user, path):
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object=what)
