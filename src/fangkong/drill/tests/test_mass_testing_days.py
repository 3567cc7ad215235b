"""Days 1–3 of the reference outbreak: mass testing played through the real services."""

from __future__ import annotations

import pytest

from fangkong.areas.models import Zone
from fangkong.drill.city import drill_city_build
from fangkong.drill.models import DrillDay
from fangkong.drill.outbreak import WUZHEN, drill_outbreak
from fangkong.testing.models import (
    Hold,
    Recheck,
    RecheckStatus,
    ResultValue,
    Round,
    RoundPurpose,
    RoundStatus,
    RoundTarget,
    Sample,
    Tube,
    TubeResult,
    TubeState,
)
from fangkong.tracing.models import Case

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(db: None):
    return drill_city_build(population=12000, days=2, seed=11).drill_city


def test_days_1_to_3_play_mass_testing(city) -> None:
    reports = drill_outbreak(through_day=3)

    assert [r.day for r in reports] == [0, 1, 2, 3]
    assert all(r.played for r in reports)
    day1, day2, day3 = (r.summary for r in reports[1:])
    day3_date = reports[3].on_date
    # The mass-testing rounds (the sites' tests go in a standing round of their own).
    rounds = list(Round.objects.filter(purpose=RoundPurpose.SCREENING).order_by("pk"))
    assert len(rounds) == 3
    assert all(r.status == RoundStatus.CLOSED for r in rounds)

    # Day 1: 乌镇镇 only, pooled by zone level (sealed single tubes, controlled 10,
    # precaution 20), most targets sampled, every tube resulted negative.
    wuzhen = rounds[0]
    assert wuzhen.jurisdiction_path == WUZHEN
    assert (
        not RoundTarget.objects.filter(round=wuzhen)
        .exclude(jurisdiction_path__startswith=WUZHEN)
        .exists()
    )
    sizes = set(RoundTarget.objects.filter(round=wuzhen).values_list("pool_size", flat=True))
    assert 1 in sizes and 20 in sizes
    sampled = Sample.objects.filter(round=wuzhen, walk_in=False).values("person").distinct()
    assert 0.9 * wuzhen.target_count <= sampled.count() < wuzhen.target_count
    assert Sample.objects.filter(round=wuzhen, walk_in=True).exists()
    assert day1["refused"] == {}
    assert not Tube.objects.filter(round=wuzhen).exclude(state=TubeState.RESULTED).exists()
    assert not TubeResult.objects.filter(round=wuzhen, result=ResultValue.POSITIVE).exists()

    # Day 2: the whole city; one positive pool → every member held and rechecked; one
    # recheck positive → the second case, in tracing, source unknown, being traced.
    city_round = rounds[1]
    positive = TubeResult.objects.get(
        round=city_round, result=ResultValue.POSITIVE, tube__pool_size=20
    ).tube
    members = set(positive.samples.values_list("person_id", flat=True))
    assert set(Hold.objects.filter(tube=positive).values_list("person_id", flat=True)) == members
    rechecks = Recheck.objects.filter(source_tube=positive)
    assert rechecks.count() == len(members) == day2["rechecks"]
    assert rechecks.filter(status=RecheckStatus.POSITIVE).count() == 1
    assert rechecks.filter(status=RecheckStatus.NEGATIVE).count() == len(members) - 1
    second = Case.objects.get(person_id=rechecks.get(status=RecheckStatus.POSITIVE).person_id)
    assert second.source_unknown
    assert not second.jurisdiction_path.startswith(WUZHEN)
    assert Case.objects.count() == 2

    # Day 3: the sealed and controlled zones again, all negative.
    # (The sealed and controlled zones of 乌镇镇 and the controlled zone drawn a week
    # earlier in the next town.)
    zones_round = rounds[2]
    assert zones_round.target_count < city_round.target_count
    assert day3["zones"] >= 2 and day3["zones_screened"] == day3["zones"]
    assert not TubeResult.objects.filter(round=zones_round, result=ResultValue.POSITIVE).exists()
    # The earlier zone has the days and the all-negative screening: a proposal waits.
    earlier = Zone.objects.exclude(jurisdiction_path__startswith=WUZHEN).get()
    assert (earlier.level, earlier.downgrade_proposed_on) == ("controlled", day3_date)


def test_mass_testing_days_are_deterministic_and_played_once(city) -> None:
    first = [r.summary for r in drill_outbreak(through_day=3)]
    again = drill_outbreak(through_day=3)
    assert not any(r.played for r in again)
    assert [r.summary for r in again] == first
    assert DrillDay.objects.count() == 4
