"""The main navigation: which pages a user's role may open, grouped by what the user does.

The menus follow the seed's "eight musts" (DESIGN.md): each entry belongs to one group
(`Group`: readiness 指挥调度, quarantine, tracing, testing, public information, residents'
needs, whole society, review, and the rule sets and settings), and the header shows each
group the user may open anything in as one menu (`nav_groups`). A group with no entry the
user may open is not shown: a menu never leads nowhere (public information and residents'
needs have no pages yet, so nobody sees them).

Each entry names a URL (by URL name) and the capability a role needs to see it
(accounts.permissions.has_capability; a capability not declared yet is simply held by no
role); the Django admin entry is for staff accounts only, the inbox for everyone signed
in. A page that works only at the user's own place (packing boxes at a sampling point,
receiving them and importing results at a lab) also names that kind of place, and is
shown only to roles bound to such a place (accounts.roles.PLACE_ROLES): an administrator
holds every capability but has no point or lab, and a menu entry must never lead to a
refusal.
Labels carry the gettext context "nav": a menu names a section ("People") where the same
Chinese word elsewhere names one thing ("Person").
An entry whose URL name does not resolve (the app that owns it has not wired the page
yet) is left out, so that the page shell never fails because of another app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import HttpRequest
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from fangkong.accounts.permissions import has_capability
from fangkong.accounts.roles import PLACE_ROLES, Capability, Role
from fangkong.accounts.types import is_signed_in

if TYPE_CHECKING:
    from fangkong.accounts.models import User


class Group:
    """The menus of the header, in the order of the seed's eight musts."""

    READINESS = "readiness"  # 状态绷紧: the situation, overdue items, tasks, reports
    QUARANTINE = "quarantine"  # 隔离点位管控
    TRACING = "tracing"  # 流调及数据查控
    TESTING = "testing"  # 核酸采样检测
    PUBLICITY = "publicity"  # 舆情引导 (no pages yet)
    NEEDS = "needs"  # 响应需求呼声: residents' requests (no pages yet)
    SOCIETY = "society"  # 全社会防控: zones, places, jurisdictions, people
    REVIEW = "review"  # 复盘反思: the audit log, lookup alerts
    SYSTEM = "system"  # the rule sets, API tokens, the admin


@dataclass(frozen=True)
class NavGroup:
    key: str
    label: Promise
    description: Promise


NAV_GROUPS: tuple[NavGroup, ...] = (
    NavGroup(
        Group.READINESS,
        pgettext_lazy("nav", "指挥调度"),
        _("状态绷紧：指挥大屏、超时督办、任务、镇街日报与疫情日报"),
    ),
    NavGroup(
        Group.QUARANTINE,
        pgettext_lazy("nav", "隔离管控"),
        _("隔离点、隔离人员、转运、检查整改与居家管控"),
    ),
    NavGroup(
        Group.TRACING,
        pgettext_lazy("nav", "流调溯源"),
        _("病例、接触者、推送核查、传播链与扫码数据"),
    ),
    NavGroup(
        Group.TESTING,
        pgettext_lazy("nav", "核酸检测"),
        _("全员核酸轮次、采样点、采样登记、转运箱、检测结果、单管复核与物资"),
    ),
    NavGroup(Group.PUBLICITY, pgettext_lazy("nav", "舆情引导"), _("权威通报与辟谣")),
    NavGroup(Group.NEEDS, pgettext_lazy("nav", "群众诉求"), _("群众就医、生活物资、出行等诉求")),
    NavGroup(
        Group.SOCIETY,
        pgettext_lazy("nav", "全社会防控"),
        _("人员与住户、风险区、场所与辖区"),
    ),
    NavGroup(Group.REVIEW, pgettext_lazy("nav", "复盘"), _("审计日志与查询预警")),
    NavGroup(Group.SYSTEM, pgettext_lazy("nav", "方案与设置"), _("防控方案、接口令牌与管理后台")),
)

GROUP_KEYS = frozenset(g.key for g in NAV_GROUPS)


