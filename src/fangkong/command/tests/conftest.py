"""Fixtures of command's tests: a clock the pages and services read (timezone.now)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: Any) -> Clock:
    """`timezone.now()` answers `clock.now` (set it to the moment a test plays)."""
    from fangkong.testkit.clock import at

    fixed = Clock(at(5, 17))
    monkeypatch.setattr(timezone, "now", fixed)
    return fixed
