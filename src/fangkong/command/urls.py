"""Pages of command: one module per part under `views/`, composed here."""

from __future__ import annotations

from fangkong.command.views import daily_report

app_name = "command"

urlpatterns: list = [
    *daily_report.urlpatterns,
]
