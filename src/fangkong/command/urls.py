"""Pages of command: one module per part under `views/`, composed here."""

from __future__ import annotations

from django.urls import path

from fangkong.command.views import dashboard

app_name = "command"

urlpatterns: list = [
    path("", dashboard.dashboard, name="dashboard"),
    path("figures/refresh/", dashboard.figures_refresh, name="figures_refresh"),
]
