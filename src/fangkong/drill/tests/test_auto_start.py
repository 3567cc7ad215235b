"""`drill city --start auto`: the demo's outbreak is played relative to today."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from fangkong.accounts.models import AuditEvent
from fangkong.areas.models import Zone, ZoneLevel
from fangkong.drill.city import DEFAULT_START, drill_city_build
from fangkong.drill.models import DrillCity
from fangkong.drill.outbreak import (
    LAST_DAY,
    drill_outbreak,
    outbreak_day0,
    outbreak_day_on,
    start_for_now,
)
from fangkong.testing.models import Recheck, RecheckStatus
from fangkong.tracing.models import Case, CaseStatus, PushStatus, VerificationPush

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _last_played_day(start: dt.date, days: int) -> dt.date:
    return start + dt.timedelta(days=days - 1 + LAST_DAY)


@pytest.mark.parametrize("days", [0, 1, 7])
def test_the_last_played_day_is_yesterday_in_shanghai(days: int) -> None:
    # 23:30 UTC on 5 Dec is 07:30 on 6 Dec in Shanghai: yesterday there is 5 Dec.
    now = dt.datetime(2026, 12, 5, 23, 30, tzinfo=dt.UTC)
    start = start_for_now(days=days, now=now)
    assert _last_played_day(start, days) == dt.date(2026, 12, 5)


def test_before_six_the_last_played_day_is_the_day_before_yesterday() -> None:
    # Yesterday's daily round still closes at 06:00 this morning: one day earlier.
    now = dt.datetime(2026, 12, 6, 5, 59, tzinfo=SHANGHAI)
    start = start_for_now(days=7, now=now)
    assert _last_played_day(start, 7) == dt.date(2026, 12, 4)
    assert start == dt.date(2026, 11, 25)


@pytest.mark.django_db
def test_auto_keeps_an_existing_city_and_says_which_day_today_is(capsys) -> None:
    city = drill_city_build(population=600, days=0, seed=3).drill_city

    call_command("drill", "city", "--population", "900", "--days", "3", "--start", "auto")

    out = capsys.readouterr().out
    kept = DrillCity.objects.get()
    assert (kept.pk, kept.start, kept.population) == (city.pk, DEFAULT_START, 600)
    day = outbreak_day_on(kept, timezone.localdate())
    assert "kept" in out and f"is day {day} of its outbreak" in out


@pytest.mark.django_db
def test_a_drill_played_with_auto_start_is_recent_and_in_the_past() -> None:
    now = timezone.now()
    city = drill_city_build(
        population=1500, days=1, seed=11, start=start_for_now(days=1, now=now)
    ).drill_city
    reports = drill_outbreak()
    after = timezone.now()

    yesterday = timezone.localdate() - dt.timedelta(days=1)
    assert reports[-1].on_date == _last_played_day(city.start, 1)
    assert yesterday - dt.timedelta(days=1) <= reports[-1].on_date <= yesterday
    # Every moment the drill wrote is in the past, no open deadline is days old.
    assert AuditEvent.objects.order_by("-at").values_list("at", flat=True)[0] <= after
    oldest = now - dt.timedelta(days=3)
    open_cases = Case.objects.exclude(status=CaseStatus.INVESTIGATED)
    assert all(c.report_due_at > oldest for c in open_cases)
    open_pushes = VerificationPush.objects.exclude(status=PushStatus.DONE)
    assert all(p.deadline > oldest for p in open_pushes)
    pending = Recheck.objects.filter(status=RecheckStatus.PENDING)
    assert all(r.due_at > oldest for r in pending)
    # Case numbers carry the drill's year, which is this year (or last, in early January).
    year = timezone.localtime(Case.objects.order_by("pk")[0].reported_at).year
    assert year in {timezone.localdate().year, timezone.localdate().year - 1}
    assert all(c.number.startswith(f"TX{year}-") for c in Case.objects.all())
    # The zones: the first case recorded on her sealed community, the days closed
    # through the last played day, the daily screening recorded on sealed and controlled.
    day0 = outbreak_day0(city)
    last = day0 + dt.timedelta(days=LAST_DAY)
    sealed = Zone.objects.get(level=ZoneLevel.SEALED)
    assert sealed.last_case_on == day0
    assert sealed.no_case_days == LAST_DAY
    assert set(Zone.objects.values_list("counted_through", flat=True)) == {last}
    screened = Zone.objects.exclude(level=ZoneLevel.PRECAUTION)
    assert {z.last_negative_screening_on for z in screened} == {last}
    # In the order of the drill's clock: the day closed at 00:05, the screening at 02:00.
    counts = list(sealed.transitions.order_by("at", "pk").values_list("no_case_days", flat=True))
    assert counts == sorted(counts) and counts[-1] == LAST_DAY
