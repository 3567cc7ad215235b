"""Django's error views, answering the API's paths in the API's one error shape.

A request under /api/ that no route matches (a path id that is not a number, an unknown
path), or that fails before the API's own handlers run, still gets
`{"code", "message", "detail"}` as JSON, as the published schema says. Every other path
keeps Django's pages (templates 400/403/404/500.html).

`csrf_failure` (settings.CSRF_FAILURE_VIEW) answers a form whose CSRF check failed (the
page was open too long, the session ended, the cookie was dropped) with the house's error
page: the page expired, reload it and send again, and a link back to it.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import defaults


def _api_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "detail": {}}, status=status)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _api_error(400, "bad_request", _("请求不合法"))
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _api_error(403, "permission_denied", _("您的角色无权执行此操作"))
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _api_error(404, "not_found", _("未找到或不在您的辖区内"))
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    if _is_api(request):
        return _api_error(500, "server_error", _("系统错误，请稍后重试"))
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused CSRF check: 403 `csrf_failed`, as the API's JSON or the house's page."""
    message = _("页面已过期（或登录状态已变化），请刷新页面后重新提交。")
    if _is_api(request):
        return _api_error(403, "csrf_failed", message)
    back = request.headers.get("Referer", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("web:home")
    context = {"error_code": "csrf_failed", "error_message": message, "back": back}
    return render(request, "web/csrf_failure.html", context, status=403)
