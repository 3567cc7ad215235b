"""Django admin: users (role, jurisdiction, place) as reference data; audit read-only.

A user's binding is checked by the same rule as `services.user_create`
(`services.user_binding_scope`), so the admin cannot store an incoherent role and scope.
A password set on the user's password page is audited (`admin_site.password_page`).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from fangkong.accounts import services
from fangkong.accounts.admin_site import password_page
from fangkong.accounts.models import AccessToken, AuditEvent, User
from fangkong.accounts.types import signed_in_user
from fangkong.core.errors import DomainError


class _BindingCheck(forms.ModelForm):
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("role") and not data.get("jurisdiction") and not data.get("place"):
            self.scope_path_checked = ""  # an unbound account (e.g. createsuperuser) sees nothing
            return data
        try:
            self.scope_path_checked = services.user_binding_scope(
                role=data.get("role") or "",
                jurisdiction=data.get("jurisdiction"),
                place=data.get("place"),
            )
        except DomainError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc
        if data.get("role") and not data.get("place") and data.get("role") in services.PLACE_ROLES:
            raise forms.ValidationError(_("该角色须绑定隔离点、采样点或检测机构"))
        return data


class UserCreateForm(_BindingCheck, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "role", "jurisdiction", "place", "display_name", "mobile")


class UserEditForm(_BindingCheck, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = (
            "username",
            "password",
            "display_name",
            "mobile",
            "role",
            "jurisdiction",
            "place",
            "is_active",
            "is_staff",
            "is_superuser",
        )  # type: ignore[assignment]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    list_display = ("username", "display_name", "role", "jurisdiction", "place", "is_active")
    list_select_related = ("jurisdiction", "place")  # not two queries per row
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("username", "display_name", "scope_path")
    readonly_fields = ("scope_path", "last_login", "date_joined")
    raw_id_fields = ("jurisdiction", "place")
    fieldsets = (
        (None, {"fields": ("username", "password", "display_name", "mobile")}),
        (_("角色与辖区"), {"fields": ("role", "jurisdiction", "place", "scope_path")}),
        (None, {"fields": ("is_active", "is_staff", "is_superuser", "last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "password1",
                    "password2",
                    "display_name",
                    "mobile",
                    "role",
                    "jurisdiction",
                    "place",
                ),
            },
        ),
    )

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        user = self.get_object(request, unquote(id))
        return password_page(
            request, user, partial(super().user_change_password, request, id, form_url)
        )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.scope_path = getattr(form, "scope_path_checked", obj.scope_path)
        super().save_model(request, obj, form, change)
        services.audit_record(
            actor=signed_in_user(request),
            action="user.rebind" if change else "user.create",
            object_type="user",
            object_id=obj.pk,
            object_label=obj.username,
            jurisdiction_path=obj.scope_path,
            detail={"role": obj.role, "via": "admin"},
        )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_username", "action", "object_type", "object_id", "ip")
    list_filter = ("action", "object_type")
    search_fields = ("actor_username", "object_id", "object_label")
    date_hierarchy = "at"
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    """Tokens are created by their owners; the admin can only see and revoke them."""

    list_display = ("name", "prefix", "user", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("name", "prefix", "user", "created_at", "last_used_at", "expires_at")
    exclude = ("digest",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
