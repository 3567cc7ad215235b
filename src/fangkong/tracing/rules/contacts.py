"""Pure rules: contacts (co-presence overlap, merging, classification).

Co-presence (时空伴随). A venue scan at `t` means the person was present over
`[t, t + dwell]` (a scan records arrival, not departure). A case's stop `[start, end]` is
widened by the tolerance on both sides, `[start - tol, end + tol]`, to absorb clock
and recall errors. The two are co-present when the spans overlap; spans that only
touch (overlap of 0 minutes) COUNT as co-present with overlap 0: such a person is found
and kept as a co-presence contact (below any close-contact threshold), which errs on
the side of the list a town checks rather than silently dropping a borderline scan.

The exact query bound follows: a scan at `t` is co-present iff
`start - tol - dwell <= t <= end + tol`, so one indexed range query per stop on
(place_id, scanned_at) finds every match and nothing else.

Overlap minutes are measured against the widened stop: several scans of one person at
one stop count the union of their presence spans (never twice the same minute), floored
to whole minutes. The same person found at several stops (or venues) is ONE contact:
the overlaps of the stops are SUMMED (cumulative exposure, as the close-contact
threshold is read), the first scan is the earliest and the last scan the latest.

Everything here takes values and returns values; no ORM.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from django.utils.translation import gettext as _

from fangkong.people.rules import mask_name
from fangkong.protocol import rules as protocol_rules
from fangkong.protocol.rules import (
    Protocol,
    ProtocolDate,
    close_contact_schedule,
    risk_person_schedule,
    secondary_contact_schedule,
)

CLOSE: Final = "close"
SECONDARY: Final = "secondary"
GENERAL: Final = "general"
CO_PRESENCE: Final = "co_presence"

HOUSEHOLD: Final = "household"
WORKPLACE: Final = "workplace"
CO_PRESENCE_KIND: Final = "co_presence"
MANUAL: Final = "manual"
COMPANION: Final = "companion"
VEHICLE: Final = "vehicle"

# Strength order used to never downgrade: a close contact stays close.
CLASS_RANK: Final[dict[str, int]] = {CO_PRESENCE: 0, GENERAL: 1, SECONDARY: 2, CLOSE: 3}

DEFAULT_TOLERANCE_MINUTES: Final = 15
DEFAULT_DWELL_MINUTES: Final = 30


@dataclass(frozen=True)
class Window:
    """The scan-time bounds (inclusive) of one stop's co-presence query."""

    low: dt.datetime
    high: dt.datetime


@dataclass(frozen=True)
class StopHit:
    """One person found at one stop: first/last scan and the union overlap (minutes)."""

    person_id: int
    place_id: int
    first_scan: dt.datetime
    last_scan: dt.datetime
    overlap_minutes: int


@dataclass(frozen=True)
class MergedCoPresence:
    """One person over all stops: counted once, overlaps summed."""

    person_id: int
    first_scan: dt.datetime
    last_scan: dt.datetime
    overlap_minutes: int
    place_ids: tuple[int, ...]
    best_place_id: int


def _check(tolerance_minutes: int, dwell_minutes: int) -> None:
    if tolerance_minutes < 0 or dwell_minutes < 0:
        raise ValueError("tolerance and dwell must not be negative")


def copresence_window(
    *, start: dt.datetime, end: dt.datetime, tolerance_minutes: int, dwell_minutes: int
) -> Window:
    """Scan times co-present with the stop [start, end]: [start - tol - dwell, end + tol]."""
    _check(tolerance_minutes, dwell_minutes)
    if end < start:
        raise ValueError("a stop ends after it starts")
    tol = dt.timedelta(minutes=tolerance_minutes)
    dwell = dt.timedelta(minutes=dwell_minutes)
    return Window(low=start - tol - dwell, high=end + tol)


def overlap_seconds(
    scan_times: Iterable[dt.datetime],
    *,
    start: dt.datetime,
    end: dt.datetime,
    tolerance_minutes: int,
    dwell_minutes: int,
) -> float | None:
    """Seconds of the union of `[t, t + dwell]` inside the widened stop; None when no
    scan is co-present (a touching span gives 0.0, not None)."""
    _check(tolerance_minutes, dwell_minutes)
    tol = dt.timedelta(minutes=tolerance_minutes)
    dwell = dt.timedelta(minutes=dwell_minutes)
    low, high = start - tol, end + tol
    spans = sorted(
        (max(t, low), min(t + dwell, high)) for t in scan_times if t + dwell >= low and t <= high
    )
    if not spans:
        return None
    total = 0.0
    reach: dt.datetime | None = None
    for a, b in spans:
        begin = a if reach is None else max(a, reach)
        if b > begin:
            total += (b - begin).total_seconds()
        reach = b if reach is None else max(reach, b)
    return total


