"""Benchmarks: `fangkong bench NAME [--json] [options]`, `fangkong bench --list`.

Each benchmark is a module here with `DESCRIPTION`, `add_arguments(parser)` and
`run(options, log) -> dict`. The result dict is printed as ONE JSON object on the last
line of output: {"bench": NAME, "scale": {...}, "metrics": {...}, ...}. Every bench
measures the product path against a baseline in the same run (a bare sqlite3 insert, a
single raw SQL query ...), so a number is always read next to what it could be.
Timings are measured here, never asserted in unit tests.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

REGISTRY: dict[str, str] = {
    "city": "fangkong.bench.city",
    "person-search": "fangkong.bench.person_search",
    "copresence": "fangkong.bench.copresence",
    "round-open": "fangkong.bench.round_open",
    "coverage": "fangkong.bench.coverage",
    "sync": "fangkong.bench.sync",
    "results-import": "fangkong.bench.results_import",
    "placements": "fangkong.bench.placements",
    "dashboard": "fangkong.bench.dashboard",
}

Log = Callable[[str], None]


def bench_module(name: str) -> ModuleType:
    return importlib.import_module(REGISTRY[name])


def bench_list() -> list[tuple[str, str]]:
    return [(name, str(getattr(bench_module(name), "DESCRIPTION", ""))) for name in REGISTRY]


def result(bench: str, *, scale: dict[str, Any], metrics: dict[str, Any], **extra: Any) -> dict:
    return {"bench": bench, "scale": scale, "metrics": metrics, **extra}
