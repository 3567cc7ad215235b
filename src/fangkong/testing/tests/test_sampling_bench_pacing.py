"""How bench sync paces its phones (pure: no server, no database)."""

from __future__ import annotations

import itertools
import random
import statistics

from fangkong.bench.sync import Device, poisson_schedule, timeline_lines


def _devices(batches: list[int]) -> list[Device]:
    return [
        Device(token=f"t{d}", batches=[b""] * n, samples_per_batch=[100] * n)
        for d, n in enumerate(batches)
    ]


def test_batches_arrive_round_robin_at_the_offered_mean_rate() -> None:
    devices = _devices([30] * 20)

    schedule = poisson_schedule(devices, batches_per_s=50, rng=random.Random(7))

    assert [len(times) for times in schedule] == [30] * 20
    # Round-robin: batch k of every phone comes before batch k + 1 of any phone.
    for k in range(29):
        assert max(times[k] for times in schedule) <= min(times[k + 1] for times in schedule)
    merged = sorted(t for times in schedule for t in times)
    gaps = [b - a for a, b in itertools.pairwise(merged)]
    assert abs(statistics.fmean(gaps) - 1 / 50) < 0.002  # 599 gaps: mean 20 ms ± 2
    assert max(gaps) > 3 / 50  # bursts and lulls, not a metronome
    assert merged[0] == 0.0


def test_phones_with_fewer_batches_drop_out_of_the_rotation() -> None:
    schedule = poisson_schedule(_devices([3, 1, 2]), batches_per_s=10, rng=random.Random(1))

    assert [len(times) for times in schedule] == [3, 1, 2]
    order = sorted((t, d) for d, times in enumerate(schedule) for t in times)
    assert [d for _, d in order] == [0, 1, 2, 0, 2, 0]


def test_timeline_lines_report_each_window() -> None:
    lines = timeline_lines([(0.5, 10.0), (1.0, 30.0), (6.0, 500.0)], window_s=5.0)

    assert len(lines) == 2
    assert "2 requests" in lines[0] and "p99    30.0 ms" in lines[0]
    assert "1 requests" in lines[1] and "p50   500.0 ms" in lines[1]