@dataclass(frozen=True)
class NavEntry:
    key: str
    group: str  # a Group
    label: Promise
    url_name: str
    capability: str | None  # None: staff_only or everyone decides
    description: Promise
    staff_only: bool = False
    everyone: bool = False  # every signed-in user (their own inbox)
    place_kind: str | None = None  # the page works at the user's own place of this kind


NAV_ENTRIES: tuple[NavEntry, ...] = (
    NavEntry(
        "dashboard",
        Group.READINESS,
        pgettext_lazy("nav", "指挥大屏"),
        "command:dashboard",
        Capability.DASHBOARD_VIEW,
        _("病例、接触者、核酸、隔离与风险区的今日态势和趋势"),
    ),
    NavEntry(
        "overdue",
        Group.READINESS,
        pgettext_lazy("nav", "超时督办"),
        "command:overdue",
        Capability.OVERDUE_VIEW,
        _("所有超过时限未办结的事项，按责任单位列出，最早的在前"),
    ),
    NavEntry(
        "tasks",
        Group.READINESS,
        pgettext_lazy("nav", "交办任务"),
        "command:task_list",
        Capability.TASK_VIEW,
        _("指挥部向部门和镇街派发任务，签收、办理、回复和督办"),
    ),
    NavEntry(
        "town_reports",
        Group.READINESS,
        pgettext_lazy("nav", "镇街日报"),
        "command:town_reports",
        Capability.TOWN_REPORT_VIEW,
        _("各镇街每日报送的进展、困难问题与需求"),
    ),
    NavEntry(
        "daily_report",
        Group.READINESS,
        pgettext_lazy("nav", "疫情日报"),
        "command:daily_report_today",
        Capability.REPORT_VIEW,
        _("按日期生成疫情日报（通报），可打印，可下载 Word 文档"),
    ),
    NavEntry(
        "inbox",
        Group.READINESS,
        pgettext_lazy("nav", "消息"),
        "notices:inbox",
        None,
        _("推送名单、任务、整改、升级督办和阳性的通知"),
        everyone=True,
    ),
    NavEntry(
        "people",
        Group.SOCIETY,
        pgettext_lazy("nav", "人员"),
        "people:list",
        Capability.PERSON_VIEW,
        _("查找和核查辖区内的人员与住户"),
    ),
    NavEntry(
        "cases",
        Group.TRACING,
        pgettext_lazy("nav", "病例"),
        "tracing:case_list",
        Capability.CASE_VIEW,
        _("病例报告、流调、活动轨迹与超时提醒"),
    ),
    NavEntry(
        "contacts",
        Group.TRACING,
        pgettext_lazy("nav", "接触者"),
        "tracing:contact_list",
        Capability.CONTACT_VIEW,
        _("密接、次密接、时空伴随者及其隔离期与检测日"),
    ),
    NavEntry(
        "pushes",
        Group.TRACING,
        pgettext_lazy("nav", "推送核查"),
        "tracing:push_list",
        Capability.PUSH_VIEW,
        _("推送到镇街的待核查人员清单，限时找到并管控"),
    ),
    NavEntry(
        "chains",
        Group.TRACING,
        pgettext_lazy("nav", "传播链"),
        "tracing:chain_graph",
        Capability.CASE_VIEW,
        _("病例之间的传播关系、聚集性疫情与代际"),
    ),
    NavEntry(
        "scan_import",
        Group.TRACING,
        pgettext_lazy("nav", "扫码数据"),
        "tracing:scan_import",
        Capability.SCANS_IMPORT,
        _("导入场所码扫码日志（CSV、Parquet），重复导入不重复入库"),
    ),
    NavEntry(
        "rounds",
        Group.TESTING,
        pgettext_lazy("nav", "全员核酸"),
        "testing:round_list",
        Capability.ROUND_VIEW,
        _("核酸检测轮次、应检人群、采样计划与混采数建议"),
    ),
    NavEntry(
        "points",
        Group.TESTING,
        pgettext_lazy("nav", "采样点"),
        "testing:point_list",
        Capability.POINT_MANAGE,
        _("采样点的采样台、采样员、开放时间与排队状态"),
    ),
    NavEntry(
        "supplies",
        Group.TESTING,
        pgettext_lazy("nav", "核酸物资"),
        "testing:supply_list",
        Capability.SUPPLY_VIEW,
        _("采样点和仓库的拭子、试管、防护用品库存与低库存预警"),
    ),
    NavEntry(
        "coverage",
        Group.TESTING,
        pgettext_lazy("nav", "核酸覆盖"),
        "testing:coverage_rounds",
        Capability.COVERAGE_VIEW,
        _("各轮次应检尽检进度、未采样人员名单与愿检尽检人数"),
    ),
    NavEntry(
        "quarantine_sites",
        Group.QUARANTINE,
        pgettext_lazy("nav", "隔离点"),
        "quarantine:site_list",
        Capability.SITE_VIEW,
        _("隔离点房态、空闲房间、储备是否达标与未来7日需求预测"),
    ),
    NavEntry(
        "placements",
        Group.QUARANTINE,
        pgettext_lazy("nav", "隔离管控"),
        "quarantine:placement_list",
        Capability.SITE_VIEW,
        _("集中隔离、居家隔离和居家健康监测人员及其期满日期"),
    ),
    NavEntry(
        "placement_bulk",
        Group.QUARANTINE,
        pgettext_lazy("nav", "批量隔离"),
        "quarantine:placement_bulk",
        Capability.PLACEMENT_MANAGE,
        _("一键安排病例的密接、次密接隔离并自动分配房间"),
    ),
    NavEntry(
        "transfers",
        Group.QUARANTINE,
        pgettext_lazy("nav", "转运"),
        "quarantine:transfer_list",
        Capability.PLACEMENT_MANAGE,
        _("从住址转运至隔离点：车辆、状态与时间"),
    ),
    NavEntry(
        "inspections",
        Group.QUARANTINE,
        pgettext_lazy("nav", "隔离点检查"),
        "quarantine:inspection_list",
        Capability.SITE_VIEW,
        _("对照标准检查隔离点，不符合项限时整改"),
    ),
    NavEntry(
        "rectifications",
        Group.QUARANTINE,
        pgettext_lazy("nav", "整改督办"),
        "quarantine:rectification_list",
        Capability.INSPECTION_MANAGE,
        _("隔离点检查发现问题的整改，超时的排在最前"),
    ),
    NavEntry(
        "site_rectifications",
        Group.QUARANTINE,
        pgettext_lazy("nav", "本点整改"),
        "quarantine:rectification_list",
        Capability.RECTIFICATION_UPDATE,
        _("本隔离点检查发现的问题，限时整改并填写整改情况"),
        place_kind="quarantine_site",
    ),
    NavEntry(
        "staff_roster",
        Group.QUARANTINE,
        pgettext_lazy("nav", "闭环人员"),
        "quarantine:staff_roster",
        Capability.SITE_MANAGE,
        _("隔离点闭环工作人员的闭环期与核酸检测"),
    ),
    NavEntry(
        "site_staff_roster",
        Group.QUARANTINE,
        pgettext_lazy("nav", "本点闭环人员"),
        "quarantine:staff_roster",
        Capability.PLACEMENT_CARE,
        _("本隔离点闭环工作人员的核酸登记"),
        place_kind="quarantine_site",
    ),
    NavEntry(
        "zones",
        Group.SOCIETY,
        pgettext_lazy("nav", "风险区"),
        "areas:zone_list",
        Capability.ZONE_VIEW,
        _("封控区、管控区、防范区的划定、计数与解除"),
    ),
    NavEntry(
        "places",
        Group.SOCIETY,
        pgettext_lazy("nav", "场所"),
        "areas:place_list",
        Capability.AREA_VIEW,
        _("场所、采样点、隔离点、检测机构与场所码"),
    ),
    NavEntry(
        "jurisdictions",
        Group.SOCIETY,
        pgettext_lazy("nav", "辖区"),
        "areas:jurisdiction_list",
        Capability.AREA_VIEW,
        _("市、镇街、村社、网格的辖区树"),
    ),
    NavEntry(
        "protocol",
        Group.SYSTEM,
        pgettext_lazy("nav", "防控方案"),
        "protocol:list",
        Capability.RULESET_VIEW,
        _("各版防控方案的规则与日期计算器"),
    ),
    NavEntry(
        "sampler",
        Group.TESTING,
        pgettext_lazy("nav", "采样登记"),
        "testing:sampler",
        Capability.SAMPLE_REGISTER,
        _("采样员扫码登记试管与受检人员，断网也能登记，联网后自动上传"),
    ),
    NavEntry(
        "boxes",
        Group.TESTING,
        pgettext_lazy("nav", "转运箱"),
        "testing:box_list",
        Capability.BOX_MANAGE,
        _("采样点装箱、扫码装管与交接"),
        place_kind="sampling_point",
    ),
    NavEntry(
        "box_receive",
        Group.TESTING,
        pgettext_lazy("nav", "转运箱接收"),
        "testing:box_receive",
        Capability.BOX_RECEIVE,
        _("检测机构扫码接收转运箱"),
        place_kind="lab",
    ),
    NavEntry(
        "lab_results",
        Group.TESTING,
        pgettext_lazy("nav", "结果导入"),
        "testing:lab_results",
        Capability.RESULT_IMPORT,
        _("导入检测结果（CSV、Excel），订正留痕，检测时效"),
        place_kind="lab",
    ),
    NavEntry(
        "rechecks",
        Group.TESTING,
        pgettext_lazy("nav", "单管复核"),
        "testing:recheck_list",
        Capability.RECHECK_VIEW,
        _("阳性混管人员的原地管控与单管复核任务"),
    ),
    NavEntry(
        "audit",
        Group.REVIEW,
        pgettext_lazy("nav", "审计日志"),
        "accounts:audit",
        Capability.AUDIT_VIEW,
        _("谁在何时查看、导出或修改了什么"),
    ),
    NavEntry(
        "lookup_alerts",
        Group.REVIEW,
        pgettext_lazy("nav", "查询预警"),
        "people:lookup_alerts",
        Capability.AUDIT_VIEW,
        _("按完整证件号码或手机号码查询未命中过多的用户，已暂停其精确查询"),
    ),
    NavEntry(
        "tokens",
        Group.SYSTEM,
        pgettext_lazy("nav", "接口令牌"),
        "accounts:tokens",
        Capability.TOKEN_MANAGE,
        _("为设备和对接系统签发、吊销接口令牌"),
    ),
    NavEntry(
        "admin",
        Group.SYSTEM,
        pgettext_lazy("nav", "管理后台"),
        "admin:index",
        None,
        _("参考数据的系统管理"),
        staff_only=True,
    ),
    NavEntry(
        "site_day",
        Group.QUARANTINE,
        pgettext_lazy("nav", "今日工作"),
        "quarantine:site_day",
        Capability.PLACEMENT_CARE,
        _("隔离点入住、健康监测、采样和解除"),
        place_kind="quarantine_site",
    ),
    NavEntry(
        "care_alerts",
        Group.QUARANTINE,
        pgettext_lazy("nav", "健康预警"),
        "quarantine:alert_list",
        Capability.PLACEMENT_CARE,
        _("隔离人员发热、症状和阳性预警及处置"),
    ),
    NavEntry(
        "home_list",
        Group.QUARANTINE,
        pgettext_lazy("nav", "居家管控"),
        "quarantine:home_list",
        Capability.HOME_MONITOR,
        _("居家隔离和居家健康监测人员每日打卡"),
    ),
)


