"""Command's tasks, built through `fangkong.command.services.tasks`.

departments_ensure()                         the seeded departments back after a flush
department(code="health")                    a seeded department (卫健局 ...)
department_user(code="health")               a department account, member of that department
community_worker(community)                  a community worker of `community`
task(town_paths=[...], department_codes=[...], actor=None, hours=24)   a dispatched task
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from .actors import PASSWORD, actor_or_admin

_serial = itertools.count(1)


def departments_ensure() -> None:
    """Re-install the departments the command migration seeds if a flush removed them (a
    transactional test ends by flushing every table). One query when they are there."""
    from importlib import import_module

    from fangkong.command.models import Department

    seeded = import_module("fangkong.command.migrations.0001_tasks").DEPARTMENTS
    if Department.objects.filter(code__in=[c for c, _n in seeded]).count() == len(seeded):
        return
    for order, (code, name) in enumerate(seeded, start=1):
        Department.objects.get_or_create(code=code, defaults={"name": name, "order": order * 10})


def department(code: str = "health") -> Any:
    from fangkong.command.models import Department

    departments_ensure()
    return Department.objects.get(code=code)


def department_user(code: str = "health", *, username: str | None = None) -> Any:
    """A department account (city-wide) that is a member of the department `code`."""
    from fangkong.accounts.roles import Role
    from fangkong.accounts.services import user_create
    from fangkong.areas.models import Jurisdiction
    from fangkong.command.services.tasks import department_member_set

    city = Jurisdiction.objects.filter(parent=None).order_by("pk").first()
    user = user_create(
        username=username or f"tk-dept-{code}-{next(_serial)}",
        password=PASSWORD,
        role=Role.DEPARTMENT,
        jurisdiction=city,
        display_name=f"{department(code).name}工作人员",
    )
    department_member_set(actor=None, user=user, department=department(code))
    return user


def community_worker(community: Any, *, username: str | None = None) -> Any:
    from fangkong.accounts.roles import Role
    from fangkong.accounts.services import user_create

    return user_create(
        username=username or f"tk-community-{community.pk}-{next(_serial)}",
        password=PASSWORD,
        role=Role.COMMUNITY_WORKER,
        jurisdiction=community,
    )


def task(
    *,
    town_paths: list[str] | None = None,
    department_codes: list[str] | None = None,
    actor: Any = None,
    hours: float = 24,
    title: str | None = None,
    priority: str = "urgent",
    reply_required: bool = True,
    source: tuple[str, str, str] = ("", "", ""),
) -> Any:
    """A task dispatched now with a deadline `hours` ahead."""
    from fangkong.command.services.tasks import task_create

    return task_create(
        actor=actor_or_admin(actor),
        title=title or f"测试任务{next(_serial)}",
        body="请于时限内完成并回复。",
        priority=priority,
        deadline=timezone.now() + dt.timedelta(hours=hours),
        department_ids=[department(c).pk for c in department_codes or []],
        town_paths=list(town_paths or []),
        reply_required=reply_required,
        source_type=source[0],
        source_id=source[1],
        source_label=source[2],
    )
