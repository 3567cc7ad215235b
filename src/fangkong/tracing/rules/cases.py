"""Pure rules: cases (look-back, deadlines, lifecycle, itinerary stops from scans).

No ORM: values in, values out. The protocol's own arithmetic (look-back days, deadline
hours) lives in `fangkong.protocol.rules`; this module decides which of its inputs a case
uses, and how a person's venue scans become itinerary stops.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fangkong.core.errors import DomainError
from fangkong.protocol.rules import (
    Protocol,
    ProtocolDate,
    ProtocolDeadline,
    contact_lookback_start,
    deadline_after,
)

KIND_CONFIRMED: Final = "confirmed"
KIND_ASYMPTOMATIC: Final = "asymptomatic"

STATUS_REPORTED: Final = "reported"
STATUS_INVESTIGATING: Final = "investigating"
STATUS_INVESTIGATED: Final = "investigated"
STATUS_CLOSED: Final = "closed"

# The lifecycle: reported → investigating → investigated → closed, nothing else.
CASE_TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    STATUS_REPORTED: frozenset({STATUS_INVESTIGATING}),
    STATUS_INVESTIGATING: frozenset({STATUS_INVESTIGATED}),
    STATUS_INVESTIGATED: frozenset({STATUS_CLOSED}),
    STATUS_CLOSED: frozenset(),
}

# Statuses in which the itinerary may still change.
ITINERARY_OPEN_STATUSES: Final[frozenset[str]] = frozenset({STATUS_REPORTED, STATUS_INVESTIGATING})


def transition_allowed(current: str, target: str) -> bool:
    return target in CASE_TRANSITIONS.get(current, frozenset())


def case_lookback_start(
    p: Protocol,
    *,
    kind: str,
    onset_date: dt.date | None,
    first_positive_sampled_on: dt.date,
) -> ProtocolDate:
    """First day of a case's look-back window.

    A confirmed (symptomatic) case with an onset date looks back from the onset; an
    asymptomatic infection, or a confirmed case whose onset is not known, from the
    sampling date of the first positive sample.
    """
    if kind == KIND_CONFIRMED and onset_date is not None:
        return contact_lookback_start(p, onset_on=onset_date)
    return contact_lookback_start(p, first_positive_sampled_on=first_positive_sampled_on)


@dataclass(frozen=True)
class CaseDeadlines:
    core_facts: ProtocolDeadline
    report: ProtocolDeadline


def case_deadlines(p: Protocol, *, reported_at: dt.datetime) -> CaseDeadlines:
    """Core facts and the full investigation report, counted in hours from the report."""
    return CaseDeadlines(
        core_facts=deadline_after(p, reported_at, "case_core_facts"),
        report=deadline_after(p, reported_at, "case_report"),
    )


def case_is_overdue(
    *,
    status: str,
    now: dt.datetime,
    core_facts_due_at: dt.datetime,
    core_facts_done_at: dt.datetime | None,
    report_due_at: dt.datetime,
    report_done_at: dt.datetime | None,
) -> bool:
    """A case still open whose core facts or report are past due and not done."""
    if status == STATUS_CLOSED:
        return False
    return (core_facts_done_at is None and core_facts_due_at < now) or (
        report_done_at is None and report_due_at < now
    )


def case_number(prefix: str, year: int, sequence: int) -> str:
    """`TX2022-0001`: the city's prefix, the year of the report, a yearly sequence."""
    if sequence < 1:
        raise DomainError("invalid_value", _("病例序号须为正整数"), field="sequence")
    return f"{prefix}{year}-{sequence:04d}"


def case_number_sequence(number: str, prefix: str, year: int) -> int | None:
    """The sequence part of a number made by `case_number`, or None if it is not one."""
    head = f"{prefix}{year}-"
    if not number.startswith(head):
        return None
    tail = number[len(head) :]
    return int(tail) if tail.isdigit() else None


