"""The account the kit writes test data with when a test names none: a city-wide admin
(every capability, the whole tree in scope), made once per test database state."""

from __future__ import annotations

from typing import Any

KIT_ADMIN = "testkit-admin"
PASSWORD = "pw-Fangkong-2022"
# The admin of the running test (the kit's plugin empties it before each test, since a
# test's rows are rolled back after it).
_cached: dict[str, Any] = {}


def forget() -> None:
    _cached.clear()


def kit_admin() -> Any:
    """The kit's admin over the tree's root (the city), created on first use."""
    if KIT_ADMIN in _cached:
        return _cached[KIT_ADMIN]
    _cached[KIT_ADMIN] = user = _kit_admin()
    return user


def _kit_admin() -> Any:
    from fangkong.accounts.models import User
    from fangkong.accounts.roles import Role
    from fangkong.areas.models import Jurisdiction

    user = User.objects.filter(username=KIT_ADMIN).first()
    if user is not None:
        return user
    city = Jurisdiction.objects.filter(parent=None).order_by("pk").first()
    if city is None:
        raise LookupError("the kit needs a jurisdiction tree (the `tree` fixture)")
    return User.objects.create_user(
        username=KIT_ADMIN,
        password=PASSWORD,
        role=Role.ADMIN,
        jurisdiction=city,
        scope_path=city.path,
    )


def actor_or_admin(actor: Any) -> Any:
    return actor if actor is not None else kit_admin()
