"""A case reported for a person living in a zone records the case on that zone (areas'
zone service), without a separate `record-case` and without `zone.manage`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from fangkong.accounts.models import AuditEvent
from fangkong.areas.models import Zone, ZoneAction, ZoneLevel
from fangkong.testkit import areas, people, tracing
from fangkong.testkit.clock import TZ

pytestmark = pytest.mark.django_db

REPORTED = dt.datetime(2022, 7, 6, 9, 0, tzinfo=TZ)


@pytest.fixture
def zones(tree: Any, command_user: Any) -> dict[str, Zone]:
    neighbour = areas.community(tree.town_a, "330483102002", "民合村")
    precaution = areas.zone(tree.town_a, ZoneLevel.PRECAUTION, actor=command_user)
    sealed = areas.zone(
        tree.town_a, ZoneLevel.SEALED, members=[tree.community_a], parent=precaution
    )
    controlled = areas.zone(
        tree.town_a, ZoneLevel.CONTROLLED, members=[neighbour], parent=precaution
    )
    return {"precaution": precaution, "sealed": sealed, "controlled": controlled}


def _case(jurisdiction: Any, investigator: Any) -> Any:
    return tracing.case(
        people.person(jurisdiction),
        sampled_on=REPORTED.date(),
        reported_at=REPORTED,
        actor=investigator,
    )


def test_a_case_at_home_in_a_sealed_zone_restarts_it_not_the_zone_around(
    tree: Any, zones: dict[str, Zone], investigator: Any
) -> None:
    case = _case(tree.grid_a, investigator)

    sealed = Zone.objects.get(pk=zones["sealed"].pk)
    assert (sealed.level, sealed.last_case_on, sealed.no_case_days) == (
        ZoneLevel.SEALED,
        REPORTED.date(),
        0,
    )
    row = sealed.transitions.order_by("-pk")[0]
    assert row.action == ZoneAction.CASE_RESET and case.number in row.reason
    assert row.actor == investigator
    # The precaution zone around it is its children's business.
    assert Zone.objects.get(pk=zones["precaution"].pk).last_case_on is None


def test_a_case_at_home_in_a_controlled_zone_escalates_it(
    tree: Any, zones: dict[str, Zone], investigator: Any
) -> None:
    neighbour = zones["controlled"].members.get().jurisdiction

    _case(neighbour, investigator)

    controlled = Zone.objects.get(pk=zones["controlled"].pk)
    assert (controlled.level, controlled.last_case_on) == (ZoneLevel.SEALED, REPORTED.date())
    assert AuditEvent.objects.filter(action="zone.escalate", object_id=str(controlled.pk)).exists()


def test_a_case_outside_every_zone_changes_none(
    tree: Any, zones: dict[str, Zone], investigator: Any
) -> None:
    _case(tree.community_b, investigator)

    assert not Zone.objects.filter(last_case_on__isnull=False).exists()
    assert not AuditEvent.objects.filter(action__in=["zone.escalate", "zone.case_reset"]).exists()
