"""Pages of inspections, rectifications, the checklist and the staff roster: what each
role sees, what it may do, and refusals with codes that write nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fangkong.accounts.roles import Role
from fangkong.quarantine.choices import RectificationStatus
from fangkong.quarantine.models import ChecklistItem, Inspection, Rectification, StaffTest
from fangkong.testkit import quarantine_inspections as kit

pytestmark = pytest.mark.django_db


@pytest.fixture
def sites(tree: Any) -> Any:
    return {
        "a": kit.site(tree.community_a, "乌镇隔离点"),
        "b": kit.site(tree.community_b, "濮院隔离点"),
    }


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post_inspection(client: Client, site: Any, failed: dict[str, str], **extra: str) -> Any:
    data: dict[str, str] = {"inspected_on": timezone.localdate().isoformat(), **extra}
    for item in ChecklistItem.objects.filter(active=True):
        data[f"result_{item.pk}"] = "fail" if item.code in failed else "pass"
        data[f"note_{item.pk}"] = failed.get(item.code, "")
    return client.post(f"{reverse('quarantine:inspection_create')}?site={site.pk}", data)


def test_command_records_an_inspection(sites: Any, command_user: Any) -> None:
    client = _client(command_user)
    page = client.get(f"{reverse('quarantine:inspection_create')}?site={sites['a'].pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "三区两通道" in html and "闭环管理" in html
    response = _post_inspection(client, sites["a"], {"E02": "医废未双层封扎"}, owner_name="李站长")
    assert response.status_code == 302
    inspection = Inspection.objects.get()
    detail = client.get(response["Location"]).content.decode()
    assert "医废未双层封扎" in detail and "李站长" in detail
    assert Rectification.objects.get().finding.inspection == inspection


def test_unanswered_item_is_refused_and_nothing_written(sites: Any, command_user: Any) -> None:
    client = _client(command_user)
    data = {"inspected_on": timezone.localdate().isoformat(), "owner_name": "李站长"}
    response = client.post(f"{reverse('quarantine:inspection_create')}?site={sites['a'].pk}", data)
    assert response.status_code == 400
    assert 'data-code="item_unanswered"' in response.content.decode()
    response = _post_inspection(client, sites["a"], {"B01": ""}, owner_name="李站长")
    assert response.status_code == 400
    assert 'data-code="note_required"' in response.content.decode()
    response = _post_inspection(client, sites["a"], {}, inspected_on="2022-13-01")
    assert response.status_code == 400
    assert 'data-code="inspected_on_invalid"' in response.content.decode()
    assert Inspection.objects.count() == 0


def test_inspect_refused_to_town_and_other_town(
    sites: Any, town_a_user: Any, make_user: Any, tree: Any
) -> None:
    assert _client(town_a_user).get(reverse("quarantine:inspection_create")).status_code == 403
    staff = kit.site_staff(sites["a"])
    assert _client(staff).get(reverse("quarantine:inspection_create")).status_code == 403


def test_lists_are_scoped(
    sites: Any, command_user: Any, town_a_user: Any, town_b_user: Any, make_user: Any, tree: Any
) -> None:
    ia = kit.inspection(sites["a"], failed={"C01": "门磁损坏A"}, actor=command_user)
    ib = kit.inspection(sites["b"], failed={"C01": "门磁损坏B"}, actor=command_user)
    staff_a = kit.site_staff(sites["a"])
    for user, sees, hidden in (
        (town_a_user, "门磁损坏A", "门磁损坏B"),
        (town_b_user, "门磁损坏B", "门磁损坏A"),
        (staff_a, "门磁损坏A", "门磁损坏B"),
    ):
        client = _client(user)
        html = client.get(reverse("quarantine:rectification_list")).content.decode()
        assert sees in html and hidden not in html
        listing = client.get(reverse("quarantine:inspection_list")).content.decode()
        own, other = (ia, ib) if sees.endswith("A") else (ib, ia)
        assert reverse("quarantine:inspection_detail", args=[own.pk]) in listing
        assert reverse("quarantine:inspection_detail", args=[other.pk]) not in listing
        detail = client.get(reverse("quarantine:inspection_detail", args=[other.pk]))
        assert detail.status_code == 404
    # A site filter naming another site shows nothing of it.
    html = (
        _client(staff_a)
        .get(f"{reverse('quarantine:rectification_list')}?site={sites['b'].pk}")
        .content.decode()
    )
    assert "门磁损坏B" not in html
    lab = make_user(Role.LAB, tree.city)
    assert _client(lab).get(reverse("quarantine:inspection_list")).status_code == 403


def test_site_staff_complete_own_rectification_only(sites: Any, command_user: Any) -> None:
    kit.inspection(sites["a"], failed={"C01": "门磁损坏"}, actor=command_user)
    kit.inspection(sites["b"], failed={"C01": "门磁损坏"}, actor=command_user)
    ra = Rectification.objects.get(site=sites["a"])
    rb = Rectification.objects.get(site=sites["b"])
    client = _client(kit.site_staff(sites["a"]))
    url = reverse("quarantine:rectification_complete", args=[rb.pk])
    assert client.post(url, {"note": "x"}).status_code == 404
    response = client.post(reverse("quarantine:rectification_complete", args=[ra.pk]), {"note": ""})
    assert response.status_code == 302
    assert Rectification.objects.get(pk=ra.pk).status == RectificationStatus.OPEN
    client.post(reverse("quarantine:rectification_complete", args=[ra.pk]), {"note": "已更换"})
    assert Rectification.objects.get(pk=ra.pk).status == RectificationStatus.DONE
    assert Rectification.objects.get(pk=rb.pk).status == RectificationStatus.OPEN


def test_overdue_first(sites: Any, command_user: Any) -> None:
    now = timezone.now()
    kit.inspection(
        sites["a"],
        failed={"A01": "近居民区"},
        actor=command_user,
        deadline_at=now + dt.timedelta(days=2),
    )
    kit.inspection(
        sites["a"], failed={"B02": "无无障碍间"}, now=now - dt.timedelta(days=3), actor=command_user
    )
    html = _client(command_user).get(reverse("quarantine:rectification_list")).content.decode()
    assert html.index("无无障碍间") < html.index("近居民区")


def test_checklist_page(command_user: Any, town_a_user: Any) -> None:
    client = _client(command_user)
    assert "单人单间" in client.get(reverse("quarantine:checklist")).content.decode()
    response = client.post(
        reverse("quarantine:checklist"),
        {"code": "G01", "category": "安全保障", "text": "消防通道畅通", "order": "900"},
    )
    assert response.status_code == 302
    item = ChecklistItem.objects.get(code="G01")
    response = client.post(
        reverse("quarantine:checklist"),
        {"code": "G01", "category": "安全保障", "text": "重复", "order": "1"},
    )
    assert (
        response.status_code == 400
        and 'data-code="checklist_code_exists"' in response.content.decode()
    )
    client.post(
        reverse("quarantine:checklist_edit", args=[item.pk]),
        {"category": "安全保障", "text": "消防通道畅通，灭火器在有效期内", "order": "901"},
    )
    assert ChecklistItem.objects.get(pk=item.pk).order == 901
    client.post(reverse("quarantine:checklist_retire", args=[item.pk]))
    assert not ChecklistItem.objects.get(pk=item.pk).active
    town = _client(town_a_user)
    assert town.get(reverse("quarantine:checklist")).status_code == 200
    assert town.post(reverse("quarantine:checklist_retire", args=[item.pk])).status_code == 403
    assert town.get(reverse("quarantine:checklist_edit", args=[item.pk])).status_code == 403


def test_staff_roster_page(sites: Any, command_user: Any, town_b_user: Any) -> None:
    today = timezone.localdate()
    client = _client(command_user)
    response = client.post(
        reverse("quarantine:staff_shift_create"),
        {
            "site": sites["a"].pk,
            "name": "王医生",
            "post": "doctor",
            "starts_on": (today - dt.timedelta(days=4)).isoformat(),
            "ends_on": (today + dt.timedelta(days=10)).isoformat(),
        },
    )
    assert response.status_code == 302
    staff = kit.site_staff(sites["a"])
    html = _client(staff).get(reverse("quarantine:staff_roster")).content.decode()
    assert "王医生" in html and 'data-flagged="1"' in html and "核酸逾期" in html
    shift = sites["a"].shifts.get()
    _client(staff).post(
        reverse("quarantine:staff_test_record", args=[shift.pk]),
        {"tested_on": today.isoformat(), "result": "negative"},
    )
    assert StaffTest.objects.filter(shift=shift).count() == 1
    html = _client(staff).get(reverse("quarantine:staff_roster")).content.decode()
    assert 'data-flagged="0"' in html
    # Another town's staff see nothing of it and may record nothing.
    other = _client(town_b_user)
    assert "王医生" not in other.get(reverse("quarantine:staff_roster")).content.decode()
    url = reverse("quarantine:staff_test_record", args=[shift.pk])
    assert (
        other.post(url, {"tested_on": today.isoformat(), "result": "negative"}).status_code == 404
    )
    other_site = _client(kit.site_staff(sites["b"]))
    assert (
        other_site.post(url, {"tested_on": today.isoformat(), "result": "negative"}).status_code
        == 404
    )


def test_pages_query_bounded(sites: Any, command_user: Any) -> None:
    for n in range(5):
        kit.inspection(sites["a"], failed={"C01": f"门磁{n}", "E01": "无记录"}, actor=command_user)
        kit.shift(sites["a"], actor=command_user)
    client = _client(command_user)
    for name in ("inspection_list", "rectification_list", "staff_roster", "checklist"):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse(f"quarantine:{name}")).status_code == 200
        assert len(ctx.captured_queries) <= 30, name


def test_command_reassigns_from_the_list(sites: Any, command_user: Any) -> None:
    kit.inspection(sites["a"], failed={"C04": "餐食当面递送"}, actor=command_user)
    rect = Rectification.objects.get()
    client = _client(command_user)
    html = client.get(reverse("quarantine:rectification_list")).content.decode()
    assert 'data-testid="rectification-reassign-form"' in html
    later = timezone.localtime() + dt.timedelta(days=2)
    response = client.post(
        reverse("quarantine:rectification_reassign", args=[rect.pk]),
        {"owner_name": "赵站长", "deadline_at": later.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 302
    rect.refresh_from_db()
    assert rect.owner_name == "赵站长"
    assert timezone.localtime(rect.deadline_at).strftime("%Y-%m-%dT%H:%M") == later.strftime(
        "%Y-%m-%dT%H:%M"
    )
    staff = _client(kit.site_staff(sites["a"]))
    assert (
        "rectification-reassign-form"
        not in staff.get(reverse("quarantine:rectification_list")).content.decode()
    )
    refused = staff.post(
        reverse("quarantine:rectification_reassign", args=[rect.pk]),
        {"owner_name": "x", "deadline_at": later.strftime("%Y-%m-%dT%H:%M")},
    )
    assert refused.status_code == 403
