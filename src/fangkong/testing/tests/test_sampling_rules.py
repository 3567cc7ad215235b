"""Pure rules of sampling: pool sizes, filling and closing tubes, sample times."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.testing.rules import sampling as rules

T0 = dt.datetime(2022, 7, 10, 6, 0, tzinfo=dt.UTC)


def test_allowed_pool_sizes_are_single_and_the_rule_sets_pooling() -> None:
    assert rules.allowed_pool_sizes(sealed=1, controlled=10, precaution=20, household=False) == (
        1,
        10,
        20,
    )
    assert rules.allowed_pool_sizes(sealed=1, controlled=5, precaution=10, household=False) == (
        1,
        5,
        10,
    )


def test_household_pooling_allows_every_size_up_to_the_largest() -> None:
    assert rules.allowed_pool_sizes(
        sealed=1, controlled=10, precaution=20, household=True
    ) == tuple(range(1, 21))


def test_default_pool_size_is_the_size_most_targets_have() -> None:
    assert rules.default_pool_size([(10, 300), (20, 900), (1, 40)], fallback=20) == 20
    assert rules.default_pool_size([(10, 5), (20, 5)], fallback=20) == 10  # tie: the smaller
    assert rules.default_pool_size([], fallback=20) == 20


@pytest.mark.parametrize(
    ("pool", "stored", "new", "by_hand", "accepted", "refused", "closes"),
    [
        (10, 0, 3, False, 3, 0, False),
        (10, 7, 3, False, 3, 0, True),  # reaches the pool size
        (10, 8, 3, False, 2, 1, True),  # one too many
        (10, 10, 1, False, 0, 1, True),
        (10, 2, 1, True, 1, 0, True),  # closed by hand
        (1, 0, 2, False, 1, 1, True),  # single tube
    ],
)
def test_tube_fill(
    pool: int, stored: int, new: int, by_hand: bool, accepted: int, refused: int, closes: bool
) -> None:
    fill = rules.tube_fill(
        pool_size=pool, stored=stored, new=list(range(new)), closed_by_hand=by_hand
    )

    assert len(fill.accepted) == accepted and len(fill.refused) == refused
    assert fill.accepted == tuple(range(accepted))  # batch order decides
    assert fill.closes is closes


def test_sample_times_must_fall_in_the_round_and_not_in_the_future() -> None:
    now = T0 + dt.timedelta(hours=5)
    ok = T0 + dt.timedelta(hours=2)

    def valid(at: dt.datetime, closed: dt.datetime | None = None) -> bool:
        return rules.sampled_at_valid(at, round_starts_at=T0, round_closed_at=closed, now=now)

    assert valid(ok)
    assert valid(T0 - dt.timedelta(minutes=30))  # the point opened a little early
    assert not valid(T0 - dt.timedelta(hours=2))
    assert valid(now + dt.timedelta(minutes=5))  # clock skew
    assert not valid(now + dt.timedelta(hours=1))
    assert not valid(ok, closed=T0 + dt.timedelta(hours=1))  # after the round closed
    assert not valid(ok.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("opened", "closed", "round_closed", "valid"),
    [
        (dt.timedelta(hours=1), None, None, True),
        (dt.timedelta(hours=1), dt.timedelta(hours=2), None, True),
        (-dt.timedelta(minutes=59), None, None, True),  # set up early
        (-dt.timedelta(hours=2), None, None, False),  # before the round
        (dt.timedelta(hours=5), None, None, False),  # after now + skew
        (dt.timedelta(hours=1), dt.timedelta(minutes=30), None, False),  # closed before opened
        (dt.timedelta(hours=1), dt.timedelta(hours=5), None, False),  # closed in the future
        (dt.timedelta(hours=3), None, dt.timedelta(hours=2), False),  # opened after round closed
        (dt.timedelta(hours=1), dt.timedelta(hours=3), dt.timedelta(hours=2), True),
    ],
)
def test_tube_times_must_fall_in_the_round_and_not_in_the_future(
    opened: dt.timedelta,
    closed: dt.timedelta | None,
    round_closed: dt.timedelta | None,
    valid: bool,
) -> None:
    now = T0 + dt.timedelta(hours=4)
    assert (
        rules.tube_times_valid(
            opened_at=T0 + opened,
            closed_at=T0 + closed if closed is not None else None,
            round_starts_at=T0,
            round_closed_at=T0 + round_closed if round_closed is not None else None,
            now=now,
        )
        is valid
    )


def test_tube_times_from_year_1_or_9999_are_refused() -> None:
    plus14 = dt.timezone(dt.timedelta(hours=14))
    for opened in (
        dt.datetime(1, 1, 1, tzinfo=plus14),
        dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.timezone(-dt.timedelta(hours=14))),
    ):
        assert not rules.tube_times_valid(
            opened_at=opened, closed_at=None, round_starts_at=T0, round_closed_at=None, now=T0
        )
    naive = dt.datetime(2022, 7, 10, 8)
    assert not rules.tube_times_valid(
        opened_at=naive, closed_at=None, round_starts_at=T0, round_closed_at=None, now=T0
    )
