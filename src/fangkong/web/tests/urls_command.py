"""urls_wired plus the pages issue 13 brings (command's and the notices' inbox), served by
stub pages: the navigation's coming entries as they will be once wired."""

from __future__ import annotations

from django.urls import include, path

from fangkong.web.tests.urls_wired import _app
from fangkong.web.tests.urls_wired import urlpatterns as wired

urlpatterns = [
    path(
        "command/",
        include(
            _app("command", ["dashboard", "overdue", "task_list", "town_reports", "daily_report"])
        ),
    ),
    path("notices/", include(_app("notices", ["inbox"]))),
    *wired,
]
