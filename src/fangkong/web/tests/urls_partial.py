"""A project in which only some apps have wired their pages yet (people, audit, tracing,
the inbox ... missing). Command's pages are wired: the home page is command's dashboard,
which links command's own URLs."""

from __future__ import annotations

from django.urls import include, path

from fangkong.web.tests.urls_wired import _app

urlpatterns = [
    path("", include("fangkong.web.urls")),
    path("accounts/", include(_app("accounts", ["login", "logout"]))),
    path("areas/", include(_app("areas", ["zone_list"]))),
    path("command/", include("fangkong.command.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
