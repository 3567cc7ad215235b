"""`fangkong bench placements` at a tiny scale: the JSON contract, every contact placed,
the raw baseline rolled back, no room double-booked after the concurrent placers."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from fangkong.quarantine.models import Occupancy, Placement


@pytest.mark.django_db(transaction=True)
def test_bench_placements_prints_json_and_books_no_room_twice() -> None:
    out = io.StringIO()

    call_command(
        "bench",
        "placements",
        "--json",
        "--contacts=12",
        "--rooms=30",
        "--sites=2",
        "--placers=2",
        "--per-placer=3",
        stdout=out,
    )

    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["bench"] == "placements"
    metrics = result["metrics"]
    assert metrics["placed"] == 12 and metrics["raw_rows"] == 12
    assert metrics["double_booked"] == 0
    assert metrics["place_s"] > 0 and metrics["raw_s"] > 0
    assert metrics["open_placements"] == 12 + metrics["concurrent_placed"]
    assert Occupancy.objects.filter(ended_at=None).count() == metrics["open_placements"]
    assert Placement.objects.values("room").distinct().count() == metrics["open_placements"]
