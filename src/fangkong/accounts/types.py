"""Types of who acts: the request of a signed-in user.

Services and selectors take the acting user as `actor: User` / `user: User`
(`fangkong.accounts.models.User`). A page behind `login_required` and an endpoint behind
the API's authentication (session or token, `accounts.auth`) annotate their request as
`AuthedRequest`, whose `user` is that model rather than `User | AnonymousUser`.
"""

from __future__ import annotations

from typing import TypeGuard

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest

from fangkong.accounts.models import User


class AuthedRequest(HttpRequest):
    """An HttpRequest whose user is signed in. An annotation only: Django and ninja pass
    the plain request; the login check in front of the view is what makes it true."""

    user: User


def is_signed_in(user: object) -> TypeGuard[User]:
    """Whether `user` is a signed-in account (not anonymous, not None): the check other
    apps make without importing accounts' models."""
    return isinstance(user, User)


def signed_in_user(request: HttpRequest) -> User:
    """The user of a request that a login check let through (the admin's pages, guarded
    by its `admin_view`), where Django's own signature says `HttpRequest`. Should that
    check ever be missing: 403, never an anonymous actor."""
    user = request.user
    if not isinstance(user, User):
        raise DjangoPermissionDenied
    return user