def check_case_dates(
    *,
    kind: str,
    onset_date: dt.date | None,
    first_positive_sampled_on: dt.date,
    reported_on: dt.date,
    today: dt.date,
) -> None:
    """Refuse impossible case dates with a stable code (nothing is written before this).

    - `date_in_future`: onset, sample or report after today;
    - `onset_after_sample`: onset after the first positive sample (a person found by
      screening who develops symptoms later is traced from the sample: record no onset);
    - `sample_after_report`: the first positive sample taken after the report;
    - `asymptomatic_with_onset`: an asymptomatic infection has no onset date.
    """
    for field, value in (
        ("onset_date", onset_date),
        ("first_positive_sampled_on", first_positive_sampled_on),
        ("reported_at", reported_on),
    ):
        if value is not None and value > today:
            raise DomainError(
                "date_in_future", _("日期不能晚于今天"), field=field, value=str(value)
            )
    if onset_date is not None and kind == KIND_ASYMPTOMATIC:
        raise DomainError(
            "asymptomatic_with_onset", _("无症状感染者没有发病日期"), field="onset_date"
        )
    if onset_date is not None and onset_date > first_positive_sampled_on:
        raise DomainError(
            "onset_after_sample",
            _("发病日期晚于首次阳性采样日期"),
            field="onset_date",
            value=str(onset_date),
        )
    if first_positive_sampled_on > reported_on:
        raise DomainError(
            "sample_after_report",
            _("首次阳性采样日期晚于报告时间"),
            field="first_positive_sampled_on",
        )


# --- itinerary --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProposedStop:
    """A stop proposed from scans: one place, from the first scan to the last + dwell."""

    place_id: int
    start: dt.datetime
    end: dt.datetime
    scans: int


def stops_from_scans(
    scans: Iterable[tuple[int, dt.datetime]],
    *,
    dwell: dt.timedelta,
    gap: dt.timedelta | None = None,
    until: dt.datetime | None = None,
) -> list[ProposedStop]:
    """Turn one person's scans (place_id, scanned_at) into itinerary stops.

    Scans are taken in time order. Consecutive scans at the same place merge into one
    stop when each follows the previous within `gap` (default: the dwell). A stop spans
    from its first scan to its last scan plus `dwell`, but ends no later than the first
    scan of the next stop (she had left by then) nor than `until` (the report), and
    never before its own last scan.
    """
    if dwell < dt.timedelta(0):
        raise DomainError("invalid_value", _("停留时长不能为负"), field="dwell")
    merge_gap = dwell if gap is None else gap
    ordered = sorted(scans, key=lambda s: s[1])
    groups: list[list[tuple[int, dt.datetime]]] = []
    for place_id, at in ordered:
        last = groups[-1][-1] if groups else None
        if last is not None and last[0] == place_id and at - last[1] <= merge_gap:
            groups[-1].append((place_id, at))
        else:
            groups.append([(place_id, at)])
    stops: list[ProposedStop] = []
    for index, group in enumerate(groups):
        first_at, last_at = group[0][1], group[-1][1]
        end = last_at + dwell
        if index + 1 < len(groups):
            end = min(end, groups[index + 1][0][1])
        if until is not None:
            end = min(end, until)
        end = max(end, last_at)
        stops.append(ProposedStop(group[0][0], first_at, end, len(group)))
    return stops


def spans_overlap(
    a_start: dt.datetime, a_end: dt.datetime, b_start: dt.datetime, b_end: dt.datetime
) -> bool:
    """Closed spans that share at least one instant."""
    return a_start <= b_end and b_start <= a_end


def check_stop(
    *,
    has_place: bool,
    address: str,
    start: dt.datetime,
    end: dt.datetime,
    window_start: dt.datetime,
    window_end: dt.datetime,
) -> None:
    """Refuse a stop without place or address, ending before it starts, or lying
    outside the case's look-back window [window_start, window_end]."""
    if start.tzinfo is None or end.tzinfo is None:
        raise DomainError("naive_datetime", _("时间必须带时区"), field="start")
    if not has_place and not address.strip():
        raise DomainError("stop_needs_place", _("请选择场所或填写地址"), field="place")
    if end < start:
        raise DomainError("stop_end_before_start", _("结束时间早于开始时间"), field="end")
    if start < window_start or end > window_end:
        raise DomainError(
            "stop_outside_window",
            _("轨迹点不在追溯时段内"),
            window_start=window_start.isoformat(),
            window_end=window_end.isoformat(),
        )


# A stop proposed from scans carries its scan count as a note. Stored in the data's
# language (Chinese, like every stored note) and put in the reader's words when shown.
_SCAN_NOTE = re.compile(r"^扫码 (\d+) 次$")


def scan_note(scans: int) -> str:
    """The stored note of a stop proposed from `scans` scans (not translated: data)."""
    return f"扫码 {scans} 次"


def note_words(note: str) -> str:
    """A stop's note for a page: a scan-count note in the reader's language, any other
    note (typed by a user) as it is."""
    found = _SCAN_NOTE.match(note or "")
    if found is None:
        return note
    scans = int(found.group(1))
    return ngettext("扫码 %(n)d 次", "扫码 %(n)d 次", scans) % {"n": scans}
