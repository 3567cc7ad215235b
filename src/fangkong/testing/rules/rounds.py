"""Pure rules of rounds: Dorfman's pool-size advisor and the planner's arithmetic.

Dorfman (1943): pool k samples in one tube; a negative pool clears all k with one test, a
positive pool is followed by k single-tube rechecks. With prevalence p and independent
infections, a pool is positive with probability 1 − (1−p)^k, so the expected number of
tests per person is

    E(k) = 1/k + 1 − (1−p)^k      for k ≥ 2,       E(1) = 1 (single tubes, no recheck).

The advisor picks the k in 1..50 that minimises E(k) (the smallest k on a tie). For
p = 1 % the optimum is k = 11 (E ≈ 0.1956), the textbook value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from fangkong.core.errors import DomainError

MAX_POOL_SIZE: Final = 50
# Spare swabs on top of one per person: spoiled swabs (dropped, touched, a gagging child
# sampled twice) run at a few per cent at busy points; 5 % keeps a 24-hour round from
# stopping for want of swabs without tying up a week's stock. Configurable per call.
SWAB_SPARE_SHARE: Final = 0.05
# Spare tubes per pool size on top of the pools the targets fill: a tube is opened per
# queue and closed by hand when the queue ends, so many tubes leave part-filled. 10 %.
TUBE_SPARE_SHARE: Final = 0.10
# A sampling table (one sampler swabbing) handles one person in about 30 s in practice,
# 120 an hour; a point works `hours` hours.
PERSONS_PER_TABLE_HOUR: Final = 120
# Protective equipment per sampler shift (one shift = `SHIFT_HOURS` hours): one suit, one
# N95 mask, one face shield; gloves are changed per tube and per break, counted as
# `GLOVES_PER_SHIFT` pairs.
SHIFT_HOURS: Final = 4
GLOVES_PER_SHIFT: Final = 8


def expected_tests_per_person(p: float, k: int) -> float:
    """Dorfman's expected tests per person for prevalence `p` and pool size `k`."""
    _check_prevalence(p)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1 or k > MAX_POOL_SIZE:
        raise DomainError("pool_size_invalid", "混采数须在 1 到 50 之间", pool_size=k)
    if k == 1:
        return 1.0
    return 1.0 / k + 1.0 - (1.0 - p) ** k


def _check_prevalence(p: float) -> None:
    if isinstance(p, bool) or not isinstance(p, int | float) or math.isnan(p) or not 0 <= p <= 1:
        raise DomainError("prevalence_invalid", "估计阳性率须在 0 到 1 之间", prevalence=p)


@dataclass(frozen=True)
class PoolAdvice:
    prevalence: float
    pool_size: int
    tests_per_person: float
    # What the advice saves against single tubes (1 − E(k)), as a share.
    saving: float


def best_pool_size(p: float, *, max_k: int = MAX_POOL_SIZE) -> PoolAdvice:
    """The pool size in 1..max_k minimising E(k); the smallest k on a tie. When pooling
    does not pay (E(k) ≥ 1 for every k ≥ 2, i.e. p above about 30 %), single tubes."""
    _check_prevalence(p)
    if max_k < 1 or max_k > MAX_POOL_SIZE:
        raise DomainError("pool_size_invalid", "混采数须在 1 到 50 之间", pool_size=max_k)
    best_k, best_e = 1, 1.0
    for k in range(2, max_k + 1):
        e = expected_tests_per_person(p, k)
        if e < best_e - 1e-12:
            best_k, best_e = k, e
    return PoolAdvice(prevalence=p, pool_size=best_k, tests_per_person=best_e, saving=1 - best_e)


def advice_curve(p: float, *, max_k: int = MAX_POOL_SIZE) -> list[tuple[int, float]]:
    """(k, E(k)) for k in 1..max_k: what the advisor's chart draws."""
    return [(k, expected_tests_per_person(p, k)) for k in range(1, max_k + 1)]


# --- the planner's arithmetic ----------------------------------------------------------


def tubes_needed(
    targets_by_pool_size: Mapping[int, int], *, spare_share: float = TUBE_SPARE_SHARE
) -> dict[int, int]:
    """Tubes per pool size: ceil(targets / size) pools, plus the spare share (ceil)."""
    out: dict[int, int] = {}
    for size, count in sorted(targets_by_pool_size.items()):
        if size < 1 or count < 0:
            raise DomainError("planner_input_invalid", "混采数与人数须为正数", pool_size=size)
        pools = math.ceil(count / size)
        out[size] = pools + math.ceil(pools * spare_share)
    return out


def swabs_needed(population: int, *, spare_share: float = SWAB_SPARE_SHARE) -> int:
    """One swab per person plus the spare share (ceil)."""
    if population < 0:
        raise DomainError("planner_input_invalid", "人数须为非负整数", population=population)
    return population + math.ceil(population * spare_share)


def tables_needed(population: int, *, hours: float) -> int:
    """Sampling tables needed to sample `population` within `hours` (ceil)."""
    if hours <= 0:
        raise DomainError("planner_input_invalid", "采样时长须为正数", hours=hours)
    return math.ceil(population / (PERSONS_PER_TABLE_HOUR * hours))


def points_needed(population: int, *, tables_per_point: int, hours: float) -> int:
    """Sampling points needed at `tables_per_point` tables each (ceil)."""
    if tables_per_point < 1:
        raise DomainError("planner_input_invalid", "采样台数须为正数", tables=tables_per_point)
    return math.ceil(tables_needed(population, hours=hours) / tables_per_point)


def ppe_needed(samplers: int, *, hours: float) -> dict[str, int]:
    """Protective equipment for `samplers` working `hours`: one set per sampler-shift."""
    if samplers < 0 or hours <= 0:
        raise DomainError("planner_input_invalid", "采样员人数与时长须为正数")
    shifts = samplers * math.ceil(hours / SHIFT_HOURS)
    return {
        "protective_suit": shifts,
        "n95_mask": shifts,
        "face_shield": shifts,
        "gloves": shifts * GLOVES_PER_SHIFT,
    }


def supply_kind_for_pool_size(size: int) -> str:
    """The tube kind (supplies.SupplyKind value) a pool of `size` is sampled in: the
    single tube for 1, the 10-in-1 tube for 2..10 (household tubes too), else 20-in-1."""
    if size <= 1:
        return "tube_1"
    if size <= 10:
        return "tube_10"
    return "tube_20"
