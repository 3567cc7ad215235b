"""The towns' daily reports: submit, late, missing → overdue at the rule set's hour and
gone once submitted, the reminder once a town a day, read locks editing, scope."""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.roles import Role
from fangkong.command.deadlines_town_reports import (
    KIND_CODE,
    town_reports_overdue,
    town_reports_overdue_count,
)
from fangkong.command.selectors.town_reports import town_reports_for, town_reports_summary
from fangkong.command.services import town_reports as services
from fangkong.core import deadlines
from fangkong.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fangkong.notices.choices import NoticeKind
from fangkong.notices.models import Notification
from fangkong.testkit.clock import at
from fangkong.testkit.command_town_reports import town_report

pytestmark = pytest.mark.django_db
DAY = at(5, 0).date()


def test_a_report_before_the_hour_is_submitted_and_command_hears(
    tree: Any, town_a_user: Any, command_user: Any, ruleset: Any
) -> None:
    report = town_report(town_a_user, now=at(5, 17, 30))
    assert (report.town_path, report.day, report.late) == (tree.town_a.path, DAY, False)
    assert report.due_at == at(5, 18) and report.ruleset_version == "v9"
    assert [p.text for p in report.problems.order_by("position")] == [
        "隔离酒店房间紧张，剩余 8 间",
        "采样人员连续作业，需轮换",
    ]
    told = Notification.objects.get(kind=NoticeKind.TOWN_REPORT_SUBMITTED)
    assert told.user == command_user and "乌镇镇" in told.title
    assert not Notification.objects.filter(user=town_a_user).exists()
    audit = AuditEvent.objects.get(action="town_report.submit")
    assert audit.jurisdiction_path == tree.town_a.path and audit.detail["late"] is False


def test_a_report_after_the_hour_is_late_and_stays_late_when_edited(
    tree: Any, town_a_user: Any, command_user: Any, ruleset: Any
) -> None:
    town_report(town_a_user, now=at(5, 19, 5))
    services.town_report_submit(
        actor=town_a_user,
        town_path=tree.town_a.path,
        day=DAY,
        progress="补充：晚间加派采样队",
        problems=["转运车辆不足"],
        needs=[],
        now=at(5, 20),
    )
    rows = {r["town_path"]: r for r in town_reports_for(user=command_user, day=DAY)}
    assert rows[tree.town_a.path]["state"] == "late"
    assert rows[tree.town_a.path]["problems"] == ["转运车辆不足"]
    assert rows[tree.town_a.path]["needs"] == []
    assert rows[tree.town_b.path]["state"] == "missing"
    assert AuditEvent.objects.filter(action="town_report.update").count() == 1
    # The first submission told command; the edit did not tell it again.
    assert Notification.objects.filter(kind=NoticeKind.TOWN_REPORT_SUBMITTED).count() == 1


def test_the_selector_gives_every_town_to_command_and_its_own_to_a_town(
    tree: Any, town_a_user: Any, town_b_user: Any, command_user: Any, ruleset: Any
) -> None:
    town_report(town_a_user, now=at(5, 17))
    rows = town_reports_for(user=command_user, day=DAY)
    assert [r["town_path"] for r in rows] == sorted([tree.town_a.path, tree.town_b.path])
    a = next(r for r in rows if r["town_path"] == tree.town_a.path)
    assert set(a) >= {
        "town_path",
        "town_name",
        "state",
        "submitted_at",
        "progress",
        "problems",
        "needs",
    }
    assert a["town_name"] == "乌镇镇" and a["submitted_at"] == at(5, 17)
    assert a["needs"] == ["物资：N95 口罩 2000只", "人员：采样人员 10人"]
    own = town_reports_for(user=town_b_user, day=DAY)
    assert [(r["town_path"], r["state"], r["progress"]) for r in own] == [
        (tree.town_b.path, "missing", "")
    ]
    assert town_reports_summary(user=command_user, day=DAY)["submitted"] == 1


def test_a_missing_report_is_overdue_at_the_hour_once_per_town_and_leaves_when_submitted(
    tree: Any, town_a_user: Any, town_b_user: Any, command_user: Any, ruleset: Any
) -> None:
    kind = deadlines.kind_get(KIND_CODE)
    assert kind is not None and kind.capability == "town_report.view"
    assert town_reports_overdue(command_user, at(5, 17, 59), 50) == []
    items = town_reports_overdue(command_user, at(5, 18, 1), 50)
    assert sorted(i.owner_key for i in items) == sorted([tree.town_a.path, tree.town_b.path])
    assert {i.owner_kind for i in items} == {"town"}
    assert len({i.key for i in items}) == 2 and items[0].deadline == at(5, 18)
    assert town_reports_overdue_count(command_user, at(5, 18, 1)) == 2
    # A town sees its own item only.
    own = town_reports_overdue(town_a_user, at(5, 18, 1), 50)
    assert [i.owner_key for i in own] == [tree.town_a.path]
    town_report(town_a_user, now=at(5, 18, 30))
    after = town_reports_overdue(command_user, at(5, 18, 31), 50)
    assert [i.owner_key for i in after] == [tree.town_b.path]
    assert town_reports_overdue_count(town_a_user, at(5, 18, 31)) == 0


