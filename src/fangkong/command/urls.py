"""Pages of command: one module per part under `views/`, composed here."""

from __future__ import annotations

from fangkong.command.views import tasks

app_name = "command"

urlpatterns = [
    *tasks.urlpatterns,
]
