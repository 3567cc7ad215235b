"""The situation at a glance: command's landing page (and each town's, for its town).

The page reads `command.selectors.figures.situation` (one stored snapshot row), shows
every figure as a link to the list behind it, the epidemic curve (ECharts), the zones map
with cases counted per home community (Leaflet over the areas map endpoint), and the
day's key events.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fangkong.accounts.permissions import has_capability
from fangkong.accounts.roles import Capability
from fangkong.accounts.types import AuthedRequest
from fangkong.areas.choices import ZoneLevel
from fangkong.command.forms import SituationDayForm
from fangkong.command.selectors.figures import (
    overdue_count_recent,
    situation,
    situation_stamp,
)
from fangkong.command.services.figures import figures_refresh_request
from fangkong.core.paths import TOWN_WIDTH

MAP_GEOJSON_PATH = "api/areas/map.geojson"
# How long rendered figures are kept. They are keyed by their snapshots' times, so a new
# snapshot shows at once; the period only bounds the memory of old keys.
FIGURES_HTML_SECONDS = 300
CONTACT_CLASS_CODES = {"close": "close", "secondary": "secondary", "risk": "co_presence"}


def _link(name: str, *args: Any, **query: Any) -> str:
    """The URL of a list page with its filters; "" when the page is not wired (yet)."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return ""
    query = {k: v for k, v in query.items() if v not in (None, "")}
    return f"{url}?{urlencode(query)}" if query else url


def _links(data: dict[str, Any]) -> dict[str, Any]:
    """Every figure's list: {group: {figure: url}}."""
    day = data["day"].isoformat()
    case_list = "tracing:case_list"
    contacts: dict[str, dict[str, str]] = {}
    for key, code in CONTACT_CLASS_CODES.items():
        contacts[key] = {
            "found": _link("tracing:contact_list", classification=code),
            "pushed": _link("tracing:contact_list", classification=code, pushed="1"),
            "controlled_24h": _link(
                "tracing:contact_list", classification=code, controlled_24h="1"
            ),
            "placed": _link("tracing:contact_list", classification=code, status="controlled"),
            "released": _link("tracing:contact_list", classification=code, status="released"),
        }
    rnd = data["testing"]["round"]
    return {
        "cases": {
            "new": _link(case_list, since=day, until=day),
            "new_confirmed": _link(case_list, since=day, until=day, kind="confirmed"),
            "new_asymptomatic": _link(case_list, since=day, until=day, kind="asymptomatic"),
            "total": _link(case_list, until=day),
            "total_confirmed": _link(case_list, until=day, kind="confirmed"),
            "total_asymptomatic": _link(case_list, until=day, kind="asymptomatic"),
            "source_known": _link(case_list, until=day, source="known"),
            "source_unknown": _link(case_list, until=day, source="unknown"),
        },
        "contacts": contacts,
        "pushes": {
            "open": _link("tracing:push_list", status="open"),
            "open_overdue": _link("tracing:push_list", status="open", overdue="1"),
            "on_time": _link("tracing:push_list", status="done", completion="on_time"),
            "late": _link("tracing:push_list", status="done", completion="late"),
        },
        "round": _link("testing:round_detail", rnd["id"]) if rnd else "",
        "coverage": _link("testing:coverage_dashboard", rnd["id"]) if rnd else "",
        "rechecks_due": _link("testing:recheck_list", status="pending"),
        "quarantine": {
            "rooms": _link("quarantine:site_list"),
            "placed": _link("quarantine:placement_list", status="open"),
            "released": _link("quarantine:placement_list", status="released"),
        },
        "zones": _link("areas:zone_list"),
        "supplies_low": _link("testing:supply_list", low="1"),
        "overdue": _link("command:overdue"),
    }