def test_a_local_override_moves_the_hour(
    tree: Any, admin_user: Any, command_user: Any, ruleset: Any
) -> None:
    from fangkong.protocol.services import ruleset_create_override

    ruleset_create_override(
        actor=admin_user,
        based_on=ruleset,
        version="v9-乌镇",
        name="乌镇镇日报提前",
        region=tree.town_a.path,
        effective_from=ruleset.effective_from,
        changes={"town_report_hour": 12},
    )
    items = town_reports_overdue(command_user, at(5, 13), 50)
    assert [(i.owner_key, i.deadline) for i in items] == [(tree.town_a.path, at(5, 12))]


def test_the_reminder_tells_a_missing_town_once_a_day(
    tree: Any, town_a_user: Any, town_b_user: Any, make_user: Any, ruleset: Any
) -> None:
    other_a = make_user(Role.TOWN_STAFF, tree.town_a, "town-a-2")
    town_report(town_b_user, now=at(5, 17))
    assert services.town_reports_remind_missing(now=at(5, 17, 59)) == 0
    assert services.town_reports_remind_missing(now=at(5, 18, 5)) == 1
    assert services.town_reports_remind_missing(now=at(5, 18, 10)) == 0
    told = Notification.objects.filter(kind=NoticeKind.TOWN_REPORT_MISSING)
    assert sorted(n.user_id for n in told) == sorted([town_a_user.pk, other_a.pk])
    assert not told.filter(user=town_b_user).exists()
    # The next day is a new day.
    assert services.town_reports_remind_missing(now=at(6, 18, 5)) == 2


def test_command_reads_a_report_and_the_town_can_no_longer_edit_it(
    tree: Any, town_a_user: Any, command_user: Any, ruleset: Any
) -> None:
    report = town_report(town_a_user, now=at(5, 17))
    services.town_report_mark_read(actor=command_user, report_id=report.pk, now=at(5, 17, 10))
    services.town_report_mark_read(actor=command_user, report_id=report.pk, now=at(5, 17, 20))
    assert AuditEvent.objects.filter(action="town_report.read").count() == 1
    with pytest.raises(Conflict) as err:
        town_report(town_a_user, now=at(5, 17, 30), progress="改一下")
    assert err.value.code == "town_report_read"
    report.refresh_from_db()
    assert report.progress.startswith("今日完成")


def test_only_today_can_be_written(tree: Any, town_a_user: Any, ruleset: Any) -> None:
    with pytest.raises(Conflict) as err:
        services.town_report_submit(
            actor=town_a_user,
            town_path=tree.town_a.path,
            day=at(4, 0).date(),
            progress="补报",
            problems=[],
            needs=[],
            now=at(5, 9),
        )
    assert err.value.code == "town_report_day_closed"


def test_scope_and_role_are_checked(
    tree: Any, town_a_user: Any, command_user: Any, make_user: Any, ruleset: Any
) -> None:
    def submit(actor: Any, path: str) -> Any:
        return services.town_report_submit(
            actor=actor,
            town_path=path,
            day=DAY,
            progress="进展",
            problems=[],
            needs=[],
            now=at(5, 10),
        )

    with pytest.raises(NotFound):
        submit(town_a_user, tree.town_b.path)
    with pytest.raises(PermissionDenied):
        submit(command_user, tree.town_a.path)
    with pytest.raises(PermissionDenied):
        submit(make_user(Role.COMMUNITY_WORKER, tree.community_a), tree.town_a.path)
    report = town_report(town_a_user, now=at(5, 10))
    with pytest.raises(PermissionDenied):
        services.town_report_mark_read(actor=town_a_user, report_id=report.pk)
    town_b_command = make_user(Role.TOWN_STAFF, tree.town_b, "town-b-x")
    with pytest.raises(PermissionDenied):
        services.town_report_mark_read(actor=town_b_command, report_id=report.pk)
    assert not AuditEvent.objects.filter(action="town_report.read").exists()


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"progress": "  "}, "progress_required"),
        ({"progress": "字" * 2001}, "progress_too_long"),
        ({"problems": ["问"] * 21}, "problems_too_many"),
        ({"problems": ["问" * 301]}, "problem_too_long"),
        ({"needs": [{"kind": "gold", "item": "x"}]}, "need_kind_invalid"),
        ({"needs": [{"kind": "staff", "item": "人", "quantity": 0}]}, "need_quantity_invalid"),
        ({"needs": [{"kind": "staff", "item": "人", "quantity": "3"}]}, "need_quantity_invalid"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    tree: Any, town_a_user: Any, ruleset: Any, fields: dict[str, Any], code: str
) -> None:
    values: dict[str, Any] = {"progress": "进展", "problems": [], "needs": [], **fields}
    with pytest.raises(InvalidInput) as err:
        services.town_report_submit(
            actor=town_a_user, town_path=tree.town_a.path, day=DAY, now=at(5, 10), **values
        )
    assert err.value.code == code
    assert town_reports_for(user=town_a_user, day=DAY)[0]["state"] == "missing"


def test_fangkong_periodic_reminds_a_missing_town_once(
    tree: Any, town_a_user: Any, town_b_user: Any, clock: Any, ruleset: Any
) -> None:
    from django.core.management import call_command

    clock.now = at(5, 18, 30)
    town_report(town_b_user, now=at(5, 17))
    call_command("periodic", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("periodic", stdout=open("/dev/null", "w"))  # noqa: SIM115
    told = Notification.objects.filter(kind=NoticeKind.TOWN_REPORT_MISSING)
    assert [n.user_id for n in told] == [town_a_user.pk]
    assert told.get().url == "/command/town-reports/submit/"
