"""Pages of command: one module per part under `views/`, composed here."""

from __future__ import annotations

from django.urls import URLPattern, path

from fangkong.command.views import daily_report, dashboard, overdue, tasks, town_reports

app_name = "command"

urlpatterns: list[URLPattern] = [
    path("", dashboard.dashboard, name="dashboard"),
    path("figures/refresh/", dashboard.figures_refresh, name="figures_refresh"),
    *overdue.urlpatterns,
    *tasks.urlpatterns,
    *town_reports.urlpatterns,
    *daily_report.urlpatterns,
]
