"""`fangkong bench round-open` honours the contract and leaves the database as it was."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from fangkong.areas.models import Zone
from fangkong.drill.city import drill_city_build
from fangkong.testing.models import Round, RoundTarget


@pytest.mark.django_db
def test_bench_round_open_prints_json_and_rolls_back() -> None:
    drill_city_build(population=600, days=0, seed=3)
    out = io.StringIO()

    call_command("bench", "round-open", "--json", stdout=out)

    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["bench"] == "round-open" and result["scale"]["persons"] == 600
    metrics = result["metrics"]
    assert (
        metrics["city_targets"] == metrics["raw_insert_rows"] == metrics["preview_targets"] == 600
    )
    assert 0 < metrics["town_targets"] < 600
    assert {"", "sealed"} <= set(metrics["targets_by_zone_level"])
    assert metrics["city_open_s"] > 0 and metrics["raw_insert_s"] > 0
    assert not Round.objects.exists() and not RoundTarget.objects.exists()
    assert not Zone.objects.exists()
