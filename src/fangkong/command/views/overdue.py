"""The overdue board (超时督办): every item past its deadline, grouped by its owner."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from fangkong.accounts.types import AuthedRequest
from fangkong.command.forms import OverdueFilterForm
from fangkong.command.selectors import overdue as selectors
from fangkong.core.deadlines import OwnerKind

# Rows shown per owner on the whole board (the oldest); the owner's filter shows them all.
GROUP_ROWS = 10


def overdue_for(delta: dt.timedelta) -> str:
    """How long past its deadline, in words: 35分钟, 3小时20分, 2天4小时."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return _("%(d)d天%(h)d小时") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d小时%(m)d分") % {"h": hours, "m": minutes}
    return _("%(m)d分钟") % {"m": minutes}


def owner_kind_label(owner_kind: str) -> str:
    return {
        OwnerKind.TOWN: _("镇街"),
        OwnerKind.COMMUNITY: _("村社"),
        OwnerKind.DEPARTMENT: _("部门"),
        OwnerKind.SITE: _("隔离点"),
        OwnerKind.LAB: _("检测机构"),
        OwnerKind.COMMAND: _("指挥部"),
    }.get(owner_kind, owner_kind)


@require_GET
@login_required
def overdue_board(request: AuthedRequest) -> HttpResponse:
    """Every overdue item the user may see, by owner, the oldest first; filters by kind
    and owner; a link from each item to the page where it is done."""
    user = request.user
    filters = OverdueFilterForm(request.GET).lenient()
    now = timezone.now()
    limit = selectors.LIMIT_PER_KIND
    counts = selectors.overdue_counts(actor=user, now=now, limit_per_kind=limit)
    kind = filters["kind"] if filters["kind"] in {c.code for c in counts} else ""
    all_groups = selectors.overdue_groups(
        actor=user, now=now, kind=kind or None, limit_per_kind=limit
    )
    owner = filters["owner"] or ""
    groups = [g for g in all_groups if not owner or g.owner == owner]
    labels = {c.code: c.label for c in counts}
    totals = selectors.overdue_owner_totals(
        actor=user, now=now, groups=groups, counts=counts, kind=kind or None
    )
    context: dict[str, Any] = {
        "now": now,
        "counts": counts,
        "total": sum(c.count for c in counts),
        "truncated": [c for c in counts if c.count > c.shown],
        "kind": kind,
        "owner": owner,
        "owners": [(g.owner, g.owner_label) for g in all_groups],
        "groups": [
            {
                "group": g,
                "owner_kind_label": owner_kind_label(g.owner_kind),
                # every overdue item of the owner (None: more than listed, count unknown)
                "total": totals.get(g.owner),
                "listed": len(g.items),
                "rows": [
                    {
                        "item": item,
                        "kind_label": labels.get(item.kind, item.kind),
                        "overdue_for": overdue_for(item.overdue_by(now)),
                    }
                    for item in (g.items if owner else g.items[:GROUP_ROWS])
                ],
                "more": 0 if owner else max(len(g.items) - GROUP_ROWS, 0),
            }
            for g in groups
        ],
    }
    return render(request, "command/overdue.html", context)


urlpatterns: list[URLPattern] = [
    path("overdue/", overdue_board, name="overdue"),
]
