"""What testing tells command (notices): an import's positive pools once per import (not
per tube, nor per person held), a positive recheck once (the case it makes), overdue
rechecks once per town; nobody else hears of them, and no title names a person."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from fangkong.accounts.roles import Role
from fangkong.notices.choices import NoticeKind
from fangkong.notices.models import Notification
from fangkong.testing.models import Recheck, TransportBox
from fangkong.testing.services import boxes as box_services
from fangkong.testing.services import rechecks as recheck_services
from fangkong.testing.services import results as result_services
from fangkong.testkit.clock import at
from fangkong.testkit.worlds.labs import World, build_world, received_tube, results_csv

pytestmark = pytest.mark.django_db

T = "2022-07-10 14:00"


@pytest.fixture
def world(tree: Any, make_user: Any) -> World:
    return build_world(tree, make_user)


@pytest.fixture
def others(tree: Any, make_user: Any) -> list[Any]:
    """Everyone who must hear nothing: both towns' staff, an investigator."""
    return [
        make_user(Role.TOWN_STAFF, tree.town_a, "town-a"),
        make_user(Role.TOWN_STAFF, tree.town_b, "town-b"),
        make_user(Role.INVESTIGATOR, tree.city, "investigator"),
    ]


def _of(user: Any, kind: str) -> list[Notification]:
    return list(Notification.objects.filter(user=user, kind=kind).order_by("pk"))


def _two_positive_pools(world: World) -> None:
    received_tube(world, world.persons_a, barcode="TAPOS")
    received_tube(world, world.persons_b, barcode="TBPOS")
    data = results_csv([("TAPOS", "阳性", 28, 30, T), ("TBPOS", "阳性", 27, 29, T)])
    report = result_services.results_import_file(actor=world.lab_user, data=data, filename="p.csv")
    assert report.positives == 2 and report.holds == 20


def test_an_import_s_positive_pools_are_one_notification_to_command(
    world: World, command_user: Any, others: list[Any]
) -> None:
    _two_positive_pools(world)

    (told,) = _of(command_user, NoticeKind.POSITIVE_POOL)
    assert "2 管阳性，20 人" in told.title
    assert "（濮院镇 10 人、乌镇镇 10 人）" in told.title
    assert told.url == "/testing/rechecks/"
    for user in [*others, world.lab_user, world.community_a]:
        assert not Notification.objects.filter(user=user).exists()
    names = [p.name for p in [*world.persons_a, *world.persons_b]]
    assert not any(name in told.title for name in names)

    # the same file again: nothing new is positive, nothing new is told
    data = results_csv([("TAPOS", "阳性", 28, 30, T), ("TBPOS", "阳性", 27, 29, T)])
    result_services.results_import_file(actor=world.lab_user, data=data + b"\n", filename="q.csv")
    assert len(_of(command_user, NoticeKind.POSITIVE_POOL)) == 1


def test_a_positive_recheck_is_told_once_as_the_case_it_makes(
    world: World, command_user: Any, others: list[Any]
) -> None:
    _two_positive_pools(world)
    recheck = Recheck.objects.filter(person=world.persons_a[0]).get()
    recheck_services.recheck_record_sample(
        actor=world.community_a, recheck=recheck, barcode="RC0002", sampled_at=at(10, 9)
    )
    box_services.box_receive(
        actor=world.lab_user, box=TransportBox.objects.get(barcode="RC-RC0002"), at=at(10, 10)
    )
    data = results_csv([("RC0002", "阳性", 24, 25, T)])
    report = result_services.results_import_file(actor=world.lab_user, data=data, filename="rc.csv")

    (told,) = _of(command_user, NoticeKind.POSITIVE)
    assert told.object_type == "case" and told.object_id == str(report.cases[0])
    assert world.persons_a[0].name not in told.title
    # the recheck tube is no new pool
    assert len(_of(command_user, NoticeKind.POSITIVE_POOL)) == 1
    for user in others:
        assert _of(user, NoticeKind.POSITIVE) == []


def test_overdue_rechecks_are_told_to_command_once_per_town(
    world: World, command_user: Any, others: list[Any]
) -> None:
    _two_positive_pools(world)
    later = timezone.now() + dt.timedelta(hours=7)  # v9: recheck within 6 h
    assert len(recheck_services.rechecks_escalate_overdue(now=later)) == 20
    assert recheck_services.rechecks_escalate_overdue(now=later) == []

    told = _of(command_user, NoticeKind.ESCALATION)
    assert sorted(n.title for n in told) == [
        "超时升级：乌镇镇 10 人单管复核逾期未出结果",
        "超时升级：濮院镇 10 人单管复核逾期未出结果",
    ]
    assert {n.jurisdiction_path for n in told} == {
        world.tree.town_a.path,
        world.tree.town_b.path,
    }
    for user in others:
        assert _of(user, NoticeKind.ESCALATION) == []
