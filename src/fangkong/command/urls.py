"""Pages of command: one module per part under `views/`, composed here."""

from __future__ import annotations

app_name = "command"

urlpatterns: list = []
