"""The situation at a glance: the figures the dashboard and the daily report both show.

`situation(user=, day=)` reads ONE stored snapshot (`FigureSnapshot`, written by the
figures job, `command.services.figures`) for the user's jurisdiction and day: command
(and every role with dashboard.view bound to the city) sees the city, town staff their
own town only; any other scope is refused. It never counts a base table, so a page costs
the same few queries at a million persons.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import has_capability, require, scope_path
from fangkong.accounts.roles import Capability
from fangkong.areas import selectors as area_selectors
from fangkong.areas.choices import ZoneLevel
from fangkong.command.models import FigureSnapshot
from fangkong.command.services.figures import empty_figures
from fangkong.core import deadlines
from fangkong.core.errors import PermissionDenied
from fangkong.core.paths import CITY_WIDTH, TOWN_WIDTH
from fangkong.tracing.selectors.figures import CASE_KIND_LABELS

if TYPE_CHECKING:
    from fangkong.accounts.models import User

CURVE_DAYS_MAX = 90
ZONE_LEVELS = (ZoneLevel.SEALED, ZoneLevel.CONTROLLED, ZoneLevel.PRECAUTION)


def situation_scope(*, user: User) -> str:
    """The jurisdiction whose figures `user` sees: a city or a town path. Raises
    PermissionDenied (403) without dashboard.view or for a scope that is neither."""
    require(user, Capability.DASHBOARD_VIEW)
    path = scope_path(user)
    if len(path) not in (CITY_WIDTH, TOWN_WIDTH):
        raise PermissionDenied("dashboard_scope", _("指挥大屏只面向全市和镇街"), scope=path or "-")
    return path


def situation_allowed(*, user: User) -> bool:
    """Whether `user` has figures to see (dashboard.view, bound to a city or a town)."""
    return has_capability(user, Capability.DASHBOARD_VIEW) and len(scope_path(user)) in (
        CITY_WIDTH,
        TOWN_WIDTH,
    )


def _url(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # the page is not wired (yet)
        return ""


def _curve(curve: dict[str, dict[str, int]], day: dt.date) -> dict[str, Any]:
    """Both series on one run of dates, zeros filled: up to `day` (or up to the last
    case's date when that is long before it), at most CURVE_DAYS_MAX days."""
    known = [dt.date.fromisoformat(iso) for series in curve.values() for iso in series]
    known = [d for d in known if d <= day]
    if not known:
        return {"dates": [], "onset": [], "report": [], "onset_none": False}
    window = dt.timedelta(days=CURVE_DAYS_MAX - 1)
    last = day if max(known) >= day - window else max(known)
    first = max(min(known), last - window)
    dates = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    isos = [d.isoformat() for d in dates]
    onset = [curve.get("onset", {}).get(iso, 0) for iso in isos]
    report = [curve.get("report", {}).get(iso, 0) for iso in isos]
    return {
        "dates": isos,
        "onset": onset,
        "report": report,
        # Cases shown, none with an onset date (asymptomatic cases have none).
        "onset_none": any(report) and not any(onset),
    }


def _event(event: dict[str, Any]) -> dict[str, Any]:
    """One key event in words, de-identified: numbers and place names, never a person."""
    kind = event["kind"]
    zone_labels = dict(ZoneLevel.choices)
    if kind == "case":
        label = str(CASE_KIND_LABELS.get(event["case_kind"], ""))
        text = _("新增%(kind)s %(number)s（%(town)s）") % {
            "kind": label,
            "number": event["number"],
            "town": event.get("town") or _("本市"),
        }
        if event.get("source_unknown"):
            text += _("，来源不明")
        url = _url("tracing:case_detail", event["id"])
    elif kind in ("zone_drawn", "zone_lifted"):
        template = (
            _("划定%(level)s：%(name)s") if kind == "zone_drawn" else _("解除%(level)s：%(name)s")
        )
        text = template % {"level": zone_labels.get(event["level"], ""), "name": event["name"]}
        url = _url("areas:zone_detail", event["id"])
    else:  # push_late
        text = _("推送核查清单 %(number)s 超过时限未完成（%(town)s）") % {
            "number": event["number"],
            "town": event.get("town") or _("本市"),
        }
        url = _url("tracing:push_detail", event["id"])
    return {"at": dt.datetime.fromisoformat(event["at"]), "kind": kind, "text": text, "url": url}


def overdue_count(*, user: User, now: dt.datetime | None = None) -> int:
    """The items past their deadline that `user` sees, over every registered kind."""
    now = now or timezone.now()
    kinds = deadlines.kinds_for(has_capability=lambda c: has_capability(user, c))
    return sum(kind.count(user, now) for kind in kinds)


def overdue_count_recent(*, user: User) -> int:
    """`overdue_count` as of at most FANGKONG_OVERDUE_COUNT_SECONDS (30) ago, kept per
    user in the cache: the dashboard shows it on every request and the registered kinds
    count their base tables (a handful of indexed counts), so a user reloading the page
    counts them at most once per period. The overdue board itself counts live."""
    seconds = int(getattr(settings, "FANGKONG_OVERDUE_COUNT_SECONDS", 30))
    if seconds <= 0:
        return overdue_count(user=user)
    joined = user.date_joined.isoformat() if user.date_joined else ""
    key = f"command:overdue:{user.pk}:{user.role}:{scope_path(user)}:{joined}"
    found = cache.get(key)
    if found is None:
        found = overdue_count(user=user)
        cache.set(key, found, seconds)
    return int(found)


def situation_stamp(*, user: User, day: dt.date | None = None) -> dict[str, Any]:
    """What identifies `situation(user=, day=)`'s stored figures without reading them:
    {scope_path, scope_name, day, computed_at, previous_at} (the two snapshots' times,
    None when not computed). One query on the snapshot rows' stamps; the same scope rule
    as `situation` (PermissionDenied for any other scope). The dashboard keys its
    rendered figures by it, so a page whose snapshots have not changed reads nothing
    more (the overdue count aside)."""
    path = situation_scope(user=user)
    day = day or timezone.localdate()
    before = day - dt.timedelta(days=1)
    stamps = {
        row_day: (computed_at, name)
        for row_day, computed_at, name in FigureSnapshot.objects.filter(
            path=path, day__in=[day, before]
        ).values_list("day", "computed_at", "figures__scope_name")
    }
    computed_at, name = stamps.get(day, (None, ""))
    if not name:
        node = area_selectors.jurisdiction_summary(path=path)
        name = node["name"] if node else ""
    return {
        "scope_path": path,
        "scope_name": name,
        "day": day,
        "computed_at": computed_at,
        "previous_at": stamps.get(before, (None, ""))[0],
    }


def situation(*, user: User, day: dt.date | None = None) -> dict[str, Any]:
    """The figures of `day` (default today, Asia/Shanghai) in the user's jurisdiction.

    Scope: command (city scope) sees the city; town staff their own town only; any other
    role or scope is refused (PermissionDenied, 403). One snapshot row is read (and the
    day before's, for the trend); the overdue count asks the registered deadline kinds.

    Keys and their exact meaning (the snapshot is as of `computed_at`; a snapshot of a
    past day counts what the base tables held when it was computed):

    - scope_path, scope_name, day, computed_at (None when the figures of that day have
      not been computed yet: every figure is then 0);
    - cases: new (reported on `day`), total (reported up to the end of `day`),
      new_confirmed / new_asymptomatic, total_confirmed / total_asymptomatic, and of the
      total source_known / source_unknown (the investigator's 来源不明 mark);
    - contacts: for "close" (密接), "secondary" (次密接), "risk" (时空伴随者/风险人员):
      found (every contact of the class), pushed (on at least one pushed list),
      controlled_24h (the town's feedback on a list put them under a measure —
      centralised, home or hospital — within 24 h of the list's creation), placed (status
      controlled now), released (status released);
    - pushes, a partition of the lists: open (not done), on_time (done by the deadline),
      late (done after it); and open_overdue (of the open, past the deadline when
      computed);
    - testing: round (the newest started screening round covering or within the
      jurisdiction: id, name, target persons, sampled persons, persons with a result,
      positives in a single tube) or None; rechecks_due (single-tube rechecks without
      a result);
    - quarantine: rooms in service, occupied (someone checked in), reserved (held for
      persons not yet arrived), free (ready), placed (persons of the jurisdiction under
      an open placement), released (placements released);
    - zones: the zones in force [{id, name, level, days (consecutive days without a new
      case), since (days since drawn), state}], zones_by_level {sealed, controlled,
      precaution};
    - supplies_low: testing stocks below their threshold; overdue: items past their
      deadline over `core.deadlines` kinds the user may see (counted live, at most
      FANGKONG_OVERDUE_COUNT_SECONDS ago: `overdue_count_recent`);
    - curve: {dates, onset, report, onset_none}: cases by onset date and by report
      day; onset_none when there are cases and none has an onset date;
    - case_points: {community path: cases (total)} for the map, no person;
    - events: the day's key events [{at, kind, text, url}], de-identified (case numbers,
      place names);
    - previous: {cases, pushes} of the day before (None when not computed): the trend.
    """
    path = situation_scope(user=user)
    day = day or timezone.localdate()
    rows = {
        row.day: row
        for row in FigureSnapshot.objects.filter(
            path=path, day__in=[day, day - dt.timedelta(days=1)]
        )
    }
    row = rows.get(day)
    figures = row.figures if row is not None else empty_figures()
    if not figures.get("scope_name"):
        node = area_selectors.jurisdiction_summary(path=path)
        figures["scope_name"] = node["name"] if node else ""
    zones = [
        {
            "id": z["id"],
            "name": z["name"],
            "level": z["level"],
            "days": z["days"],
            "since": z["since"],
            "state": "active",
        }
        for z in figures["zones"]
    ]
    by_level = dict.fromkeys((str(level) for level in ZONE_LEVELS), 0)
    for zone in zones:
        if zone["level"] in by_level:
            by_level[zone["level"]] += 1
    before = rows.get(day - dt.timedelta(days=1))
    return {
        "scope_path": path,
        "scope_name": figures["scope_name"],
        "day": day,
        "computed_at": row.computed_at if row is not None else None,
        "cases": figures["cases"],
        "contacts": figures["contacts"],
        "pushes": figures["pushes"],
        "testing": {"round": figures["round"], "rechecks_due": figures["rechecks_due"]},
        "quarantine": figures["quarantine"],
        "zones": zones,
        "zones_by_level": by_level,
        "supplies_low": figures["supplies_low"],
        "overdue": overdue_count_recent(user=user),
        "curve": _curve(figures["curve"], day),
        "case_points": figures["case_points"],
        "events": [_event(e) for e in figures["events"]],
        "previous": (
            {"cases": before.figures["cases"], "pushes": before.figures["pushes"]}
            if before is not None
            else None
        ),
    }
