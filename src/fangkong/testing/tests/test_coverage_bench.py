"""`fangkong bench coverage --json` at a small scale: the contract (one JSON object on the
last line), the product's untested count equals the true one, and DuckDB agrees."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from fangkong.testing.models import Round, RoundTarget, Sample


@pytest.mark.django_db
def test_bench_coverage_contract_at_small_scale() -> None:
    out = io.StringIO()
    call_command(
        "bench",
        "coverage",
        "--json",
        "--persons",
        "400",
        "--retests",
        "12",
        "--repeat",
        "2",
        stdout=out,
    )

    outcome = json.loads(out.getvalue().strip().splitlines()[-1])
    assert outcome["bench"] == "coverage"
    assert outcome["scale"]["persons"] == 400
    assert outcome["scale"]["sampled_persons"] == 360
    assert outcome["scale"]["samples"] == 372
    assert outcome["metrics"]["untested"] == outcome["true_untested"] == 40
    assert outcome["untested_matches"] is True
    assert outcome["same_answer"] is True
    assert outcome["metrics"]["service_ms"] > 0 and outcome["metrics"]["duckdb_ms"] > 0
    rnd = Round.objects.get()
    assert RoundTarget.objects.filter(round=rnd).count() == 400
    retested = Sample.objects.filter(round=rnd).values("person").distinct().count()
    assert retested == 360

    again = io.StringIO()
    call_command("bench", "coverage", "--json", "--persons", "400", "--retests", "12", stdout=again)
    second = json.loads(again.getvalue().strip().splitlines()[-1])
    assert second["scale"]["round_built_now"] is False  # the round is reused
    assert Round.objects.count() == 1
