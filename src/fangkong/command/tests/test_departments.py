"""Departments: seeded rows, edited through the admin (audited), members through the
service; the demo department account joins its department."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from fangkong.accounts.models import AuditEvent, User
from fangkong.accounts.roles import Role
from fangkong.accounts.services import user_create
from fangkong.command.models import Department, DepartmentMember
from fangkong.command.services.tasks import department_member_set, department_save
from fangkong.core.errors import InvalidInput, PermissionDenied
from fangkong.testkit import command as kit


def test_seeded_departments(db: None) -> None:
    kit.departments_ensure()
    names = list(Department.objects.order_by("order").values_list("name", flat=True))
    assert names[:5] == ["卫健局", "公安局", "交通运输局", "商务局", "宣传部"]


def test_admin_edits_a_department_through_the_service(tree: Any) -> None:
    admin = user_create(
        username="root",
        password="pw-Fangkong-2022",
        role=Role.ADMIN,
        jurisdiction=tree.city,
        staff=True,
    )
    client = Client()
    client.force_login(admin)
    health = kit.department("health")
    response = client.post(
        f"/admin/command/department/{health.pk}/change/",
        {"code": "health", "name": "卫生健康局", "order": 5, "active": "on"},
    )
    assert response.status_code == 302, response.content[:500]
    health.refresh_from_db()
    assert health.name == "卫生健康局"
    assert (
        AuditEvent.objects.filter(action="department.update", object_id=str(health.pk)).count() == 1
    )


def test_department_service_refusals(tree: Any, town_a_user: Any, command_user: Any) -> None:
    with pytest.raises(PermissionDenied):
        department_save(actor=command_user, department=Department(code="fire", name="消防救援局"))
    admin = user_create(
        username="root", password="pw-Fangkong-2022", role=Role.ADMIN, jurisdiction=tree.city
    )
    with pytest.raises(InvalidInput) as exc:
        department_save(actor=admin, department=Department(code="Fire!", name="消防救援局"))
    assert exc.value.code == "code_invalid"
    with pytest.raises(InvalidInput) as exc:
        department_member_set(actor=admin, user=town_a_user, department=kit.department("police"))
    assert exc.value.code == "not_department_user"
    assert not DepartmentMember.objects.exists()


def test_demo_users_puts_the_department_account_in_its_department(tree: Any) -> None:
    kit.departments_ensure()
    call_command("demo_users", stdout=StringIO(), stderr=StringIO())
    user = User.objects.get(username="dept-health")
    assert user.role == Role.DEPARTMENT
    assert DepartmentMember.objects.get(user=user).department.code == "health"
    call_command("demo_users", stdout=StringIO(), stderr=StringIO())
    assert AuditEvent.objects.filter(action="department.member_set").count() == 1
