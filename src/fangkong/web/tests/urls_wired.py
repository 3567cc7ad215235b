"""A fully wired project for the shell's tests: every URL name the navigation links to,
served by a stub page, plus views that raise domain errors (for the middleware tests).

The real project gets these names from the accounts, areas, people and protocol apps;
this URLconf lets the web tests say what the shell does once they exist, whatever the
state of those apps. Command's pages are its real ones (the home page renders command's
dashboard, which links command's own URLs); the notices' inbox is not wired here.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from fangkong.core.errors import Conflict, DomainError, NotFound, PermissionDenied


def stub(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("stub page")


ERRORS = {
    "bad": DomainError("bad_input", "输入不完整"),
    "denied": PermissionDenied("permission_denied", "您的角色无权执行此操作"),
    "missing": NotFound("not_found", "未找到或不在您的辖区内"),
    "conflict": Conflict("zone_already_lifted", "该风险区已解除"),
}


def raise_domain_error(request: HttpRequest, kind: str) -> HttpResponse:
    raise ERRORS[kind]


def raise_runtime_error(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


def raise_django_permission_denied(request: HttpRequest) -> HttpResponse:
    raise DjangoPermissionDenied


DATABASE_ERRORS = {
    "locked": OperationalError("database is locked"),
    "broken": OperationalError("no such table: people_person"),
    "overflow": OverflowError("Python int too large to convert to SQLite INTEGER"),
}


def raise_database_error(request: HttpRequest, kind: str) -> HttpResponse:
    raise DATABASE_ERRORS[kind]


def _app(app_name: str, names: list[str]) -> tuple[list, str]:
    return [path(f"{name}/", stub, name=name) for name in names], app_name


urlpatterns = [
    path("", include("fangkong.web.urls")),
    path("accounts/", include(_app("accounts", ["login", "logout", "audit", "tokens"]))),
    path(
        "areas/",
        include(_app("areas", ["zone_list", "zone_create", "place_list", "jurisdiction_list"])),
    ),
    path("people/", include(_app("people", ["list", "create", "export", "lookup_alerts"]))),
    path("protocol/", include(_app("protocol", ["list", "calculator"]))),
    path(
        "tracing/",
        include(
            _app(
                "tracing",
                [
                    "case_list",
                    "push_list",
                    "overdue_board",
                    "chain_graph",
                    "scan_import",
                    "contact_list",
                ],
            )
        ),
    ),
    path(
        "testing/",
        include(
            _app(
                "testing",
                [
                    "round_list",
                    "point_list",
                    "supply_list",
                    "coverage_rounds",
                    "sampler",
                    "box_list",
                    "box_receive",
                    "lab_results",
                    "recheck_list",
                ],
            )
        ),
    ),
    path(
        "quarantine/",
        include(
            _app(
                "quarantine",
                ["site_list", "placement_list", "placement_bulk", "transfer_list"],
            )
        ),
    ),
    path("command/", include("fangkong.command.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("boom/domain/<str:kind>/", raise_domain_error),
    path("boom/runtime/", raise_runtime_error),
    path("boom/forbidden/", raise_django_permission_denied),
    path("boom/database/<str:kind>/", raise_database_error),
]
