"""Pure rules of inspections and closed-loop staff: values in, values out, no ORM, no clock.

- A rectification's deadline: the moment of the inspection's record plus the rule set's
  `rectification_hours` (整改时限), unless the inspector sets one.
- A rectification is overdue when it is still open after its deadline; it escalates once.
- A closed-loop staff member (闭环工作人员) is flagged on the roster when, on a day of the
  shift, the last own test is older than `STAFF_TEST_MAX_DAYS` days (or there is none
  yet after the first day), when the last test was positive, or when the closed-loop
  period has ended (the member is due to leave and begin their own quarantine).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# Closed-loop staff test at least every 2 days (每2天至少1次核酸, as practised in 2022).
STAFF_TEST_MAX_DAYS = 2


def rectification_deadline(*, recorded_at: dt.datetime, hours: int) -> dt.datetime:
    """The default deadline of a rectification: `hours` after the inspection's record."""
    if hours < 1:
        raise ValueError("rectification hours must be at least 1")
    return recorded_at + dt.timedelta(hours=hours)


def rectification_overdue(*, open_: bool, deadline_at: dt.datetime, now: dt.datetime) -> bool:
    """Open past its deadline."""
    return open_ and deadline_at < now


# The flags of a staff member on the roster (stable codes; the page shows their words).
FLAG_TEST_OVERDUE = "test_overdue"
FLAG_POSITIVE = "positive"
FLAG_LOOP_ENDED = "loop_ended"


@dataclass(frozen=True)
class StaffStanding:
    """Where a staff member stands on `today`: on shift or not, and the flags."""

    on_shift: bool
    flags: tuple[str, ...]
    days_since_test: int | None

    @property
    def flagged(self) -> bool:
        return bool(self.flags)


def staff_standing(
    *,
    today: dt.date,
    starts_on: dt.date,
    ends_on: dt.date,
    last_test_on: dt.date | None,
    last_result: str | None,
    max_days: int = STAFF_TEST_MAX_DAYS,
) -> StaffStanding:
    """The staff member's standing on `today`.

    - before the shift: not on shift, not flagged;
    - on shift (starts_on <= today <= ends_on): flagged `test_overdue` when the last test
      is more than `max_days` days ago, or when there is none after the shift's first day;
    - after the shift (today > ends_on): flagged `loop_ended`;
    - a positive last test is flagged whatever the day.
    """
    days = (today - last_test_on).days if last_test_on is not None else None
    flags: list[str] = []
    if last_result == "positive":
        flags.append(FLAG_POSITIVE)
    if today < starts_on:
        return StaffStanding(on_shift=False, flags=tuple(flags), days_since_test=days)
    if today > ends_on:
        flags.append(FLAG_LOOP_ENDED)
        return StaffStanding(on_shift=False, flags=tuple(flags), days_since_test=days)
    if days is None:
        # No test yet: allowed on the shift's first day only.
        if today > starts_on:
            flags.append(FLAG_TEST_OVERDUE)
    elif days > max_days:
        flags.append(FLAG_TEST_OVERDUE)
    return StaffStanding(on_shift=True, flags=tuple(flags), days_since_test=days)
