"""Receivers of the lower apps' signals: the demo department account joins its
department (accounts.signals.demo_account_ready)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.dispatch import receiver

from fangkong.accounts.roles import Role
from fangkong.accounts.signals import demo_account_ready
from fangkong.command.models import Department
from fangkong.command.services.tasks import department_member_set


@receiver(demo_account_ready, dispatch_uid="command.demo_department_member")
def demo_department_member(sender: Any, *, user_id: int, unit: str, **kwargs: Any) -> None:
    user = get_user_model().objects.filter(pk=user_id, role=Role.DEPARTMENT).first()
    department = Department.objects.filter(code=unit).first()
    if user is None or department is None:
        return
    if (
        getattr(getattr(user, "department_membership", None), "department_id", None)
        == department.pk
    ):
        return
    department_member_set(actor=None, user=user, department=department)
