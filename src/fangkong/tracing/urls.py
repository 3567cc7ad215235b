from __future__ import annotations

from fangkong.tracing.views import cases, chains, contacts, pushes

app_name = "tracing"

urlpatterns = [
    *cases.urlpatterns,
    *contacts.urlpatterns,
    *pushes.urlpatterns,
    *chains.urlpatterns,
]
