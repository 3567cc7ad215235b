"""The Django admin site of fangkong: one login path, and audited password pages.

Its login goes through `services.login_attempt`, like the login page: the same lockout,
the same audit rows (`via: admin`), the demo password refused in production; a user who
is not staff is refused there as if the password were wrong. A password set on its pages
(the user admin's password form, a staff user's own password change) is recorded by
`services.user_password_changed`, which also revokes that user's API tokens.
Installed as the default admin site by `apps.AdminConfig`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy

from fangkong.accounts import services
from fangkong.accounts.models import User
from fangkong.accounts.types import signed_in_user
from fangkong.core.errors import DomainError
from fangkong.core.http import client_address


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's login form, checked by the one login service."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = services.login_attempt(
                    username=username,
                    password=password,
                    ip=client_address(self.request) if self.request is not None else "",
                    via="admin",
                    staff_only=True,
                )
            except DomainError as exc:
                raise ValidationError(exc.message, code=exc.code) from exc
        return self.cleaned_data


Response = TypeVar("Response", bound=HttpResponse)


def password_page(
    request: HttpRequest, user: User | None, page: Callable[[], Response]
) -> Response:
    """Answer one of the admin's password pages for `user`; if it set the user's
    password, record that in the same transaction."""
    if user is None or request.method != "POST":
        return page()
    with transaction.atomic():
        before = User.objects.filter(pk=user.pk).values_list("password", flat=True).first()
        response = page()
        changed = User.objects.filter(pk=user.pk).exclude(password=before or "").first()
        if changed is not None:
            services.user_password_changed(
                actor=signed_in_user(request), user=changed, ip=client_address(request), via="admin"
            )
    return response


class FangkongAdminSite(admin.AdminSite):
    login_form = AdminLoginForm
    site_header = gettext_lazy("防控平台管理后台")
    site_title = gettext_lazy("防控平台管理后台")
    index_title = gettext_lazy("参考数据与账户")

    def password_change(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        parent = super().password_change
        return password_page(
            request, signed_in_user(request), lambda: parent(request, extra_context)
        )
