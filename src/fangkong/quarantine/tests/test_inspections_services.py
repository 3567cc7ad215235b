"""Inspections against the standard: finding → rectification → overdue escalation
(exactly once) → completion; refusals with codes and nothing half-written; scoping."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.roles import Role
from fangkong.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fangkong.quarantine.choices import RectificationStatus
from fangkong.quarantine.models import ChecklistItem, Finding, Inspection, Rectification
from fangkong.quarantine.selectors import inspections as selectors
from fangkong.quarantine.services import inspections as services
from fangkong.testkit import quarantine_inspections as kit

pytestmark = pytest.mark.django_db


@pytest.fixture
def sites(tree: Any) -> Any:
    return {
        "a": kit.site(tree.community_a, "乌镇隔离点"),
        "b": kit.site(tree.community_b, "濮院隔离点"),
    }


def _answers(failed: dict[str, str] | None = None) -> dict[int, tuple[bool, str]]:
    failed = failed or {}
    return {
        item.pk: (item.code not in failed, failed.get(item.code, ""))
        for item in ChecklistItem.objects.filter(active=True)
    }


def test_the_standard_ships_with_its_categories() -> None:
    items = list(ChecklistItem.objects.filter(active=True))
    assert len(items) >= 20
    categories = {i.category for i in items}
    assert {
        "选址与布局",
        "房间",
        "人员管理",
        "医疗与检测",
        "消毒与废弃物",
        "闭环管理",
    } <= categories
    texts = " ".join(i.text for i in items)
    for words in ("单人单间", "三区两通道", "医疗废物", "每日两次体温", "门磁", "无接触配送"):
        assert words in texts


def test_finding_rectification_escalation_completion(
    sites: Any, command_user: Any, ruleset: Any
) -> None:
    site = sites["a"]
    staff = kit.site_staff(site, display_name="张护士长")
    now = timezone.now()
    inspection = kit.inspection(
        site,
        failed={"B01": "3 间无独立卫生间"},
        owner=staff,
        owner_name="",
        now=now,
        actor=command_user,
    )
    rect = Rectification.objects.get(finding__inspection=inspection)
    assert rect.finding.item.code == "B01"
    assert rect.owner_name == "张护士长"
    assert rect.owner == staff
    assert rect.deadline_at == now + dt.timedelta(hours=ruleset.rectification_hours)
    assert (
        Finding.objects.filter(inspection=inspection).count()
        == ChecklistItem.objects.filter(active=True).count()
    )

    # Not overdue yet: nothing escalates.
    assert services.rectifications_escalate(now=now + dt.timedelta(hours=1)) == 0
    later = rect.deadline_at + dt.timedelta(minutes=1)
    assert services.rectifications_escalate(now=later) == 1
    assert services.rectifications_escalate(now=later + dt.timedelta(hours=5)) == 0  # once
    rect.refresh_from_db()
    assert rect.escalated_at == later
    assert (
        AuditEvent.objects.filter(action="rectification.escalate", object_id=str(rect.pk)).count()
        == 1
    )

    # Overdue first on the list.
    listed = list(selectors.rectifications(user=command_user, now=later))
    assert listed[0].pk == rect.pk and listed[0].rank == 0

    services.rectification_complete(actor=staff, rectification=rect, note="已加装隔断并改用单间")
    rect.refresh_from_db()
    assert rect.status == RectificationStatus.DONE and rect.done_note
    assert AuditEvent.objects.filter(action="rectification.complete").count() == 1
    with pytest.raises(Conflict) as exc:
        services.rectification_complete(actor=staff, rectification=rect, note="again")
    assert exc.value.code == "rectification_done"
    # A done rectification never escalates.
    assert services.rectifications_escalate(now=later + dt.timedelta(days=3)) == 0


def test_periodic_escalates_overdue_rectifications(sites: Any, command_user: Any) -> None:
    past = timezone.now() - dt.timedelta(days=3)
    kit.inspection(sites["a"], failed={"E02": "医疗废物未封扎"}, now=past, actor=command_user)
    call_command("periodic", stdout=open("/dev/null", "w"))  # noqa: SIM115
    rect = Rectification.objects.get()
    assert rect.escalated_at is not None
    call_command("periodic", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert AuditEvent.objects.filter(action="rectification.escalate").count() == 1


def test_deadline_override(sites: Any, command_user: Any) -> None:
    deadline = timezone.now() + dt.timedelta(hours=3)
    kit.inspection(sites["a"], failed={"A02": "通道交叉"}, deadline_at=deadline, actor=command_user)
    assert Rectification.objects.get().deadline_at == deadline


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("unanswered", "item_unanswered"),
        ("no_note", "note_required"),
        ("unknown", "item_unknown"),
        ("future", "inspected_on_future"),
        ("no_owner", "owner_required"),
        ("past_deadline", "deadline_past"),
        ("stranger_owner", "owner_not_site_staff"),
    ],
)
def test_bad_inspections_are_refused_and_write_nothing(
    sites: Any, command_user: Any, make_user: Any, tree: Any, change: str, code: str
) -> None:
    site = sites["a"]
    results = _answers({"B01": "无独立卫生间"})
    kwargs: dict[str, Any] = {"owner_name": "李站长"}
    today = timezone.localdate()
    inspected_on = today
    first = ChecklistItem.objects.filter(active=True).order_by("order").first()
    assert first is not None
    if change == "unanswered":
        del results[first.pk]
    elif change == "no_note":
        results[first.pk] = (False, "  ")
    elif change == "unknown":
        results[10**9] = (True, "")
    elif change == "future":
        inspected_on = today + dt.timedelta(days=1)
    elif change == "no_owner":
        kwargs["owner_name"] = ""
    elif change == "past_deadline":
        kwargs["deadline_at"] = timezone.now() - dt.timedelta(minutes=1)
    elif change == "stranger_owner":
        kwargs["owner"] = kit.site_staff(sites["b"])
    with pytest.raises(InvalidInput) as exc:
        services.inspection_create(
            actor=command_user, site=site, inspected_on=inspected_on, results=results, **kwargs
        )
    assert exc.value.code == code
    assert Inspection.objects.count() == 0
    assert Finding.objects.count() == 0
    assert Rectification.objects.count() == 0
    assert not AuditEvent.objects.filter(action="inspection.create").exists()


def test_retired_items_are_not_asked(sites: Any, command_user: Any) -> None:
    item = ChecklistItem.objects.get(code="F05")
    services.checklist_item_retire(actor=command_user, item=item)
    inspection = kit.inspection(sites["a"], actor=command_user)
    assert not inspection.findings.filter(item=item).exists()
    with pytest.raises(InvalidInput) as exc:
        services.inspection_create(
            actor=command_user,
            site=sites["a"],
            inspected_on=timezone.localdate(),
            results={**_answers(), item.pk: (True, "")},
        )
    assert exc.value.code == "item_unknown"


def test_only_inspection_manage_inspects(sites: Any, town_a_user: Any, tree: Any) -> None:
    staff = kit.site_staff(sites["a"])
    for actor in (town_a_user, staff):
        with pytest.raises(PermissionDenied):
            kit.inspection(sites["a"], actor=actor)
    assert Inspection.objects.count() == 0


def test_rectification_complete_scoping(
    sites: Any, command_user: Any, town_a_user: Any, make_user: Any, tree: Any
) -> None:
    kit.inspection(sites["a"], failed={"C01": "门磁损坏"}, actor=command_user)
    rect = Rectification.objects.get()
    other_site_staff = kit.site_staff(sites["b"])
    with pytest.raises(NotFound):
        services.rectification_complete(actor=other_site_staff, rectification=rect, note="x")
    with pytest.raises(PermissionDenied):
        services.rectification_complete(actor=town_a_user, rectification=rect, note="x")
    with pytest.raises(InvalidInput) as exc:
        services.rectification_complete(
            actor=kit.site_staff(sites["a"]), rectification=rect, note=" "
        )
    assert exc.value.code == "note_required"
    rect.refresh_from_db()
    assert rect.status == RectificationStatus.OPEN
    services.rectification_complete(actor=command_user, rectification=rect, note="已更换门磁")
    assert Rectification.objects.get().status == RectificationStatus.DONE


def test_selectors_scope_by_site_and_town(
    sites: Any, command_user: Any, town_a_user: Any, town_b_user: Any, make_user: Any, tree: Any
) -> None:
    ia = kit.inspection(sites["a"], failed={"C01": "门磁损坏"}, actor=command_user)
    ib = kit.inspection(sites["b"], failed={"E01": "无消毒记录"}, actor=command_user)
    staff_a = kit.site_staff(sites["a"])
    community_b = make_user(Role.COMMUNITY_WORKER, tree.community_b)

    def seen(user: Any) -> set[int]:
        return set(selectors.inspections(user=user).values_list("pk", flat=True))

    def rect_seen(user: Any) -> set[int]:
        return set(selectors.rectifications(user=user).values_list("site_id", flat=True))

    assert seen(command_user) == {ia.pk, ib.pk}
    assert seen(town_a_user) == {ia.pk}
    assert seen(town_b_user) == {ib.pk}
    assert seen(staff_a) == {ia.pk}
    assert seen(community_b) == {ib.pk}
    assert rect_seen(staff_a) == {sites["a"].pk}
    assert rect_seen(town_b_user) == {sites["b"].pk}
    with pytest.raises(NotFound):
        selectors.inspection_get(user=staff_a, pk=ib.pk)
    with pytest.raises(NotFound):
        selectors.inspection_get(user=town_a_user, pk=ib.pk)
    rb = Rectification.objects.get(site=sites["b"])
    with pytest.raises(NotFound):
        selectors.rectification_get(user=staff_a, pk=rb.pk)
    lab = make_user(Role.LAB, tree.city)
    with pytest.raises(PermissionDenied):
        selectors.inspections(user=lab)


def test_checklist_edit(command_user: Any, town_a_user: Any) -> None:
    item = services.checklist_item_create(
        actor=command_user, code="g01", category="安全保障", text="消防通道畅通", order=500
    )
    assert item.code == "G01" and item.active
    with pytest.raises(Conflict) as exc:
        services.checklist_item_create(
            actor=command_user, code="G01", category="安全保障", text="重复", order=1
        )
    assert exc.value.code == "checklist_code_exists"
    with pytest.raises(InvalidInput) as bad:
        services.checklist_item_create(
            actor=command_user, code="消防", category="安全保障", text="x", order=1
        )
    assert bad.value.code == "checklist_code_invalid"
    services.checklist_item_update(
        actor=command_user, item=item, category="安全保障", text="消防通道畅通、灭火器有效", order=5
    )
    item.refresh_from_db()
    assert item.text.endswith("灭火器有效") and item.order == 5
    services.checklist_item_retire(actor=command_user, item=item)
    assert not ChecklistItem.objects.get(pk=item.pk).active
    with pytest.raises(PermissionDenied):
        services.checklist_item_update(
            actor=town_a_user, item=item, category="x", text="y", order=1
        )
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"checklist.create", "checklist.update", "checklist.retire"} <= actions


def test_reassign_clears_the_escalation_so_a_missed_new_deadline_escalates_again(
    sites: Any, command_user: Any, town_b_user: Any
) -> None:
    past = timezone.now() - dt.timedelta(days=3)
    kit.inspection(sites["a"], failed={"D01": "体温漏测"}, now=past, actor=command_user)
    assert services.rectifications_escalate() == 1
    rect = Rectification.objects.select_related("site").get()
    staff = kit.site_staff(sites["a"], display_name="王主任")
    new_deadline = timezone.now() + dt.timedelta(hours=12)
    services.rectification_reassign(
        actor=command_user,
        rectification=rect,
        owner_name="",
        owner=staff,
        deadline_at=new_deadline,
    )
    rect.refresh_from_db()
    assert (rect.owner_name, rect.owner, rect.deadline_at) == ("王主任", staff, new_deadline)
    assert rect.escalated_at is None
    assert services.rectifications_escalate() == 0
    assert services.rectifications_escalate(now=new_deadline + dt.timedelta(minutes=1)) == 1
    assert AuditEvent.objects.filter(action="rectification.escalate").count() == 2
    assert AuditEvent.objects.filter(action="rectification.reassign").count() == 1

    with pytest.raises(PermissionDenied):
        services.rectification_reassign(
            actor=staff, rectification=rect, owner_name="x", deadline_at=new_deadline
        )
    with pytest.raises(PermissionDenied):  # only command holds inspection.manage
        services.rectification_reassign(
            actor=town_b_user, rectification=rect, owner_name="x", deadline_at=new_deadline
        )
    with pytest.raises(InvalidInput) as exc:
        services.rectification_reassign(
            actor=command_user,
            rectification=rect,
            owner_name="x",
            deadline_at=timezone.now() - dt.timedelta(hours=1),
        )
    assert exc.value.code == "deadline_past"
    services.rectification_complete(actor=staff, rectification=rect, note="已补测")
    with pytest.raises(Conflict) as done:
        services.rectification_reassign(
            actor=command_user, rectification=rect, owner_name="x", deadline_at=new_deadline
        )
    assert done.value.code == "rectification_done"


def test_the_kit_reinstalls_the_shipped_checklist_after_a_flush() -> None:
    from importlib import import_module

    shipped = import_module("fangkong.quarantine.migrations.0002_inspections_checklist").CHECKLIST
    ChecklistItem.objects.all().delete()  # as a transactional test's flush leaves it
    kit.shipped_checklist_ensure()
    rows = list(ChecklistItem.objects.order_by("order").values_list("code", "category", "text"))
    assert rows == shipped
    kit.shipped_checklist_ensure()  # present: nothing added
    assert ChecklistItem.objects.count() == len(shipped)
