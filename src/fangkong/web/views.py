"""The home page: the command dashboard for roles that have it, a landing page for others."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from fangkong.accounts.permissions import has_capability
from fangkong.accounts.roles import ROLE_CAPABILITIES, Capability, Role
from fangkong.accounts.types import AuthedRequest
from fangkong.areas.choices import PlaceKind
from fangkong.command.selectors.figures import situation_allowed
from fangkong.command.views.dashboard import dashboard_page
from fangkong.core import search as core_search
from fangkong.core.errors import DomainError, NotFound, PermissionDenied
from fangkong.quarantine.selectors import sites as quarantine_sites
from fangkong.web.forms import SearchForm
from fangkong.web.navigation import NAV_ENTRIES, nav_items
from fangkong.web.selectors import jurisdiction_chain

if TYPE_CHECKING:
    from fangkong.accounts.models import User

# What each role does in fangkong today (DESIGN.md, "Users and what each does"), for the
# landing page: only work that has pages now, which the landing page links below it.
ROLE_WORK: dict[str, Any] = {
    Role.COMMAND: gettext_lazy(
        "掌握全局：指挥大屏的今日态势，超时督办，向部门和镇街派发任务，听取镇街日报，"
        "生成疫情日报；风险区与降级建议、病例与推送核查、全员核酸进度与物资，"
        "隔离点房态与储备、隔离管控与转运、健康预警，对照标准检查隔离点并督办整改。"
    ),
    Role.INVESTIGATOR: gettext_lazy("流调溯源：病例、活动轨迹、密接与传播链，推送核查名单。"),
    Role.TOWN_STAFF: gettext_lazy(
        "本镇街：接收推送核查名单并反馈结果，风险区，核酸检测轮次、采样点、单管复核与物资，"
        "本镇街居民的隔离管控：批量安排隔离、转运交接，居家隔离与健康监测打卡；"
        "本镇街态势，签收和回复交办任务，每日报送镇街日报。"
    ),
    Role.DEPARTMENT: gettext_lazy(
        "本部门：签收、办理和回复指挥部交办的任务，查看本部门的超时事项、风险区、辖区与场所。"
    ),
    Role.COMMUNITY_WORKER: gettext_lazy(
        "本村社：住户与人员，接触者名单，核酸覆盖与未采样人员，单管复核，"
        "居家隔离与居家健康监测人员每日打卡（可只看漏打卡的），本村社居民的隔离管控情况。"
    ),
    Role.SITE_STAFF: gettext_lazy(
        "本隔离点：今日工作（转运到达的入住登记、每日两次健康监测、应检人员采样与送检、"
        "到期解除隔离并打印解除隔离证明），健康预警处置，房间看板与隔离人员，"
        "本点整改与闭环人员核酸；查询人员（默认脱敏），查看风险区、辖区与场所。"
    ),
    Role.SAMPLER: gettext_lazy(
        "本采样点：在手机上登记采样（离线也能登记），装箱交接，采样点状态与物资库存。"
    ),
    Role.LAB: gettext_lazy(
        "本检测机构：扫码接收转运箱，导入检测结果并查看检测时效。"
        "单管复核的样本也装在转运箱里送来，同样扫码接收、随检测结果一并导入。"
    ),
    Role.HOTLINE: gettext_lazy("答复群众询问：查询人员（默认脱敏），查看风险区、辖区与场所。"),
    Role.PUBLICITY: gettext_lazy("发布信息的依据：查看风险区、辖区与场所。"),
    Role.ADMIN: gettext_lazy("系统管理：用户账户与参考数据（管理后台）、接口令牌、审计日志。"),
}

# A role's duties that have no pages in fangkong yet: the landing page names them as
# such, so that nobody looks for a page that is not there. Their pages come with the
# modules that own them (quarantine, hotline, publicity ...); drop a line when they do.
ROLE_WORK_WITHOUT_PAGES: dict[str, Any] = {
    Role.COMMAND: gettext_lazy("审批对外发布的通报"),
    Role.TOWN_STAFF: gettext_lazy("落地管控措施、群众诉求"),
    Role.COMMUNITY_WORKER: gettext_lazy("上门排查"),
    Role.HOTLINE: gettext_lazy("受理群众诉求（就医、生活物资、出行、复工），分派并跟踪办结"),
    Role.PUBLICITY: gettext_lazy("发布权威通报，跟踪舆情并及时辟谣"),
}

# Which capability guards each navigation entry (to link a capability to its page).
NAV_CAPABILITY: dict[str, str] = {e.key: e.capability for e in NAV_ENTRIES if e.capability}


def _capabilities(role: str, nav: list[dict[str, Any]]) -> list[dict[str, str]]:
    """What the role may do, in words (accounts.roles.Capability labels), in the order
    capabilities are declared; each with the page it opens, when the navigation has one
    guarded by it: [{label, url}]."""
    caps = ROLE_CAPABILITIES.get(role, frozenset())
    urls: dict[str, str] = {}
    for item in nav:
        capability = NAV_CAPABILITY.get(item["key"])
        if capability and capability not in urls:
            urls[capability] = item["url"]
    return [{"label": str(c.label), "url": urls.get(c, "")} for c in Capability if c in caps]


def _own_site(user: User) -> dict[str, Any] | None:
    """Site staff's landing: their quarantine site with its rooms by state and the
    persons placed there, and the links to their day and the site's board."""
    if user.role != Role.SITE_STAFF or not getattr(user, "place_id", None):
        return None
    if not has_capability(user, Capability.SITE_VIEW):
        return None
    row = next(iter(quarantine_sites.site_rows(user=user)), None)
    if row is None:
        return None
    links = []
    for label, name, args in (
        (_("今日工作：入住、健康监测、采样、解除"), "quarantine:site_day", ()),
        (_("房间看板"), "quarantine:site_board", (row.site.pk,)),
    ):
        try:
            links.append({"label": label, "url": reverse(name, args=args)})
        except NoReverseMatch:  # the page is not wired (yet)
            continue
    return {"row": row, "links": links}


