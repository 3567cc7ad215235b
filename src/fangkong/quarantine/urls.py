"""Pages of quarantine: one module per part under `views/`, composed here."""

from __future__ import annotations

from fangkong.quarantine.views import care, inspections, placements, sites

app_name = "quarantine"

urlpatterns = [
    *sites.urlpatterns,
    *placements.urlpatterns,
    *care.urlpatterns,
    *inspections.urlpatterns,
]
