from django.contrib import admin
from django.urls import include, path

from fangkong.api import api

urlpatterns = [
    path("", include("fangkong.web.urls")),
    path("accounts/", include("fangkong.accounts.urls")),
    path("areas/", include("fangkong.areas.urls")),
    path("people/", include("fangkong.people.urls")),
    path("protocol/", include("fangkong.protocol.urls")),
    path("tracing/", include("fangkong.tracing.urls")),
    path("testing/", include("fangkong.testing.urls")),
    path("quarantine/", include("fangkong.quarantine.urls")),
    path("command/", include("fangkong.command.urls")),
    path("notices/", include("fangkong.notices.urls")),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

handler400 = "fangkong.web.error_views.bad_request"
handler403 = "fangkong.web.error_views.permission_denied"
handler404 = "fangkong.web.error_views.page_not_found"
handler500 = "fangkong.web.error_views.server_error"