def _landing_context(request: AuthedRequest) -> dict[str, Any]:
    user: User = request.user
    place = user.place if getattr(user, "place_id", None) else None
    return {
        "site": _own_site(user),
        "role_label": user.get_role_display() if user.role else _("未分配角色"),
        "role_work": ROLE_WORK.get(user.role, ""),
        "role_work_without_pages": ROLE_WORK_WITHOUT_PAGES.get(user.role, ""),
        "chain": jurisdiction_chain(user=user),
        "place": place,
        "place_kind_label": dict(PlaceKind.choices).get(place.kind, "") if place else "",
        "capabilities": _capabilities(user.role, nav_items(request)),
    }


@login_required
def home(request: AuthedRequest) -> HttpResponse:
    """The situation at a glance (command's dashboard) for roles with dashboard.view bound
    to a city or a town; a landing page for every other role (and an unbound account)."""
    if situation_allowed(user=request.user):
        return dashboard_page(request)
    return render(request, "web/landing.html", _landing_context(request))


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for on pages that name no icon (the Django admin,
    the API docs, a file): the shell's icon, served from the app's own static files."""
    return HttpResponsePermanentRedirect(static("web/favicon.ico"))


@require_GET
@never_cache
def csrf_token(request: HttpRequest) -> JsonResponse:
    """The session's current CSRF token as JSON, for a page that may be older than the
    token (the sampler page served offline by its service worker). Scripts cannot read
    the CSRF cookie (CSRF_COOKIE_HTTPONLY); another origin cannot read this answer (no
    CORS), so the token stays as secret as the cookie."""
    if not request.user.is_authenticated:
        raise DomainError("not_authenticated", _("请先登录"), status=401)
    return JsonResponse({"token": get_token(request)})


# --- The header's search (core.search) --------------------------------------------------


def _search_groups(groups: list[core_search.SearchGroup]) -> list[dict[str, Any]]:
    return [
        {
            "code": g.searcher.code,
            "label": str(g.searcher.label),
            "hits": g.hits,
            "error": g.error.message if g.error is not None else "",
        }
        for g in groups
    ]


@require_http_methods(["GET", "POST"])
@login_required
def search(request: AuthedRequest) -> HttpResponse:
    """The header's search: persons, cases, places, tubes, tasks ... by number or name
    initials, each kind scoped as its own list (core.search). An exact number goes
    straight to its object. The header's form posts: a query that is no lookup is sent
    on to the same page by GET (an address to go back to); a full ID number or phone is
    an audited lookup, answered to the POST only, never in a URL (by GET: 400)."""
    data = SearchForm(request.POST if request.method == "POST" else request.GET).cleaned()
    user = request.user

    def can(capability: str) -> bool:
        return has_capability(user, capability)

    context: dict[str, Any] = {
        "q": "",
        "groups": [],
        "searched": False,
        "error": "",
        "hints": [
            {"label": str(s.label), "hint": str(s.hint)}
            for s in core_search.searchers_for(has_capability=can)
        ],
    }
    status = 200
    context["q"] = (data["q"] or "").strip()[: core_search.QUERY_MAX]  # shown back as typed
    try:
        q = core_search.clean_query(data["q"])
        context["q"] = q
        post = request.method == "POST"
        if post and q and not core_search.needs_post(q, has_capability=can):
            return redirect(f"{reverse('web:search')}?{urlencode({'q': q})}")
        groups = core_search.search(user, q, has_capability=can, post=post)
        hit = core_search.exact_hit(groups)
        if hit is not None:
            return redirect(hit.url)
        context["groups"] = _search_groups(groups)
        context["searched"] = bool(q)
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:  # too short or too long; a full number by GET
        context["error"] = exc.message
        if exc.code == "lookup_needs_post":
            context["q"] = ""  # not echoed back into the page
        status = exc.status
    return render(request, "web/search.html", context, status=status)
