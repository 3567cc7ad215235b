"""Admin for the departments tasks go to and their members (reference data). Saving goes
through the services, so every change is checked and audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from fangkong.accounts.types import signed_in_user
from fangkong.command.models import Department, DepartmentMember
from fangkong.command.services.tasks import department_member_set, department_save
from fangkong.core.http import client_address


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "order", "active")
    list_editable = ("order", "active")
    ordering = ("order", "pk")

    def save_model(self, request: HttpRequest, obj: Department, form: Any, change: bool) -> None:
        department_save(actor=signed_in_user(request), department=obj, ip=client_address(request))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a department leaves by being made inactive; its tasks keep it


@admin.register(DepartmentMember)
class DepartmentMemberAdmin(admin.ModelAdmin):
    list_display = ("user", "department")
    list_filter = ("department",)
    raw_id_fields = ("user",)

    def save_model(
        self, request: HttpRequest, obj: DepartmentMember, form: Any, change: bool
    ) -> None:
        department_member_set(
            actor=signed_in_user(request),
            user=obj.user,
            department=obj.department,
            ip=client_address(request),
        )