def dashboard_context(request: AuthedRequest) -> dict[str, Any]:
    """The figures part's context (`_situation.html`): the snapshot's figures, the links
    to the lists behind them, the curve and the map's settings."""
    day = SituationDayForm(request.GET).lenient()["day"]
    data = situation(user=request.user, day=day)
    zone_labels = dict(ZoneLevel.choices)
    zones = [{**z, "label": zone_labels.get(z["level"], z["level"])} for z in data["zones"]]
    links = _links(data)
    for zone in zones:
        zone["url"] = _link("areas:zone_detail", zone["id"])
    previous = data["previous"]
    trend = None
    if previous is not None:
        trend = {
            "new": data["cases"]["new"] - previous["cases"].get("new", 0),
            "total": data["cases"]["total"] - previous["cases"].get("total", 0),
        }
    chart = {
        "dates": data["curve"]["dates"],
        "onset": data["curve"]["onset"],
        "report": data["curve"]["report"],
        "series_onset": _("按发病日期"),
        "series_report": _("按报告日期"),
    }
    map_config = {
        "url": get_script_prefix() + MAP_GEOJSON_PATH,
        # The city starts on its towns, a town on its communities.
        "level": "town" if len(data["scope_path"]) < TOWN_WIDTH else "community",
        "points": data["case_points"],
        "labels": {
            "sealed": str(zone_labels[ZoneLevel.SEALED]),
            "controlled": str(zone_labels[ZoneLevel.CONTROLLED]),
            "precaution": str(zone_labels[ZoneLevel.PRECAUTION]),
            "none": _("无风险区"),
            "empty": _("暂无辖区边界数据"),
            "failed": _("地图数据加载失败"),
            "cases": _("病例"),
        },
    }
    return {
        "s": data,
        "links": links,
        "zones": zones,
        "zone_cards": [
            {
                "level": level,
                "label": zone_labels[level],
                "count": data["zones_by_level"][level],
                "url": _link(
                    "areas:zone_list",
                    level=level,
                    state="active",
                    town=data["scope_path"] if len(data["scope_path"]) == TOWN_WIDTH else "",
                ),
            }
            for level in (ZoneLevel.SEALED, ZoneLevel.CONTROLLED, ZoneLevel.PRECAUTION)
        ],
        "contact_rows": [
            {
                "key": key,
                "label": label,
                "figures": data["contacts"][key],
                "links": links["contacts"][key],
            }
            for key, label in (
                ("close", _("密切接触者")),
                ("secondary", _("密接的密接")),
                ("risk", _("风险人员")),
            )
        ],
        "trend": trend,
        "chart": chart,
        "map_config": map_config,
    }


def _figures_html(request: AuthedRequest, stamp: dict[str, Any]) -> SafeString:
    """The figures part of the page (everything below the heading), rendered from
    `dashboard_context` once per scope, day, snapshot times, overdue count and language,
    and kept in the cache: every user of a scope reading unchanged snapshots gets the
    same bytes, so a reload costs the stamp query, the overdue count (itself kept 30 s
    per user) and the page shell. The part holds no form and nothing of the user."""
    overdue = overdue_count_recent(user=request.user)
    parts = (
        stamp["scope_path"],
        stamp["day"].isoformat(),
        stamp["computed_at"].isoformat() if stamp["computed_at"] else "-",
        stamp["previous_at"].isoformat() if stamp["previous_at"] else "-",
        str(overdue),
        get_language() or "",
        get_script_prefix(),
    )
    key = "command:figures:" + hashlib.sha256("|".join(parts).encode()).hexdigest()
    html = cache.get(key)
    if html is None:
        html = render_to_string("command/_situation.html", dashboard_context(request))
        cache.set(key, html, FIGURES_HTML_SECONDS)
    return mark_safe(html)  # noqa: S308 - rendered by our own autoescaping template


def dashboard_page(request: AuthedRequest) -> HttpResponse:
    """The situation at a glance for the user's city or town (`dashboard` and, for the
    roles that land on it, `web:home`)."""
    day = SituationDayForm(request.GET).lenient()["day"]
    stamp = situation_stamp(user=request.user, day=day)
    context = {
        "stamp": stamp,
        "figures_html": _figures_html(request, stamp),
        "can_refresh": has_capability(request.user, Capability.FIGURES_REFRESH),
    }
    return render(request, "command/dashboard.html", context)


@require_GET
@login_required
def dashboard(request: AuthedRequest) -> HttpResponse:
    """The situation at a glance for the user's city or town."""
    return dashboard_page(request)


@require_POST
@login_required
def figures_refresh(request: AuthedRequest) -> HttpResponse:
    """刷新: recompute the figures now (a job; the page shows them when it has run)."""
    figures_refresh_request(actor=request.user)
    messages.success(request, _("已开始重新计算，稍后刷新页面即可看到最新数据"))
    return HttpResponseRedirect(reverse("command:dashboard"))
