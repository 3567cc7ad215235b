"""Benchmarks honour their contract: the last line of output is one JSON object."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from fangkong.drill.city import drill_city_build


def last_json_line(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


def test_bench_list_names_them_all() -> None:
    out = io.StringIO()
    call_command("bench", "--list", stdout=out)
    assert last_json_line(out.getvalue())["benches"] == [
        "city",
        "person-search",
        "copresence",
        "round-open",
        "coverage",
        "sync",
        "results-import",
        "placements",
        "dashboard",
    ]


def test_bench_city_tiny_prints_json_with_metrics() -> None:
    out = io.StringIO()
    call_command("bench", "city", "--population", "300", "--days", "1", stdout=out)
    result = last_json_line(out.getvalue())
    assert result["bench"] == "city"
    assert result["scale"]["persons"] == 300
    for key in ("persons_per_s", "scans_per_s", "total_s", "raw_sqlite_insert_scans_per_s"):
        assert result["metrics"][key] > 0, key


@pytest.mark.django_db
def test_bench_person_search_agrees_with_raw_sql() -> None:
    drill_city_build(population=600, days=0, seed=3)
    out = io.StringIO()
    call_command("bench", "person-search", "--json", "--repeat", "3", stdout=out)
    result = last_json_line(out.getvalue())
    assert result["bench"] == "person-search"
    assert result["same_answer"] is True
    assert result["scale"]["persons_in_scope"] > 0
    assert result["metrics"]["list_first_page_p50_ms"] > 0
