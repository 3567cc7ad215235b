"""Pages of mass testing: sampling — the sampler's phone page (offline-first) and its
service worker.

The page is server-rendered once (the point, its open rounds and their pool sizes) and
then runs on its own: `static/testing/sampler.js` keeps registrations in IndexedDB and
syncs them to the API in batches. The service worker is served from under the page's
path (its scope covers the page) and caches the page and its assets, so a sampler who
loses the network keeps registering and can even reload the page.
"""

from __future__ import annotations

import hashlib
import json

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from fangkong.accounts.types import AuthedRequest
from fangkong.testing.forms import SamplerPageForm
from fangkong.testing.selectors import sampling as selectors

SW_ASSETS = (
    "web/fangkong.css",
    "vendor/htmx/htmx.min.js",
    "testing/sampler.css",
    "testing/sampler.js",
)


def _point_id(request: HttpRequest) -> int | None:
    point: int | None = SamplerPageForm(request.GET).lenient()["point"]
    return point


def _page_text() -> dict[str, str]:
    """The words the page's script shows (translated here, passed as JSON)."""
    return {
        "online": _("在线"),
        "offline": _("离线（登记保存在本机）"),
        "open": _("采样中"),
        "closed": _("已封管"),
        "pending": _("待上传"),
        "synced": _("已上传"),
        "error": _("有误"),
        "badId": _("身份证号码格式或校验位错误"),
        "walkInNeeded": _("临时人员须填写姓名和手机号码"),
        "already": _("此人已在该试管中"),
        "full": _("该试管已满，已自动封管"),
        "noRound": _("本采样点没有进行中的轮次，不能开管"),
        "tubeUsed": _("该试管条码已在本机使用"),
        "tubeClosedServer": _("该试管已封管，请换新管"),
        "countLocal": _("离线：计数只含本机登记，其他手机放入此管的未计入"),
        "countServer": _("计数含服务器上已有的样本"),
        "otherTube": _("注意：此人本轮已在试管 {tube} 采样（复检请继续，误扫请核对）"),
        "retest": _("复检"),
        "single": _("单人单管"),
        "pooled": _("{size}混1"),
        "noTube": _("请先扫描试管条码开管"),
    }


@require_GET
@login_required
def sampler_page(request: AuthedRequest) -> HttpResponse:
    """采样登记: scan or type a tube, then persons; close the tube; works offline.

    A sampler works at the point of its place. Command and admin (desk entry, no place
    of their own) first choose a point of their jurisdiction: without `?point=` they get
    the choice, not a refusal."""
    point_id = _point_id(request)
    if point_id is None:
        choices = selectors.points_for_desk(user=request.user)
        if choices is not None:
            return render(request, "testing/sampling_choose_point.html", {"points": choices})
    point = selectors.point_for_sampler(user=request.user, point_id=point_id)
    rounds = selectors.open_rounds_for_point(user=request.user, point=point)
    context = {
        "point": {"id": point.pk, "name": point.place.name},
        "rounds": [
            {
                "id": r.id,
                "name": r.name,
                "pool_sizes": list(r.pool_sizes),
                "default_pool_size": r.default_pool_size,
            }
            for r in rounds
        ],
        "sync_url": reverse("api:sampling_sync"),
        # The script puts the barcode in place of the placeholder.
        "tube_url": reverse("api:sampling_tube", kwargs={"barcode": "BARCODE"}),
        "user": request.user.get_username(),
    }
    return render(
        request,
        "testing/sampling_page.html",
        {
            "point": point,
            "rounds": rounds,
            "sampler_context": context,
            "sampler_text": _page_text(),
            "sw_url": reverse("testing:sampler_sw"),
            "sw_scope": reverse("testing:sampler"),
            "desk": getattr(request.user, "place_id", None) is None,
        },
    )


@require_GET
def sampler_service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker's script, served under the page's path so its scope covers the
    page; it lists the page and the (possibly hashed) asset URLs to cache."""
    assets = [static(name) for name in SW_ASSETS]
    page = reverse("testing:sampler")
    version = hashlib.sha256("|".join([page, *assets]).encode()).hexdigest()[:12]
    body = render_to_string(
        "testing/sampling_sw.js",
        {"page": json.dumps(page), "precache": json.dumps([page, *assets]), "version": version},
    )
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = page
    response["Cache-Control"] = "no-cache"
    return response


urlpatterns: list[URLPattern] = [
    path("sampling/", sampler_page, name="sampler"),
    path("sampling/sw.js", sampler_service_worker, name="sampler_sw"),
]
