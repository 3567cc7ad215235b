"""The drill clock: plays simulated days in seconds, through the real services.

A drill reenacts an outbreak day by day (a case reported at 10:00, core facts at 12:30,
contacts pushed at 15:00, towns answering through the night ...). The services stamp
their records with `django.utils.timezone.now()`; inside `drill_clock(moment)` that
function answers the simulated moment, so every deadline, countdown, late mark and
escalation the drill produces is what the same actions would have produced on that day.
Used only by the drill commands, never by requests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from django.utils import timezone


@contextmanager
def drill_clock(moment: dt.datetime) -> Iterator[dt.datetime]:
    if timezone.is_naive(moment):
        raise ValueError("the drill clock needs an aware datetime")
    with mock.patch.object(timezone, "now", lambda: moment):
        yield moment
