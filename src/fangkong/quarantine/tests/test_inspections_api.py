"""API of inspections, rectifications, the checklist and the staff roster: paginated,
scoped, refusals with codes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.quarantine.models import ChecklistItem, Inspection, Rectification
from fangkong.quarantine.services import inspections as services
from fangkong.testkit import quarantine_inspections as kit

pytestmark = pytest.mark.django_db


@pytest.fixture
def sites(tree: Any) -> Any:
    return {"a": kit.site(tree.community_a), "b": kit.site(tree.community_b)}


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _answers(failed: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {"item_id": i.pk, "passed": i.code not in failed, "note": failed.get(i.code, "")}
        for i in ChecklistItem.objects.filter(active=True)
    ]


def test_inspection_to_rectification_through_the_api(sites: Any, command_user: Any) -> None:
    client = _client(command_user)
    staff = kit.site_staff(sites["a"], display_name="张护士长")
    body = {
        "site_id": sites["a"].pk,
        "inspected_on": timezone.localdate().isoformat(),
        "answers": _answers({"D01": "下午体温漏测"}),
        "owner_id": staff.pk,
    }
    response = client.post("/api/quarantine/inspections", body, content_type="application/json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["failed"] == 1
    failed = [f for f in data["findings"] if not f["passed"]]
    assert failed[0]["code"] == "D01" and failed[0]["rectification_id"]
    rect_id = failed[0]["rectification_id"]
    listing = client.get("/api/quarantine/rectifications?size=1").json()
    assert listing["items"][0]["owner_name"] == "张护士长"
    done = _client(staff).post(
        f"/api/quarantine/rectifications/{rect_id}/complete",
        {"note": "已补测并加设提醒"},
        content_type="application/json",
    )
    assert done.status_code == 200 and done.json()["status"] == "done"
    again = _client(staff).post(
        f"/api/quarantine/rectifications/{rect_id}/complete",
        {"note": "x"},
        content_type="application/json",
    )
    assert again.status_code == 409 and again.json()["code"] == "rectification_done"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ("missing", 400, "item_unanswered"),
        ("no_note", 400, "note_required"),
        ("repeated", 400, "item_repeated"),
        ("stranger", 400, "owner_not_site_staff"),
        ("other_town_site", 404, "not_found"),
    ],
)
def test_bad_inspections(
    sites: Any, town_a_user: Any, command_user: Any, change: str, status: int, code: str
) -> None:
    answers = _answers({"B01": "无独立卫生间"})
    body: dict[str, Any] = {
        "site_id": sites["a"].pk,
        "inspected_on": timezone.localdate().isoformat(),
        "owner_name": "李站长",
        "answers": answers,
    }
    client = _client(command_user)
    if change == "missing":
        body["answers"] = answers[1:]
    elif change == "no_note":
        body["answers"] = _answers({"B01": ""})
    elif change == "repeated":
        body["answers"] = [*answers, answers[0]]
    elif change == "stranger":
        body["owner_id"] = kit.site_staff(sites["b"]).pk
    elif change == "other_town_site":
        client = _client(town_a_user)
        body["site_id"] = sites["b"].pk
    response = client.post("/api/quarantine/inspections", body, content_type="application/json")
    assert response.status_code == status
    assert response.json()["code"] == code
    assert Inspection.objects.count() == 0 and Rectification.objects.count() == 0


def test_lists_are_paginated_and_scoped(
    sites: Any, command_user: Any, town_a_user: Any, town_b_user: Any
) -> None:
    for n in range(3):
        kit.inspection(sites["a"], failed={"C01": f"a{n}"}, actor=command_user)
    kit.inspection(sites["b"], failed={"C01": "b"}, actor=command_user)
    kit.shift(sites["a"], actor=command_user)
    kit.shift(sites["b"], actor=command_user)
    client = _client(command_user)
    first = client.get("/api/quarantine/inspections?size=2").json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = client.get(f"/api/quarantine/inspections?size=2&cursor={first['next_cursor']}").json()
    assert len(second["items"]) == 2 and second["next_cursor"] is None
    for user, site in ((town_a_user, sites["a"]), (town_b_user, sites["b"])):
        c = _client(user)
        assert {i["site_id"] for i in c.get("/api/quarantine/inspections").json()["items"]} == {
            site.pk
        }
        assert {i["site_id"] for i in c.get("/api/quarantine/rectifications").json()["items"]} == {
            site.pk
        }
        assert {i["site_id"] for i in c.get("/api/quarantine/staff").json()["items"]} == {site.pk}
    staff_b = _client(kit.site_staff(sites["b"]))
    items = staff_b.get("/api/quarantine/rectifications").json()["items"]
    assert {i["site_id"] for i in items} == {sites["b"].pk}
    other = Rectification.objects.filter(site=sites["a"]).first()
    assert other is not None
    assert staff_b.get(f"/api/quarantine/rectifications/{other.pk}").status_code == 404
    inspection_a = Inspection.objects.filter(site=sites["a"]).first()
    assert inspection_a is not None
    assert staff_b.get(f"/api/quarantine/inspections/{inspection_a.pk}").status_code == 404


def test_checklist_api(command_user: Any, town_a_user: Any) -> None:
    client = _client(command_user)
    page = client.get("/api/quarantine/checklist?size=200").json()
    assert any(i["code"] == "A02" for i in page["items"])
    created = client.post(
        "/api/quarantine/checklist",
        {"code": "G01", "category": "安全保障", "text": "消防通道畅通", "order": 900},
        content_type="application/json",
    )
    assert created.status_code == 201
    item_id = created.json()["id"]
    retired = client.post(
        f"/api/quarantine/checklist/{item_id}/active",
        {"active": False},
        content_type="application/json",
    )
    assert retired.json()["active"] is False
    refused = _client(town_a_user).post(
        "/api/quarantine/checklist",
        {"code": "G02", "category": "安全保障", "text": "x", "order": 1},
        content_type="application/json",
    )
    assert refused.status_code == 403


def test_staff_api(sites: Any, command_user: Any, town_a_user: Any) -> None:
    today = timezone.localdate()
    client = _client(command_user)
    created = client.post(
        "/api/quarantine/staff",
        {
            "site_id": sites["a"].pk,
            "name": "王医生",
            "post": "doctor",
            "starts_on": (today - dt.timedelta(days=3)).isoformat(),
            "ends_on": (today + dt.timedelta(days=10)).isoformat(),
        },
        content_type="application/json",
    )
    assert created.status_code == 201
    shift = created.json()
    assert shift["flags"] == ["test_overdue"]
    staff = _client(kit.site_staff(sites["a"]))
    tested = staff.post(
        f"/api/quarantine/staff/{shift['id']}/tests",
        {"tested_on": today.isoformat(), "result": "negative"},
        content_type="application/json",
    )
    assert tested.status_code == 200 and tested.json()["flags"] == []
    bad = staff.post(
        f"/api/quarantine/staff/{shift['id']}/tests",
        {"tested_on": (today + dt.timedelta(days=2)).isoformat(), "result": "negative"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["code"] == "tested_on_future"
    refused = _client(town_a_user).post(
        "/api/quarantine/staff",
        {
            "site_id": sites["a"].pk,
            "name": "x",
            "post": "doctor",
            "starts_on": today.isoformat(),
            "ends_on": today.isoformat(),
        },
        content_type="application/json",
    )
    assert refused.status_code == 403


def test_reassign_api(sites: Any, command_user: Any) -> None:
    kit.inspection(sites["a"], failed={"C04": "餐食当面递送"}, actor=command_user)
    rect = Rectification.objects.get()
    staff = kit.site_staff(sites["a"], display_name="王主任")
    client = _client(command_user)
    later = (timezone.now() + dt.timedelta(days=1)).isoformat()
    response = client.post(
        f"/api/quarantine/rectifications/{rect.pk}/reassign",
        {"owner_id": staff.pk, "deadline_at": later},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["owner_name"] == "王主任"
    stranger = kit.site_staff(sites["b"])
    refused = client.post(
        f"/api/quarantine/rectifications/{rect.pk}/reassign",
        {"owner_id": stranger.pk, "deadline_at": later},
        content_type="application/json",
    )
    assert refused.status_code == 400 and refused.json()["code"] == "owner_not_site_staff"


def test_rectifications_walk_page_by_page_overdue_first(sites: Any, command_user: Any) -> None:
    past = timezone.now() - dt.timedelta(days=3)
    kit.inspection(sites["a"], failed={"A01": "x", "B01": "y"}, actor=command_user)
    kit.inspection(sites["b"], failed={"C01": "z", "D01": "w"}, now=past, actor=command_user)
    done = Rectification.objects.filter(site=sites["a"]).order_by("pk").first()
    assert done is not None
    staff = kit.site_staff(sites["a"])
    services.rectification_complete(actor=staff, rectification=done, note="已整改")
    client = _client(command_user)
    seen: list[dict[str, Any]] = []
    cursor = None
    for _ in range(10):
        url = "/api/quarantine/rectifications?size=1" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 4 and len({r["id"] for r in seen}) == 4
    assert [r["overdue"] for r in seen] == [True, True, False, False]
    assert [r["status"] for r in seen][-1] == "done"
    overdue = client.get("/api/quarantine/rectifications?overdue=true").json()["items"]
    assert {r["site_id"] for r in overdue} == {sites["b"].pk}
