"""Services of a site's closed-loop staff (闭环工作人员): their shifts and their own tests.

Who may:
- a shift: `site.manage` with the site in scope (command);
- a staff test: `site.manage` in scope, or the site's own staff (`placement.care` at
  their own site).
Atomic and audited; a refusal writes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import has_capability, in_scope, require, require_in_scope
from fangkong.accounts.roles import Capability, Role
from fangkong.accounts.services import audit_record
from fangkong.core.errors import InvalidInput, NotFound
from fangkong.quarantine.choices import StaffPost, TestResult
from fangkong.quarantine.models import Site, StaffShift, StaffTest
from fangkong.quarantine.selectors.inspections import bound_to_site

if TYPE_CHECKING:
    from fangkong.accounts.models import User

NAME_MAX = 50
# A closed-loop shift is at most this long (the longest practised: 28 days + margin).
SHIFT_MAX_DAYS = 60


def _audit(actor: User, action: str, shift: StaffShift, ip: str, **detail: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="staff_shift",
        object_id=shift.pk,
        object_label=f"{shift.site.name} {shift.name}",
        jurisdiction_path=shift.site.jurisdiction_path,
        detail=detail,
        ip=ip,
    )


@transaction.atomic
def staff_shift_create(
    *,
    actor: User,
    site: Site,
    name: str,
    post: str,
    starts_on: dt.date,
    ends_on: dt.date,
    user: User | None = None,
    ip: str = "",
) -> StaffShift:
    """Put a staff member on the site's closed-loop roster from `starts_on` to `ends_on`
    (optionally their account, a site-staff user of this site)."""
    require(actor, Capability.SITE_MANAGE)
    require_in_scope(actor, site.jurisdiction_path, what="site")
    name = str(name or "").strip()
    if not name:
        raise InvalidInput("name_required", _("请填写姓名"), field="name")
    if len(name) > NAME_MAX:
        raise InvalidInput("name_too_long", _("姓名过长"), field="name")
    if post not in StaffPost.values:
        raise InvalidInput("post_invalid", _("岗位无效"), field="post")
    if ends_on < starts_on:
        raise InvalidInput(
            "shift_dates_invalid", _("闭环结束日期不能早于开始日期"), field="ends_on"
        )
    if (ends_on - starts_on).days > SHIFT_MAX_DAYS:
        raise InvalidInput(
            "shift_too_long", _("闭环期不能超过 %(n)s 天") % {"n": SHIFT_MAX_DAYS}, field="ends_on"
        )
    if user is not None and (
        user.role != Role.SITE_STAFF or user.place_id != site.place_id or not user.is_active
    ):
        raise InvalidInput("user_not_site_staff", _("账户须为本隔离点的工作人员"), field="user")
    shift = StaffShift.objects.create(
        site=site, user=user, name=name, post=post, starts_on=starts_on, ends_on=ends_on
    )
    _audit(
        actor,
        "staff_shift.create",
        shift,
        ip,
        post=post,
        starts_on=starts_on.isoformat(),
        ends_on=ends_on.isoformat(),
    )
    return shift


def can_record_test(actor: User, site: Site) -> bool:
    """site.manage in scope (not bound to a site), or placement.care at one's own site."""
    if bound_to_site(actor):
        return (
            has_capability(actor, Capability.PLACEMENT_CARE)
            and bool(actor.place_id)
            and actor.place_id == site.place_id
        )
    return has_capability(actor, Capability.SITE_MANAGE) and in_scope(actor, site.jurisdiction_path)


@transaction.atomic
def staff_test_record(
    *,
    actor: User,
    shift: StaffShift,
    tested_on: dt.date,
    result: str,
    ip: str = "",
) -> StaffTest:
    """Record (or correct) a staff member's own test of `tested_on`: one a day."""
    site = shift.site
    if bound_to_site(actor):
        require(actor, Capability.PLACEMENT_CARE)
        if not actor.place_id or actor.place_id != site.place_id:
            raise NotFound("not_found", _("未找到或不在您的辖区内"), object="staff_shift")
    else:
        require(actor, Capability.SITE_MANAGE)
        require_in_scope(actor, site.jurisdiction_path, what="staff_shift")
    if result not in TestResult.values:
        raise InvalidInput("result_invalid", _("检测结果无效"), field="result")
    if tested_on > timezone.localdate():
        raise InvalidInput("tested_on_future", _("检测日期不能晚于今天"), field="tested_on")
    if tested_on < shift.starts_on - dt.timedelta(days=2) or tested_on > shift.ends_on:
        raise InvalidInput(
            "tested_on_outside_shift", _("检测日期不在该人员的闭环期内"), field="tested_on"
        )
    test, created = StaffTest.objects.select_for_update().get_or_create(
        shift=shift, tested_on=tested_on, defaults={"result": result, "recorded_by": actor}
    )
    before = None if created else test.result
    if not created and test.result != result:
        test.result = result
        test.recorded_by = actor
        test.save(update_fields=["result", "recorded_by"])
    _audit(
        actor,
        "staff_test.record",
        shift,
        ip,
        tested_on=tested_on.isoformat(),
        result=result,
        before=before,
    )
    return test