# A role whose work is one or two pages finds them first, as links beside the menus (on
# a phone too, without opening a menu).
ROLE_LEADS: dict[str, tuple[str, ...]] = {
    Role.SAMPLER: ("sampler", "boxes"),
    Role.LAB: ("box_receive", "lab_results"),
    Role.SITE_STAFF: ("site_day", "care_alerts"),
}


def _ordered(role: str) -> tuple[NavEntry, ...]:
    leads = ROLE_LEADS.get(role, ())
    if not leads:
        return NAV_ENTRIES
    first = [e for key in leads for e in NAV_ENTRIES if e.key == key]
    return (*first, *(e for e in NAV_ENTRIES if e.key not in leads))


def entry_visible(user: User | AnonymousUser | None, entry: NavEntry) -> bool:
    """Whether the user's account may see this entry (URL resolution aside)."""
    if not is_signed_in(user):  # anonymous, or no user at all
        return False
    if entry.staff_only:
        return bool(getattr(user, "is_staff", False) and user.is_active)
    if entry.everyone:
        return bool(user.is_active)
    own_place_kind = PLACE_ROLES.get(getattr(user, "role", ""))
    if entry.place_kind is not None and own_place_kind != entry.place_kind:
        return False
    return entry.capability is not None and has_capability(user, entry.capability)


