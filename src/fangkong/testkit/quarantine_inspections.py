"""Inspections against the standard, rectifications and closed-loop staff, built through
`fangkong.quarantine.services`.

shipped_checklist_ensure()                     the shipped checklist back after a flush
site_staff(site)                                a site-staff account of `site`
inspection(site, failed={"B01": "无独立卫生间"})  every active item answered, some failed
shift(site, name="王医生")                       a closed-loop staff member on the roster
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Any

from django.utils import timezone

from .actors import PASSWORD, actor_or_admin

_serial = itertools.count(1)


def shipped_checklist_ensure() -> None:
    """Re-install the checklist the quarantine migration ships if a flush removed it
    (a transactional test ends by flushing every table). One query when it is there."""
    from importlib import import_module

    from fangkong.quarantine.models import ChecklistItem

    shipped = import_module("fangkong.quarantine.migrations.0002_inspections_checklist").CHECKLIST
    if ChecklistItem.objects.exists():
        return
    ChecklistItem.objects.bulk_create(
        [
            ChecklistItem(code=code, category=category, text=text, order=n * 10)
            for n, (code, category, text) in enumerate(shipped, start=1)
        ]
    )


def site(jurisdiction: Any, name: str | None = None, *, actor: Any = None) -> Any:
    """A quarantine site in `jurisdiction` (through the sites kit: a place and its site)."""
    from fangkong.testkit.quarantine import site_with_rooms

    return site_with_rooms(
        jurisdiction, name=name or f"隔离点{next(_serial)}", rooms=2, actor=actor
    )


def site_staff(site: Any, *, display_name: str = "") -> Any:
    """A new site-staff account bound to the site's place."""
    from fangkong.accounts.roles import Role
    from fangkong.accounts.services import user_create

    place = site.place
    return user_create(
        username=f"tk-site-{place.pk}-{uuid.uuid4().hex[:6]}",
        password=PASSWORD,
        role=Role.SITE_STAFF,
        jurisdiction=place.jurisdiction,
        place=place,
        display_name=display_name,
    )


def inspection(
    site: Any,
    *,
    failed: dict[str, str] | None = None,
    inspected_on: dt.date | None = None,
    owner_name: str = "李站长",
    owner: Any = None,
    deadline_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
    actor: Any = None,
) -> Any:
    """An inspection answering every active item: passed, except the codes in `failed`
    (code -> note), each of which becomes a rectification."""
    from fangkong.quarantine.models import ChecklistItem
    from fangkong.quarantine.services.inspections import inspection_create

    failed = failed or {}
    items = list(ChecklistItem.objects.filter(active=True))
    results = {item.pk: (item.code not in failed, failed.get(item.code, "")) for item in items}
    return inspection_create(
        actor=actor_or_admin(actor),
        site=site,
        inspected_on=inspected_on or timezone.localdate(now),
        results=results,
        summary="检查小结",
        owner_name=owner_name,
        owner=owner,
        deadline_at=deadline_at,
        now=now,
    )


def shift(
    site: Any,
    *,
    name: str | None = None,
    post: str = "nurse",
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    user: Any = None,
    actor: Any = None,
) -> Any:
    """A closed-loop staff member of `site` (by default from today for 14 days)."""
    from fangkong.quarantine.services.staff import staff_shift_create

    starts_on = starts_on or timezone.localdate()
    return staff_shift_create(
        actor=actor_or_admin(actor),
        site=site,
        name=name or f"工作人员{next(_serial)}",
        post=post,
        starts_on=starts_on,
        ends_on=ends_on or starts_on + dt.timedelta(days=14),
        user=user,
    )
