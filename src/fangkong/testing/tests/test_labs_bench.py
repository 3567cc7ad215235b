"""bench results-import at a tiny scale: one JSON line, true counts, nothing left behind."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command

from fangkong.people.models import Person
from fangkong.testing.models import Hold, Tube, TubeResult


@pytest.mark.django_db
def test_bench_results_import_tiny(tree: Any) -> None:
    out = io.StringIO()
    call_command(
        "bench",
        "results-import",
        "--json",
        "--tubes",
        "200",
        "--positive-rate",
        "0.02",
        stdout=out,
    )
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["bench"] == "results-import"
    metrics = line["metrics"]
    assert line["scale"]["positive_pools"] == 4
    assert metrics["holds"] == metrics["rechecks"] == metrics["holds_expected"] == 40
    assert metrics["duckdb_holds"] == 40 and metrics["results_stored"] == 200
    assert metrics["correct"] is True and metrics["import_s"] > 0
    # cleaned up: no tubes, results, holds or inserted persons remain
    assert not Tube.objects.exists() and not TubeResult.objects.exists()
    assert not Hold.objects.exists() and not Person.objects.exists()
