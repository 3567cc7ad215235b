from __future__ import annotations

from fangkong.testing.views import coverage, labs, points, rounds, sampling, supplies

app_name = "testing"

urlpatterns = [
    *rounds.urlpatterns,
    *sampling.urlpatterns,
    *labs.urlpatterns,
    *coverage.urlpatterns,
    *supplies.urlpatterns,
    *points.urlpatterns,
]
