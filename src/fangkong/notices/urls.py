"""Pages of notices: the user's inbox."""

from __future__ import annotations

from fangkong.notices.views import urlpatterns

app_name = "notices"

__all__ = ["app_name", "urlpatterns"]
