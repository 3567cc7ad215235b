"""Pages of command: one module per part under `views/`, composed here."""

from __future__ import annotations

from django.urls import URLPattern

from fangkong.command.views import daily_report, overdue

app_name = "command"

urlpatterns: list[URLPattern] = [
    *overdue.urlpatterns,
    *daily_report.urlpatterns,
]
