"""Pages of notices: the user's inbox."""

from __future__ import annotations

app_name = "notices"

urlpatterns: list = []
