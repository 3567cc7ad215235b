"""Small timing helpers for the benchmarks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def p50_ms(fn: Callable[[], Any], *, repeat: int) -> tuple[float, Any]:
    """Median wall time of `repeat` calls, in milliseconds, and the last call's value."""
    samples: list[float] = []
    value: Any = None
    for _ in range(repeat):
        started = time.perf_counter()
        value = fn()
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 3), value


def per_second(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0
