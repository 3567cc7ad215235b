"""Reads of inspections against the standard (对照标准检查): the checklist, inspections,
rectifications (整改) and the closed-loop staff roster (闭环工作人员).

Who sees what: site staff (a role bound to a place of kind quarantine_site) see their
own site only; every other role with `site.view` (or `inspection.manage`) sees the
sites under its jurisdiction (a town its town's, command the city's). Anything else is
a 404, never a hint that it exists.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import has_capability, scope_q
from fangkong.accounts.roles import Capability
from fangkong.core.deadlines import OverdueItem, OwnerKind
from fangkong.core.errors import NotFound, PermissionDenied
from fangkong.quarantine.choices import RectificationStatus
from fangkong.quarantine.models import (
    ChecklistItem,
    Finding,
    Inspection,
    Rectification,
    Site,
    StaffShift,
    StaffTest,
)
from fangkong.quarantine.selectors import scope

if TYPE_CHECKING:
    from fangkong.accounts.models import User


def bound_to_site(user: User) -> bool:
    """Whether the user's role is bound to a quarantine site (site staff)."""
    return scope.site_bound(user)


def inspection_scope_q(user: User, prefix: str = "") -> Q:
    """Q limiting rows (a site, or rows with a `site` FK when prefix is "site__") to the
    sites whose inspections, rectifications and staff the user may see: site staff their
    own site (as `scope.site_scope_q`), every other role the sites under its
    jurisdiction (a town its town's). Narrower than the sites themselves, which every
    role with site.view sees city-wide: how a site fares against the standard is the
    business of its town and of command."""
    if bound_to_site(user):
        return scope.site_scope_q(user, prefix)
    return scope_q(user, f"{prefix}jurisdiction_path")


def _require_view(user: User) -> None:
    if not (
        has_capability(user, Capability.SITE_VIEW)
        or has_capability(user, Capability.INSPECTION_MANAGE)
    ):
        raise PermissionDenied(
            "permission_denied", _("您的角色无权执行此操作"), capability="site.view"
        )


def _not_found(what: str) -> NotFound:
    return NotFound("not_found", _("未找到或不在您的辖区内"), object=what)


# --- sites (the pages' site filter) ----------------------------------------------------


def sites_for_inspections(*, user: User, limit: int = 500) -> list[Site]:
    """The sites the user may see, by name (the filters' and the new inspection's choices)."""
    _require_view(user)
    return list(Site.objects.filter(inspection_scope_q(user)).order_by("name", "pk")[:limit])


def site_for_inspections(*, user: User, pk: int) -> Site:
    """One site the user may see (404 otherwise)."""
    _require_view(user)
    site = Site.objects.filter(inspection_scope_q(user), pk=pk).first()
    if site is None:
        raise _not_found("site")
    return site


def own_site(user: User) -> Site | None:
    """The site of a site-staff user (None for any other role)."""
    if not bound_to_site(user) or not user.place_id:
        return None
    return Site.objects.filter(place_id=user.place_id).first()


# --- the checklist ---------------------------------------------------------------------

CHECKLIST_ORDER = ("order", "code")


def checklist_items(*, user: User, include_retired: bool = False) -> QuerySet[ChecklistItem]:
    """The standard's items in order (the active ones, or all with the retired)."""
    _require_view(user)
    qs = ChecklistItem.objects.all()
    if not include_retired:
        qs = qs.filter(active=True)
    return qs.order_by(*CHECKLIST_ORDER, "pk")


def checklist_item_get(*, user: User, pk: int) -> ChecklistItem:
    _require_view(user)
    item = ChecklistItem.objects.filter(pk=pk).first()
    if item is None:
        raise _not_found("checklist_item")
    return item


def checklist_by_category(items: list[ChecklistItem]) -> list[tuple[str, list[ChecklistItem]]]:
    """Items grouped by category, categories in the order of their first item."""
    groups: dict[str, list[ChecklistItem]] = {}
    for item in items:
        groups.setdefault(item.category, []).append(item)
    return list(groups.items())


# --- inspections -----------------------------------------------------------------------

INSPECTION_ORDER = ("-inspected_on", "-pk")


def inspections(*, user: User, site_id: int | None = None) -> QuerySet[Inspection]:
    """The inspections of the sites the user may see, newest first, with their number of
    failed items."""
    _require_view(user)
    qs = Inspection.objects.filter(inspection_scope_q(user, "site__"))
    if site_id is not None:
        qs = qs.filter(site_id=site_id)
    return (
        qs.select_related("site", "inspector")
        .annotate(
            failed_count=Count("findings", filter=Q(findings__passed=False)),
            item_count=Count("findings"),
        )
        .order_by(*INSPECTION_ORDER)
    )


def inspection_get(*, user: User, pk: int) -> Inspection:
    """One inspection with its findings (by the checklist's order) and rectifications."""
    _require_view(user)
    found = (
        Inspection.objects.filter(inspection_scope_q(user, "site__"), pk=pk)
        .select_related("site", "inspector")
        .first()
    )
    if found is None:
        raise _not_found("inspection")
    return found


def inspection_findings(inspection: Inspection) -> list[Finding]:
    """The inspection's findings by the checklist's order, each with its rectification."""
    return list(
        inspection.findings.select_related(
            "item", "rectification", "rectification__owner"
        ).order_by("item__order", "item__code", "pk")
    )


# --- rectifications --------------------------------------------------------------------

# Overdue first (open past the deadline), then open, then done; by deadline within each.
RECTIFICATION_ORDER = ("rank", "deadline_at", "pk")


