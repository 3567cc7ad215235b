"""The lockout's pure rules: which key a failure counts under, and when a lock lifts."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.accounts import rules

T0 = dt.datetime(2022, 4, 1, 8, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(minutes=15)


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        (" 203.0.113.7 ", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("", ""),
        ("unix-socket", "unix-socket"),
    ],
)
def test_lockout_address(address: str, key: str) -> None:
    assert rules.lockout_address(address) == key


def test_lockout_username_ignores_case_and_spaces() -> None:
    assert rules.lockout_username(" Command ") == rules.lockout_username("command") == "command"


def test_not_locked_below_the_limit() -> None:
    failures = [T0, T0 + dt.timedelta(minutes=1)]
    assert rules.lock_lifts_at(failures, limit=3, window=WINDOW, now=T0 + WINDOW / 2) is None


def test_locked_until_the_limit_th_most_recent_failure_leaves_the_window() -> None:
    failures = [T0 + dt.timedelta(minutes=m) for m in (0, 1, 2, 3)]
    now = T0 + dt.timedelta(minutes=5)
    # 4 failures, limit 3: the 3rd most recent (minute 1) leaves at minute 16
    assert rules.lock_lifts_at(failures, limit=3, window=WINDOW, now=now) == T0 + dt.timedelta(
        minutes=16
    )
    assert rules.lock_lifts_at(failures, limit=3, window=WINDOW, now=T0 + WINDOW) is not None
    later = T0 + dt.timedelta(minutes=16, seconds=1)
    assert rules.lock_lifts_at(failures, limit=3, window=WINDOW, now=later) is None


def test_failures_after_now_or_before_the_window_do_not_count() -> None:
    failures = [T0 - WINDOW, T0 - WINDOW - dt.timedelta(seconds=1), T0 + dt.timedelta(hours=1)]
    assert rules.lock_lifts_at(failures, limit=1, window=WINDOW, now=T0) is None


def test_a_limit_of_zero_turns_the_lock_off() -> None:
    failures = [T0] * 1000
    assert rules.lock_lifts_at(failures, limit=0, window=WINDOW, now=T0) is None


DAYS_30 = dt.timedelta(days=30)


@pytest.mark.parametrize(
    ("last", "remember", "known"),
    [
        (None, DAYS_30, False),
        (T0 - dt.timedelta(days=7), DAYS_30, True),
        (T0 - dt.timedelta(days=29, hours=23), DAYS_30, True),
        (T0 - DAYS_30, DAYS_30, False),
        (T0 - dt.timedelta(days=31), DAYS_30, False),
        (T0 - dt.timedelta(minutes=1), dt.timedelta(0), False),
    ],
)
def test_address_is_known_within_the_days(
    last: dt.datetime | None, remember: dt.timedelta, known: bool
) -> None:
    assert rules.address_is_known(last, remember=remember, now=T0) is known
