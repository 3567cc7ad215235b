"""What quarantine tells people (notices): an inspection's new rectifications reach the
site's town staff and the site's own staff, once per inspection, and nobody of another
town or another site; escalated rectifications reach command, once per site per run.
Titles name the site and counts, never the owner."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from fangkong.accounts.roles import Role
from fangkong.notices.choices import NoticeKind
from fangkong.notices.models import Notification
from fangkong.quarantine.models import Rectification
from fangkong.quarantine.services import inspections as services
from fangkong.testkit import quarantine_inspections as kit

pytestmark = pytest.mark.django_db


def _of(user: Any, kind: str) -> list[Notification]:
    return list(Notification.objects.filter(user=user, kind=kind).order_by("pk"))


def test_a_site_s_town_and_its_staff_hear_of_new_rectifications_once(
    tree: Any, command_user: Any, town_a_user: Any, town_b_user: Any, make_user: Any
) -> None:
    site = kit.site(tree.community_a, "乌镇一号隔离点")
    other_site = kit.site(tree.community_a, "乌镇二号隔离点")
    staff = kit.site_staff(site, display_name="钱护士")
    other_staff = kit.site_staff(other_site)
    community = make_user(Role.COMMUNITY_WORKER, tree.community_a, "community-a")

    inspection = kit.inspection(
        site,
        failed={"B01": "无独立卫生间", "E02": "医废未封扎"},
        owner_name="李站长",
        actor=command_user,
    )

    for user in (town_a_user, staff):
        (told,) = _of(user, NoticeKind.RECTIFICATION_NEW)
        assert "乌镇一号隔离点" in told.title and "2 项" in told.title
        assert "李站长" not in told.title and "钱护士" not in told.title
        assert told.url == reverse("quarantine:inspection_detail", args=[inspection.pk])
    for user in (town_b_user, other_staff, command_user, community):
        assert _of(user, NoticeKind.RECTIFICATION_NEW) == []

    # the town user may open what it leads to
    c = Client()
    c.force_login(town_a_user)
    assert c.get(_of(town_a_user, NoticeKind.RECTIFICATION_NEW)[0].url).status_code == 200


def test_a_passed_inspection_tells_nobody(tree: Any, command_user: Any, town_a_user: Any) -> None:
    site = kit.site(tree.community_a)
    kit.site_staff(site)
    kit.inspection(site, actor=command_user)
    assert not Notification.objects.filter(kind=NoticeKind.RECTIFICATION_NEW).exists()


def test_command_hears_of_escalated_rectifications_once_per_site(
    tree: Any, command_user: Any, town_a_user: Any, town_b_user: Any
) -> None:
    site_a = kit.site(tree.community_a, "乌镇一号隔离点")
    site_b = kit.site(tree.community_b, "濮院一号隔离点")
    staff_a = kit.site_staff(site_a)
    kit.inspection(site_a, failed={"B01": "x", "E02": "y"}, actor=command_user)
    kit.inspection(site_b, failed={"C01": "z"}, actor=command_user)
    later = max(r.deadline_at for r in Rectification.objects.all()) + dt.timedelta(minutes=1)

    assert services.rectifications_escalate(now=later) == 3
    assert services.rectifications_escalate(now=later) == 0

    told = _of(command_user, NoticeKind.ESCALATION)
    assert sorted(n.title for n in told) == [
        "超时升级：乌镇一号隔离点 2 项整改逾期未完成",
        "超时升级：濮院一号隔离点 1 项整改逾期未完成",
    ]
    assert told[0].url.startswith(reverse("quarantine:rectification_list") + "?site=")
    for user in (town_a_user, town_b_user, staff_a):
        assert _of(user, NoticeKind.ESCALATION) == []
