"""Quarantine in the reference outbreak: the drill city's sites and rooms, and what the
days do with them (placements, transfers, health checks, site tests, fevers, the third
case, releases and home monitoring), played through the real services."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from django.db.models import Count

from fangkong.areas.models import Place, PlaceKind
from fangkong.core.errors import DomainError
from fangkong.core.paths import community_of
from fangkong.drill.city import drill_city_build, drill_quarantine_rooms, drill_site_layout
from fangkong.drill.outbreak import LAST_DAY, drill_outbreak, outbreak_day0, start_for_now
from fangkong.drill.quarantine import FEVER_DAY, POSITIVE_DAY
from fangkong.quarantine import choices
from fangkong.quarantine.choices import (
    AlertKind,
    AlertState,
    Measure,
    PlacementStatus,
    RoomKind,
    TransferKind,
    TransferStatus,
)
from fangkong.quarantine.models import (
    HealthAlert,
    HealthCheck,
    HomeCheckIn,
    Occupancy,
    Placement,
    PlacementTest,
    Room,
    Site,
    Transfer,
)
from fangkong.testing.models import RoundPurpose, TubeResult
from fangkong.tracing.models import (
    Case,
    CaseLink,
    Contact,
    ContactClass,
    ContactStatus,
    PushItem,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(db: None):
    return drill_city_build(population=1500, days=5, seed=11).drill_city


def _contacts_of(case: Case, classification: str) -> set[int]:
    return set(
        Contact.objects.filter(
            classification=classification,
            pk__in=PushItem.objects.filter(push__case=case).values("contact_id"),
        ).values_list("pk", flat=True)
    )


def test_every_quarantine_site_place_is_a_site_with_rooms_meeting_the_reserve(city) -> None:
    places = set(Place.objects.filter(kind=PlaceKind.QUARANTINE_SITE).values_list("pk", flat=True))
    assert set(Site.objects.values_list("place_id", flat=True)) == places
    rooms = Room.objects.count()
    assert rooms == city.counts["quarantine_rooms"] == drill_quarantine_rooms(1500, 20)
    assert rooms >= math.ceil(1500 * 20 / 10_000)
    for site in Site.objects.all():
        kinds = set(site.rooms.values_list("kind", flat=True))
        assert kinds == {RoomKind.SINGLE, RoomKind.MULTI, RoomKind.ACCESSIBLE}, site
        assert site.doctor_name
    assert not Room.objects.filter(kind=RoomKind.SINGLE).exclude(beds=1).exists()
    assert not Room.objects.filter(accessible=True).exclude(kind=RoomKind.ACCESSIBLE).exists()


def test_room_counts_follow_the_reserve_and_the_outbreak() -> None:
    # The reserve (20 per 10,000) rules a large city; a small one gets what the outbreak
    # needs, a handful per site at the least.
    assert drill_quarantine_rooms(1_000_000, 20) == 2000
    assert drill_quarantine_rooms(20_000, 20) >= 400
    assert drill_quarantine_rooms(300, 20) >= 3 * 5
    layout = drill_site_layout(223)
    assert len(layout) == 223
    assert len({(b, n) for b, _f, n, *_ in layout}) == 223  # numbers unique per building
    assert {b for b, *_ in layout} == {"1", "2"}
    assert drill_site_layout(5)[0][3] == RoomKind.ACCESSIBLE


def test_the_demo_days_place_check_and_alert_but_release_nobody_yet(city) -> None:
    drill_outbreak(through_day=LAST_DAY)
    day0 = outbreak_day0(city)
    first, second = Case.objects.order_by("pk")
    # Every close contact of both cases placed, at a site (unless it was placed at home
    # as a secondary contact and upgraded since: its dates are recomputed, not its
    # measure), the first's secondary ones at home; rooms never shared by strangers.
    for case in (first, second):
        closes = _contacts_of(case, ContactClass.CLOSE)
        placed = Placement.objects.filter(contact_id__in=closes, follows__isnull=True)
        placed = placed.select_related("contact")
        unplaced = closes - set(placed.values_list("contact_id", flat=True))
        assert closes and len(unplaced) < len(closes) / 4
        # Those the towns did not find (or found outside the city) are not offered.
        assert (
            not Contact.objects.filter(pk__in=unplaced)
            .exclude(status__in=[ContactStatus.NOT_FOUND, ContactStatus.OUTSIDE])
            .exists()
        )
        for placement in placed:
            upgraded = placement.contact.upgraded_at
            assert placement.measure == Measure.CENTRALISED or (
                upgraded is not None and upgraded > placement.created_at
            ), placement
    secondaries = _contacts_of(first, ContactClass.SECONDARY)
    home = Placement.objects.filter(contact_id__in=secondaries)
    assert home.exists()
    assert set(home.values_list("measure", flat=True)) <= {Measure.HOME_QUARANTINE}
    for occupancy in Occupancy.objects.filter(ended_at__isnull=True):
        households = {p.person.household_id for p in occupancy.placements.all()}
        assert len(households) == 1
    # Located persons were transferred by their town and checked in at the site.
    checked_in = Placement.objects.filter(checked_in_at__isnull=False)
    assert checked_in.exists()
    for placement in checked_in:
        transfer = placement.transfers.get(kind=TransferKind.TO_SITE)
        assert transfer.status == TransferStatus.ARRIVED
        assert transfer.departed_at < transfer.arrived_at <= placement.checked_in_at
    # Twice-daily checks on the days after day 0; the tests due taken and resulted.
    slots = set(HealthCheck.objects.values_list("on_date", "slot"))
    for day in range(1, LAST_DAY + 1):
        on = day0 + dt.timedelta(days=day)
        assert {(on, "am"), (on, "pm")} <= slots
    sampled = PlacementTest.objects.filter(tube__isnull=False)
    assert sampled.exists()
    assert not sampled.filter(result=choices.TestResult.PENDING).exists()
    assert set(sampled.values_list("tube__round__purpose", flat=True)) == {RoundPurpose.QUARANTINE}
    # Day 3's fevers: alerts still open when the demo opens, urgent tests negative.
    fevers = HealthAlert.objects.filter(kind=AlertKind.FEVER)
    assert fevers.count() == 2
    assert set(fevers.values_list("state", flat=True)) == {AlertState.OPEN}
    assert {a.raised_at.date() for a in fevers} == {day0 + dt.timedelta(days=FEVER_DAY)}
    urgent = PlacementTest.objects.filter(kind=choices.TestKind.URGENT)
    assert set(urgent.values_list("result", flat=True)) == {choices.TestResult.NEGATIVE}
    # Released only from the end of their quarantine (those exposed before day 0 may be
    # by day 3); no third case; community workers checked on those at home.
    last = day0 + dt.timedelta(days=LAST_DAY)
    for placement in Placement.objects.filter(
        measure=Measure.CENTRALISED, status=PlacementStatus.RELEASED
    ):
        assert placement.quarantine_end_on <= placement.closed_at.date() <= last
    assert Case.objects.count() == 2
    assert HomeCheckIn.objects.exists()


def test_the_later_days_find_a_case_at_a_site_and_release_the_rest(city) -> None:
    reports = drill_outbreak(through_day=12)
    day0 = outbreak_day0(city)
    first = Case.objects.order_by("pk")[0]
    # Day 5: a close contact of the first case, at a site, has a fever; the urgent test
    # taken there is positive in the lab's import: the third case, linked to the first.
    assert Case.objects.count() == 3
    third = Case.objects.order_by("pk")[2]
    became = Placement.objects.get(status=PlacementStatus.BECAME_CASE)
    assert became.person_id == third.person_id
    assert became.contact_id in _contacts_of(first, ContactClass.CLOSE)
    positive = PlacementTest.objects.get(placement=became, kind=choices.TestKind.URGENT)
    assert positive.result == choices.TestResult.POSITIVE
    assert TubeResult.objects.get(tube=positive.tube).result == "positive"
    assert positive.sampled_at.date() == day0 + dt.timedelta(days=POSITIVE_DAY)
    assert CaseLink.objects.filter(infector=first, infectee=third).exists()
    assert reports[POSITIVE_DAY].summary["quarantine"]["third_case"]["case"] == third.number
    hospital = became.transfers.get(kind=TransferKind.TO_HOSPITAL)
    assert hospital.status == TransferStatus.ARRIVED
    # Day 3's fevers were handled the next morning, their transfers to hospital cancelled.
    handled = HealthAlert.objects.filter(
        kind=AlertKind.FEVER, raised_at__date=day0 + dt.timedelta(days=FEVER_DAY)
    )
    assert set(handled.values_list("state", flat=True)) == {AlertState.HANDLED}
    assert not Transfer.objects.filter(
        kind=TransferKind.TO_HOSPITAL, status=TransferStatus.WAITING
    ).exists()
    # Everyone who arrived at a site is released on schedule (or became the case), each
    # with a certificate, after every test was negative, and handed to home monitoring.
    assert not Placement.objects.filter(
        measure=Measure.CENTRALISED, status=PlacementStatus.ACTIVE
    ).exists()
    released = Placement.objects.filter(
        measure=Measure.CENTRALISED, status=PlacementStatus.RELEASED
    )
    assert released.count() == Placement.objects.filter(checked_in_at__isnull=False).count() - 1
    for placement in released:
        assert placement.certificate_number
        assert placement.closed_at.date() >= placement.quarantine_end_on
        tests = placement.tests.all()
        assert tests and all(t.result == choices.TestResult.NEGATIVE for t in tests)
    released_on = {p.closed_at.date() for p in released}
    assert max(released_on) > day0 + dt.timedelta(days=LAST_DAY)  # on the later days
    follows = Placement.objects.filter(measure=Measure.HOME_MONITORING, follows__isnull=False)
    assert follows.count() == released.count()
    assert HomeCheckIn.objects.filter(placement__in=follows).exists()
    # Home measures past their end were closed by the periodic job.
    assert not Placement.objects.filter(
        measure=Measure.HOME_QUARANTINE, status=PlacementStatus.ACTIVE
    ).exists()
    # No room ever held two open occupancies, and the rooms freed went to disinfection.
    assert not (
        Occupancy.objects.filter(ended_at__isnull=True)
        .values("room")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .exists()
    )


def test_days_in_the_future_are_refused(db: None) -> None:
    from django.utils import timezone

    drill_city_build(
        population=600, days=1, seed=3, start=start_for_now(days=1, now=timezone.now())
    )
    with pytest.raises(DomainError) as err:
        drill_outbreak(through_day=LAST_DAY + 1)
    assert err.value.code == "drill_day_future"
    assert not Case.objects.exists()


def test_a_big_citys_home_check_ins_go_in_bulk(city, monkeypatch) -> None:
    from fangkong.accounts.models import AuditEvent
    from fangkong.drill import quarantine as drill_quarantine

    monkeypatch.setattr(drill_quarantine, "HOME_SERVICE_LIMIT", 0)
    reports = drill_outbreak(through_day=1)

    days = [r.summary["quarantine"]["home_checkins"] for r in reports]
    assert all(d.get("recorded_in_bulk", 0) == d.get("recorded", 0) for d in days)
    checkins = HomeCheckIn.objects.select_related("placement", "checked_by")
    assert checkins.count() == sum(d.get("recorded", 0) for d in days) > 0
    for checkin in checkins:
        assert checkin.placement.measure in {Measure.HOME_QUARANTINE, Measure.HOME_MONITORING}
        home = community_of(checkin.placement.jurisdiction_path)
        assert checkin.checked_by.jurisdiction.path == home
    assert not AuditEvent.objects.filter(action="home_checkin.record").exists()