def resolve(url_name: str) -> str | None:
    """The URL of a URL name, or None when it is not wired (yet)."""
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


def _matches(path: str, url: str) -> bool:
    if url == "/":
        return path == "/"
    return path == url or path.startswith(url)


def _current(path: str, urls: list[str]) -> str | None:
    """The URL of the current section: the longest entry URL the path lies under (the
    dashboard's /command/ holds command's other pages, which are entries of their own)."""
    under = [url for url in urls if _matches(path, url)]
    return max(under, key=len) if under else None


# The entries a kind of account may open depend only on its role, staff flag, the
# language and the URL configuration: worked out once (41 URL lookups and labels) and
# kept in the cache; each request then only marks its current section.
NAV_SECONDS = 3600


def shown_key(user: User | AnonymousUser | None) -> str:
    """What the entries a user may open depend on, as a cache key."""
    role = getattr(user, "role", "") or ""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return ":".join(
        (
            "web:nav",
            role,
            str(bool(getattr(user, "is_staff", False))),
            str(bool(getattr(user, "is_active", False))),
            get_language() or "",
            get_script_prefix(),
            str(urlconf),
        )
    )


def _shown(user: User | AnonymousUser | None) -> list[dict[str, Any]]:
    """The entries `user` may open, without the current section (see nav_items)."""
    role = getattr(user, "role", "") or ""
    key = shown_key(user)
    found = cache.get(key)
    if found is not None:
        return list(found)
    leads = ROLE_LEADS.get(role, ())
    shown = []
    for entry in _ordered(role):
        if not entry_visible(user, entry):
            continue
        url = resolve(entry.url_name)
        if url is None:
            continue
        shown.append(
            {
                "key": entry.key,
                "group": entry.group,
                "label": str(entry.label),
                "url": url,
                "description": str(entry.description),
                "lead": entry.key in leads,
            }
        )
    cache.set(key, shown, NAV_SECONDS)
    return shown


def nav_items(request: HttpRequest) -> list[dict[str, Any]]:
    """The entries the requesting user may open, as {key, group, label, url, active,
    description, lead}: the role's leads first, then in the order of NAV_ENTRIES."""
    user = getattr(request, "user", None)
    path = getattr(request, "path", "") or ""
    shown = _shown(user)
    current = _current(path, [item["url"] for item in shown])
    return [{**item, "active": item["url"] == current} for item in shown]


def nav_groups(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The header's menus: each group that holds an entry of `items` other than the
    role's leads (shown beside the menus), in the order of NAV_GROUPS, as {key, label,
    description, items, active}. A group with nothing the user may open is absent."""
    groups = []
    for group in NAV_GROUPS:
        entries = [i for i in items if i["group"] == group.key and not i["lead"]]
        if not entries:
            continue
        groups.append(
            {
                "key": group.key,
                "label": str(group.label),
                "description": str(group.description),
                "items": entries,
                "active": any(i["active"] for i in entries),
            }
        )
    return groups