def overlap_minutes(
    scan_times: Iterable[dt.datetime],
    *,
    start: dt.datetime,
    end: dt.datetime,
    tolerance_minutes: int,
    dwell_minutes: int,
) -> int | None:
    """`overlap_seconds` floored to whole minutes (None: not co-present)."""
    seconds = overlap_seconds(
        scan_times,
        start=start,
        end=end,
        tolerance_minutes=tolerance_minutes,
        dwell_minutes=dwell_minutes,
    )
    return None if seconds is None else int(seconds // 60)


def merge_stop_hits(hits: Iterable[StopHit]) -> dict[int, MergedCoPresence]:
    """The same person through several stops or venues counted once: overlaps summed,
    earliest first scan, latest last scan; the best place is the one with the longest
    overlap (ties: the earliest)."""
    by_person: dict[int, list[StopHit]] = {}
    for hit in hits:
        by_person.setdefault(hit.person_id, []).append(hit)
    merged: dict[int, MergedCoPresence] = {}
    for person_id, person_hits in by_person.items():
        best = max(person_hits, key=lambda h: (h.overlap_minutes, -h.first_scan.timestamp()))
        places: list[int] = []
        for h in sorted(person_hits, key=lambda h: h.first_scan):
            if h.place_id not in places:
                places.append(h.place_id)
        merged[person_id] = MergedCoPresence(
            person_id=person_id,
            first_scan=min(h.first_scan for h in person_hits),
            last_scan=max(h.last_scan for h in person_hits),
            overlap_minutes=sum(h.overlap_minutes for h in person_hits),
            place_ids=tuple(places),
            best_place_id=best.place_id,
        )
    return merged


# --- classification -------------------------------------------------------------------


# Separators between companions typed in a stop, and what "nobody" is typed as.
_COMPANION_SPLIT = re.compile(r"[,，、;；/\s]+")
_COMPANION_ASIDE = re.compile(r"[（(][^）)]*[）)]")
COMPANION_NONE: Final = frozenset({"无", "没有", "独自", "一人", "本人", "—", "-"})


def companion_names(text: str) -> list[str]:
    """The companions typed in a stop, one entry each, in order, without repeats:
    split on commas, 、, semicolons, slashes and spaces; an aside in brackets
    ("李四（同事）") dropped; "无" and the like are nobody."""
    names: list[str] = []
    for raw in _COMPANION_SPLIT.split(_COMPANION_ASIDE.sub(" ", text or "")):
        name = raw.strip()
        if name and name not in COMPANION_NONE and name not in names:
            names.append(name)
    return names


def classify_exposure(p: Protocol, *, kind: str) -> str:
    """A case's household member, co-worker/classmate (shared room at work or school),
    companion or fellow passenger: close when the rule set lists the kind as always
    close (protocol.rules.classify_exposure), else a co-presence risk person."""
    return protocol_rules.classify_exposure(p, exposure_kind=kind)


def classify_copresence(p: Protocol, venue_minutes: Iterable[tuple[str, int]]) -> str:
    """Co-presence with a case's stops, as (venue kind, minutes) per stop: close by the
    rule set's venue thresholds (small enclosed venues, other venues summed), a
    co-presence risk person otherwise (large venues always)."""
    return protocol_rules.classify_venue_copresence(p, venue_minutes)


def classify_secondary_exposure(p: Protocol, *, kind: str) -> str | None:
    """A close contact's household member (or other always-close tie): secondary."""
    return protocol_rules.classify_secondary_exposure(p, exposure_kind=kind)


def classify_secondary_copresence(
    p: Protocol, venue_minutes: Iterable[tuple[str, int]]
) -> str | None:
    """A close contact's own co-presence: what would make a close contact of a case
    makes a secondary contact (密接的密接); less, and large venues, make nothing (no
    contacts of contacts of contacts by mere presence)."""
    return protocol_rules.classify_secondary_venue_copresence(p, venue_minutes)


def stronger(current: str, new: str) -> str:
    """The stronger of two classifications: a contact is never downgraded."""
    return new if CLASS_RANK[new] > CLASS_RANK[current] else current


def strongest(classes: Sequence[str]) -> str:
    if not classes:
        raise ValueError("no classification")
    result = classes[0]
    for c in classes[1:]:
        result = stronger(result, c)
    return result


@dataclass(frozen=True)
class ContactDates:
    """The protocol dates of one contact, counted from its latest exposure."""

    last_exposure_on: dt.date
    ruleset_version: str
    quarantine_end_on: dt.date | None
    monitoring_end_on: dt.date | None
    # [{"date": "YYYY-MM-DD", "rule": "..."}], in date order
    test_dates: list[dict[str, str]]


def contact_dates(p: Protocol, *, classification: str, last_exposure_on: dt.date) -> ContactDates:
    """Dates of a contact from the rule set: close contacts follow the close-contact
    schedule (centralised quarantine, then home monitoring), secondary contacts the
    secondary one, co-presence risk persons (时空伴随者) the risk-person home health
    monitoring and its tests ("3 days 2 tests"); general contacts get no protocol dates
    (the rule set has no values for them: towns check them and an investigator may
    promote them)."""
    quarantine_end: dt.date | None = None
    monitoring_end: dt.date | None = None
    tests: list[ProtocolDate] = []
    if classification == CLOSE:
        close = close_contact_schedule(p, last_exposure_on=last_exposure_on)
        quarantine_end = close.centralised_end.value
        monitoring_end = close.home_monitoring_end.value
        tests = [*close.centralised_tests, *close.home_tests]
    elif classification == SECONDARY:
        secondary = secondary_contact_schedule(p, last_exposure_on=last_exposure_on)
        quarantine_end = secondary.end.value
        tests = list(secondary.tests)
    elif classification == CO_PRESENCE:
        risk = risk_person_schedule(p, last_exposure_on=last_exposure_on)
        monitoring_end = risk.monitoring_end.value
        tests = list(risk.tests)
    return ContactDates(
        last_exposure_on=last_exposure_on,
        ruleset_version=p.version,
        quarantine_end_on=quarantine_end,
        monitoring_end_on=monitoring_end,
        test_dates=[
            {"date": t.value.isoformat(), "rule": t.rule}
            for t in sorted(tests, key=lambda t: (t.value, t.rule))
        ],
    )


def local_date(moment: dt.datetime, tz: dt.tzinfo) -> dt.date:
    """The local calendar date of an aware moment (exposure dates are counted locally)."""
    if moment.tzinfo is None:
        raise ValueError("an exposure time must be time zone aware")
    return moment.astimezone(tz).date()


# --- the basis (依据) of an exposure, in words -------------------------------------------


def _local_minute(value: object, tz: dt.tzinfo) -> str:
    """An ISO time from the evidence as local 'MM-DD HH:MM' ('' when unreadable)."""
    if not isinstance(value, str):
        return ""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return ""
    if moment.tzinfo is None:
        return ""
    return moment.astimezone(tz).strftime("%m-%d %H:%M")


def basis_place_ids(evidence: object) -> set[int]:
    """The place ids an exposure's evidence names (to look their names up at once)."""
    if not isinstance(evidence, dict):
        return set()
    ev = evidence
    ids: set[int] = set()
    for stop in [*(ev.get("stops") or []), *(ev.get("companions") or [])]:
        if isinstance(stop, dict) and isinstance(stop.get("place"), int):
            ids.add(stop["place"])
    for place in ev.get("places") or []:
        if isinstance(place, int):
            ids.add(place)
    if isinstance(ev.get("workplace"), int):
        ids.add(ev["workplace"])
    return ids


def basis_lines(
    *,
    kind: str,
    evidence: object,
    overlap_minutes: int,
    place_names: dict[int, str],
    tz: dt.tzinfo,
) -> list[str]:
    """An exposure's evidence as lines of words for a page: places by name, times in
    local time, overlap minutes, the household, the companion; never an id or a UTC
    time. `kind` is the exposure's way of contact (ExposureKind values)."""
    ev = evidence if isinstance(evidence, dict) else {}

    def place(pk: object) -> str:
        return place_names.get(pk, _("未知场所")) if isinstance(pk, int) else _("未知场所")

    lines: list[str] = []
    if kind == "household" or "household" in ev:
        lines.append(_("同住家庭成员"))
    if kind == "workplace" or "workplace" in ev:
        if "workplace" in ev:
            lines.append(_("同单位/同学校：%(place)s") % {"place": place(ev["workplace"])})
        else:
            lines.append(_("同单位/同学校"))
    if kind == VEHICLE:
        lines.append(_("同乘交通工具"))
    for stop in ev.get("companions") or []:
        if not isinstance(stop, dict):
            continue
        where = place(stop["place"]) if isinstance(stop.get("place"), int) else stop.get("address")
        lines.append(
            _("同行：%(name)s，%(where)s，%(when)s")
            % {
                "name": mask_name(str(stop.get("name", ""))),
                "where": where or "—",
                "when": _local_minute(stop.get("start"), tz) or "—",
            }
        )
    for stop in ev.get("stops") or []:
        if not isinstance(stop, dict):
            continue
        # No overlap (a household or companion exposure's stop): no "重叠 0 分钟".
        minutes = stop.get("overlap_minutes") or 0
        words = {
            "place": place(stop.get("place")),
            "time": _local_minute(stop.get("first_scan"), tz) or "—",
            "minutes": minutes,
        }
        lines.append(
            _("%(place)s，%(time)s 扫码，重叠 %(minutes)s 分钟") % words
            if minutes
            else _("%(place)s，%(time)s 扫码") % words
        )
    places = [p for p in ev.get("places") or [] if isinstance(p, int)]
    if places:
        where = {"places": "、".join(place(p) for p in places), "minutes": overlap_minutes}
        lines.append(
            _("与密接同在 %(places)s，共重叠 %(minutes)s 分钟") % where
            if overlap_minutes
            else _("与密接同在 %(places)s") % where
        )
    if ev.get("note"):
        lines.append(_("备注：%(note)s") % {"note": ev["note"]})
    if "via_contact" in ev:
        lines.append(_("所接触的密接转为病例后升级"))
    if not lines and kind == "manual":
        lines.append(_("流调人工添加"))
    return lines
