"""What quarantine tells people, through `notices` (inside the writing transaction):

- an inspection that found problems: the town's staff and the site's own staff hear of
  the new rectifications, once per inspection (`rectification.new`);
- rectifications escalated past their deadline: command, once per site per run
  (`escalation`).

Titles are de-identified: the site's name, counts and deadlines; never the owner's name.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.roles import Capability, Role
from fangkong.notices.choices import NoticeKind
from fangkong.notices.services import notify, site_language, users_at_place, users_over

if TYPE_CHECKING:
    from fangkong.quarantine.models import Inspection, Rectification, Site


def rectifications_created(
    inspection: Inspection, site: Site, *, count: int, deadline_at: dt.datetime
) -> int:
    """The site's town staff and the site's own staff hear of an inspection's problems."""
    if not count:
        return 0
    with site_language():
        title = _("%(site)s检查发现 %(n)s 项问题需整改，时限 %(deadline)s") % {
            "site": site.name,
            "n": count,
            "deadline": timezone.localtime(deadline_at).strftime("%m-%d %H:%M"),
        }
    return notify(
        users=[
            *users_over(
                path=site.jurisdiction_path,
                capability=Capability.SITE_VIEW,
                roles=[Role.TOWN_STAFF],
            ),
            *users_at_place(place_id=site.place_id, roles=[Role.SITE_STAFF]),
        ],
        kind=NoticeKind.RECTIFICATION_NEW,
        title=title,
        url=reverse("quarantine:inspection_detail", args=[inspection.pk]),
        object_type="inspection",
        object_id=inspection.pk,
        jurisdiction_path=site.jurisdiction_path,
    )


def rectifications_escalated(rectifications: list[Rectification]) -> int:
    """Command hears, per site, how many rectifications ran past their deadline."""
    by_site: dict[int, list[Rectification]] = defaultdict(list)
    for r in rectifications:
        by_site[r.site_id].append(r)
    sent = 0
    with site_language():
        for site_id, rows in sorted(by_site.items()):
            site = rows[0].site
            title = _("超时升级：%(site)s %(n)s 项整改逾期未完成") % {
                "site": site.name,
                "n": len(rows),
            }
            sent += notify(
                users=users_over(
                    path=site.jurisdiction_path,
                    capability=Capability.INSPECTION_MANAGE,
                    roles=[Role.COMMAND],
                ),
                kind=NoticeKind.ESCALATION,
                title=title,
                url=reverse("quarantine:rectification_list") + f"?site={site_id}&overdue=1",
                object_type="site",
                object_id=site_id,
                jurisdiction_path=site.jurisdiction_path,
            )
    return sent
