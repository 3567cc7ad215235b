"""Day 0 of the reference outbreak, played through the real services on a small city."""

from __future__ import annotations

import random

import pytest
from django.core.management import call_command

from fangkong.accounts.models import AuditEvent
from fangkong.areas.models import Zone, ZoneLevel
from fangkong.core.errors import DomainError
from fangkong.core.paths import community_of
from fangkong.drill.city import drill_city_build
from fangkong.drill.models import DrillDay
from fangkong.drill.outbreak import (
    FINAL_DAY,
    HOTEL_WORDS,
    WUZHEN,
    _index_person,
    drill_outbreak,
)
from fangkong.tracing.models import (
    Case,
    CaseStatus,
    Contact,
    ContactClass,
    ContactStatus,
    PushItem,
    PushItemStatus,
    VerificationPush,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(db: None):
    return drill_city_build(population=1500, days=5, seed=11).drill_city


def test_day0_plays_the_reference_scenario(city) -> None:
    [report] = drill_outbreak(through_day=0)

    assert report.played
    case = Case.objects.get()
    # The first case: a person of 乌镇镇, reported, investigated within the deadlines.
    assert case.jurisdiction_path.startswith(WUZHEN)
    assert case.status == CaseStatus.INVESTIGATED
    assert case.core_facts_done_at <= case.core_facts_due_at
    assert case.report_done_at <= case.report_due_at
    assert case.investigation.stops.filter(confirmed=True).exists()
    # Contacts found from the household, workplace and her scans; secondary ones too.
    closes = Contact.objects.filter(classification=ContactClass.CLOSE)
    assert closes.exists()
    assert report.summary["contacts"].get("close", 0) == closes.count()
    # Pushed to towns; most controlled on time, some late, escalation of overdue lists.
    assert VerificationPush.objects.exists()
    items = PushItem.objects.all()
    assert items.count() == report.summary["pushed_persons"] > 0
    assert not items.filter(status=PushItemStatus.PENDING).exists()
    feedback = report.summary["feedback"]
    assert feedback["on_time"] > feedback["late"] > 0
    assert sum(feedback.values()) == items.count()
    # Lists with late persons were escalated at their deadline, once.
    assert report.summary["escalated_pushes"] > 0
    assert (
        VerificationPush.objects.filter(escalated_at__isnull=False).count()
        == (report.summary["escalated_pushes"])
    )
    assert Contact.objects.filter(status=ContactStatus.CONTROLLED).exists()
    # Zones: her community sealed, neighbours controlled, the town a precaution zone.
    levels = sorted(Zone.objects.values_list("level", flat=True))
    assert ZoneLevel.SEALED in levels and ZoneLevel.PRECAUTION in levels
    sealed = Zone.objects.get(level=ZoneLevel.SEALED)
    assert sealed.members.get().jurisdiction.path == community_of(case.jurisdiction_path)
    # Everything went through the audited services.
    assert AuditEvent.objects.filter(action="case.create").count() == 1
    assert AuditEvent.objects.filter(action="push.mark").count() == items.count()


def test_a_played_day_is_not_played_again(city) -> None:
    drill_outbreak(through_day=0)
    cases, contacts = Case.objects.count(), Contact.objects.count()

    [again] = drill_outbreak(through_day=0)

    assert not again.played
    assert (Case.objects.count(), Contact.objects.count()) == (cases, contacts)
    assert DrillDay.objects.count() == 1


def test_the_first_case_is_a_wuzhen_hotel_worker_chosen_by_the_seed(city) -> None:
    first = _index_person(random.Random("s"))
    again = _index_person(random.Random("s"))

    assert first.pk == again.pk
    assert first.jurisdiction_path.startswith(WUZHEN)
    assert any(word in first.workplace.name for word in HOTEL_WORDS)


def test_outbreak_needs_a_city(db: None) -> None:
    with pytest.raises(DomainError) as err:
        drill_outbreak(through_day=0)
    assert err.value.code == "drill_city_missing"


def test_unknown_day_is_refused(city) -> None:
    with pytest.raises(DomainError) as err:
        drill_outbreak(through_day=FINAL_DAY + 1)
    assert err.value.code == "drill_day_unknown"


def test_command_prints_the_day(city, capsys) -> None:
    call_command("drill", "outbreak")
    out = capsys.readouterr().out
    assert "day 0" in out and "played" in out
