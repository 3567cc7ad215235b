"""Pure rules of sampling (采样): which pool sizes a tube may have, how a tube fills and
closes, when a sample's time is plausible. Values in, values out: no ORM."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# How far a phone's clock may run ahead of the server's before a sample time is refused.
CLOCK_SKEW = dt.timedelta(minutes=10)
# How long before a round's start a sample may be taken (points set up early).
EARLY_START = dt.timedelta(hours=1)
# The most tubes and samples one sync may carry (a phone that was offline for a day).
MAX_TUBES_PER_SYNC = 500
MAX_SAMPLES_PER_SYNC = 5000


def allowed_pool_sizes(
    *, sealed: int, controlled: int, precaution: int, household: bool
) -> tuple[int, ...]:
    """The pool sizes a tube of a round may have: single tubes (1: rechecks, sealed
    zones), and the rule set's pooling for each zone level. Under one-tube-per-household
    sealed pooling a tube holds one household, so every size up to the largest pooling
    is allowed."""
    sizes = {1, sealed, controlled, precaution}
    if household:
        sizes |= set(range(1, max(sizes) + 1))
    return tuple(sorted(s for s in sizes if s >= 1))


def default_pool_size(target_sizes: Iterable[tuple[int, int]], *, fallback: int) -> int:
    """The pool size most of a point's target population is sampled at: the size with
    the most targets (ties → the smaller, safer size); `fallback` when none."""
    best: tuple[int, int] | None = None
    for size, count in target_sizes:
        if best is None or count > best[1] or (count == best[1] and size < best[0]):
            best = (size, count)
    return best[0] if best is not None else fallback


@dataclass(frozen=True, slots=True)
class TubeFill:
    """What a batch does to one tube: which of its new samples fit, and whether the
    tube closes (full, or closed by hand on the phone)."""

    accepted: tuple[int, ...]  # positions (in the batch) of the samples that fit
    refused: tuple[int, ...]  # positions of the samples beyond the pool size
    closes: bool


def tube_fill(*, pool_size: int, stored: int, new: Sequence[int], closed_by_hand: bool) -> TubeFill:
    """Fill a tube holding `stored` samples with the new samples at positions `new`
    (in batch order): the first that fit are accepted, the rest refused (`tube_full`).
    The tube closes when it reaches its pool size or when the sampler closed it."""
    room = max(0, pool_size - stored)
    accepted = tuple(new[:room])
    refused = tuple(new[room:])
    full = stored + len(accepted) >= pool_size
    return TubeFill(accepted=accepted, refused=refused, closes=full or closed_by_hand)


def sampled_at_valid(
    sampled_at: dt.datetime,
    *,
    round_starts_at: dt.datetime,
    round_closed_at: dt.datetime | None,
    now: dt.datetime,
) -> bool:
    """A sample time is plausible: aware, not before the round (less an early start),
    not in the future (less clock skew), not after the round was closed."""
    if sampled_at.tzinfo is None:
        return False
    if sampled_at < round_starts_at - EARLY_START or sampled_at > now + CLOCK_SKEW:
        return False
    return round_closed_at is None or sampled_at <= round_closed_at


def tube_times_valid(
    *,
    opened_at: dt.datetime,
    closed_at: dt.datetime | None,
    round_starts_at: dt.datetime,
    round_closed_at: dt.datetime | None,
    now: dt.datetime,
) -> bool:
    """A tube's times as the phone sent them are plausible: it was opened while the
    round was sampling, as a sample is taken (`sampled_at_valid`: not before the round's
    start less the early start, not in the future beyond the clock skew, not after the
    round closed), and closed, if it was, between its opening and now (plus the skew).
    A tube opened on 9999-12-31, or in year 1, is refused before anything is stored."""
    if not sampled_at_valid(
        opened_at, round_starts_at=round_starts_at, round_closed_at=round_closed_at, now=now
    ):
        return False
    if closed_at is None:
        return True
    if closed_at.tzinfo is None:
        return False
    return opened_at <= closed_at <= now + CLOCK_SKEW