def _ranked(qs: QuerySet[Rectification], now: dt.datetime) -> QuerySet[Rectification]:
    return qs.annotate(
        rank=Case(
            When(status=RectificationStatus.OPEN, deadline_at__lt=now, then=Value(0)),
            When(status=RectificationStatus.OPEN, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
    )


def rectifications(
    *,
    user: User,
    site_id: int | None = None,
    status: str | None = None,
    overdue_only: bool = False,
    now: dt.datetime | None = None,
) -> QuerySet[Rectification]:
    """The rectifications of the sites the user may see, overdue first."""
    _require_view(user)
    now = now or timezone.now()
    qs = Rectification.objects.filter(inspection_scope_q(user, "site__"))
    if site_id is not None:
        qs = qs.filter(site_id=site_id)
    if status:
        qs = qs.filter(status=status)
    if overdue_only:
        qs = qs.filter(status=RectificationStatus.OPEN, deadline_at__lt=now)
    return (
        _ranked(qs, now)
        .select_related("site", "owner", "finding", "finding__item", "finding__inspection")
        .order_by(*RECTIFICATION_ORDER)
    )


def rectification_get(*, user: User, pk: int, now: dt.datetime | None = None) -> Rectification:
    _require_view(user)
    found = (
        _ranked(
            Rectification.objects.filter(inspection_scope_q(user, "site__"), pk=pk),
            now or timezone.now(),
        )
        .select_related("site", "owner", "finding", "finding__item", "finding__inspection")
        .first()
    )
    if found is None:
        raise _not_found("rectification")
    return found


def rectifications_open_count(*, user: User, now: dt.datetime | None = None) -> dict[str, int]:
    """Open and overdue rectifications the user may see (the pages' counters)."""
    _require_view(user)
    now = now or timezone.now()
    counts = Rectification.objects.filter(
        inspection_scope_q(user, "site__"), status=RectificationStatus.OPEN
    ).aggregate(
        open=Count("pk"),
        overdue=Count("pk", filter=Q(deadline_at__lt=now)),
    )
    return {"open": counts["open"] or 0, "overdue": counts["overdue"] or 0}


# --- the closed-loop staff roster ------------------------------------------------------

SHIFT_ORDER = ("site__name", "-starts_on", "pk")


def staff_shifts(
    *, user: User, site_id: int | None = None, current_on: dt.date | None = None
) -> QuerySet[StaffShift]:
    """The staff shifts of the sites the user may see, with the date and result of each
    member's last own test (`last_test_on`, `last_result`). `current_on` keeps the shifts
    not ended before that day."""
    _require_view(user)
    qs = StaffShift.objects.filter(inspection_scope_q(user, "site__"))
    if site_id is not None:
        qs = qs.filter(site_id=site_id)
    if current_on is not None:
        qs = qs.filter(ends_on__gte=current_on - dt.timedelta(days=14))
    last = StaffTest.objects.filter(shift_id=OuterRef("pk")).order_by("-tested_on", "-pk")
    return (
        qs.select_related("site", "user")
        .annotate(
            last_test_on=Subquery(last.values("tested_on")[:1]),
            last_result=Subquery(last.values("result")[:1]),
        )
        .order_by(*SHIFT_ORDER)
    )


def staff_shift_get(*, user: User, pk: int) -> StaffShift:
    _require_view(user)
    found = (
        StaffShift.objects.filter(inspection_scope_q(user, "site__"), pk=pk)
        .select_related("site", "user")
        .first()
    )
    if found is None:
        raise _not_found("staff_shift")
    return found


def staff_tests(shift: StaffShift, limit: int = 30) -> list[StaffTest]:
    return list(shift.tests.order_by("-tested_on", "-pk")[:limit])


def site_staff_accounts(site: Site) -> list[User]:
    """The site's own staff accounts (a rectification's owner, a roster member's account)."""
    from fangkong.accounts import selectors as account_selectors
    from fangkong.accounts.roles import Role

    return account_selectors.users_at_place(place_id=site.place_id, role=Role.SITE_STAFF)


# --- the overdue board (core.deadlines, kind "quarantine.rectification") ----------------

RECTIFICATION_DEADLINE_KIND = "quarantine.rectification"


def _rectifications_overdue_q(user: User, now: dt.datetime) -> QuerySet[Rectification]:
    """Open rectifications past their deadline at the sites the user may see (index
    rectification_due on status and deadline)."""
    return Rectification.objects.filter(
        inspection_scope_q(user, "site__"), status=RectificationStatus.OPEN, deadline_at__lt=now
    )


def rectifications_overdue_items(user: User, now: dt.datetime, limit: int) -> list[OverdueItem]:
    """The board's items: open rectifications past their deadline, the oldest first,
    owned by their site."""
    _require_view(user)
    rows = list(
        _rectifications_overdue_q(user, now)
        .select_related("site", "finding__item")
        .order_by("deadline_at", "pk")[:limit]
    )
    url = reverse("quarantine:rectification_list")
    return [
        OverdueItem(
            kind=RECTIFICATION_DEADLINE_KIND,
            key=str(r.pk),
            title=_("整改 %(code)s：%(text)s")
            % {"code": r.finding.item.code, "text": Truncator(r.finding.item.text).chars(40)},
            deadline=r.deadline_at,
            owner_kind=OwnerKind.SITE,
            owner_key=str(r.site_id),
            owner_label=r.site.name,
            url=f"{url}?site={r.site_id}&overdue=1#rectification-{r.pk}",
            path=r.site.jurisdiction_path,
            detail=Truncator(r.finding.note).chars(60),
            escalated_at=r.escalated_at,
        )
        for r in rows
    ]


def rectifications_overdue_count(user: User, now: dt.datetime) -> int:
    _require_view(user)
    return _rectifications_overdue_q(user, now).count()
