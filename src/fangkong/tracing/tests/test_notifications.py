"""What tracing tells people (notices), written in its own transactions: a town hears of
the lists pushed to it (and the other town of nothing), command hears of each new case
(a positive) once and of escalated cases and lists; titles name no person."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from fangkong.notices.choices import NoticeKind
from fangkong.notices.models import Notification
from fangkong.testkit.worlds.pushes import World, build_world
from fangkong.tracing.models import Case, VerificationPush
from fangkong.tracing.services import cases as case_services
from fangkong.tracing.services import pushes as services

pytestmark = pytest.mark.django_db

NAMES = ("赵病例", "钱病例", "张小三", "李四", "王五", "孙六", "周七", "吴八", "郑九")


@pytest.fixture
def world(tree: Any, make_user: Any) -> World:
    return build_world(tree, make_user)


def _of(user: Any, kind: str) -> list[Notification]:
    return list(Notification.objects.filter(user=user, kind=kind).order_by("pk"))


def _de_identified(world: World, rows: list[Notification]) -> None:
    for n in rows:
        assert not any(name in n.title + n.body for name in NAMES), n.title
        assert not any(id_number in n.title for id_number in world.ids.values()), n.title


def test_each_town_hears_of_its_own_pushed_list_once(world: World) -> None:
    pushes = {
        p.jurisdiction_path: p
        for p in services.pushes_create_for_case(actor=world.investigator, case=world.case)
    }
    push_a = pushes[world.tree.town_a.path]

    (to_a,) = _of(world.town_a, NoticeKind.PUSH_NEW)
    assert to_a.url == reverse("tracing:push_detail", args=[push_a.pk])
    assert (to_a.object_type, to_a.object_id) == ("verification_push", str(push_a.pk))
    assert push_a.number in to_a.title and "乌镇镇 3 人" in to_a.title
    (to_b,) = _of(world.town_b, NoticeKind.PUSH_NEW)
    assert "濮院镇 2 人" in to_b.title
    for user in (world.command, world.investigator, world.lab):
        assert _of(user, NoticeKind.PUSH_NEW) == []
    _de_identified(world, [to_a, to_b])

    # nothing new to push: nothing new to tell
    assert services.pushes_create_for_case(actor=world.investigator, case=world.case) == []
    assert Notification.objects.filter(kind=NoticeKind.PUSH_NEW).count() == 2


def test_the_other_town_hears_nothing_of_a_list_not_its_own(world: World) -> None:
    # case 2's only contact lives in town A
    (push,) = services.pushes_create_for_case(actor=world.investigator, case=world.case2)
    assert push.jurisdiction_path == world.tree.town_a.path
    assert len(_of(world.town_a, NoticeKind.PUSH_NEW)) == 1
    assert _of(world.town_b, NoticeKind.PUSH_NEW) == []


def test_command_hears_of_each_new_case_once(world: World) -> None:
    rows = _of(world.command, NoticeKind.POSITIVE)
    assert [n.object_id for n in rows] == [str(world.case.pk), str(world.case2.pk)]
    assert world.case.number in rows[0].title and "乌镇镇" in rows[0].title
    assert "濮院镇" in rows[1].title
    assert rows[0].url == reverse("tracing:case_detail", args=[world.case.pk])
    for user in (world.investigator, world.town_a, world.town_b, world.lab):
        assert _of(user, NoticeKind.POSITIVE) == []
    _de_identified(world, rows)


def test_command_hears_of_an_escalated_list_once(world: World) -> None:
    pushes = services.pushes_create_for_case(actor=world.investigator, case=world.case)
    late = next(p for p in pushes if p.jurisdiction_path == world.tree.town_a.path)
    VerificationPush.objects.filter(pk=late.pk).update(
        deadline=timezone.now() - dt.timedelta(minutes=5)
    )
    now = timezone.now()
    assert services.pushes_escalate_overdue(now=now) == 1
    assert services.pushes_escalate_overdue(now=now + dt.timedelta(hours=1)) == 0

    (told,) = _of(world.command, NoticeKind.ESCALATION)
    assert late.number in told.title and "乌镇镇" in told.title
    assert told.url == reverse("tracing:push_detail", args=[late.pk])
    for user in (world.town_a, world.town_b, world.investigator):
        assert _of(user, NoticeKind.ESCALATION) == []


def test_command_hears_of_an_escalated_case_once(world: World) -> None:
    Case.objects.filter(pk=world.case.pk).update(
        core_facts_due_at=timezone.now() - dt.timedelta(minutes=1)
    )
    now = timezone.now()
    assert [c.pk for c in case_services.cases_escalate_overdue(now=now)] == [world.case.pk]
    assert case_services.cases_escalate_overdue(now=now) == []

    (told,) = _of(world.command, NoticeKind.ESCALATION)
    assert world.case.number in told.title and "核心信息" in told.title
    assert (told.object_type, told.object_id) == ("case", str(world.case.pk))
    assert _of(world.town_a, NoticeKind.ESCALATION) == []
    _de_identified(world, [told])
