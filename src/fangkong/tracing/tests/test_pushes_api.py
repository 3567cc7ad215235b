"""The pushes API through the real HTTP stack: scoped lists, marks, Excel, assist requests."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from fangkong.accounts.models import AuditEvent
from fangkong.testkit.worlds.pushes import World, build_world, workbook_bytes
from fangkong.tracing import excel
from fangkong.tracing.models import AssistRequest, ContactStatus, PushItem, PushItemStatus

pytestmark = pytest.mark.django_db

XLSX = excel.XLSX_CONTENT_TYPE


@pytest.fixture
def world(tree: Any, make_user: Any) -> World:
    return build_world(tree, make_user)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def pushed(world: World) -> dict[str, Any]:
    """Push the world's case through the API; town path → push id."""
    response = _client(world.investigator).post(f"/api/tracing/cases/{world.case.pk}/push")
    assert response.status_code == 201, response.content
    return {p["jurisdiction_path"]: p["id"] for p in response.json()}


def _item(world: World, key: str) -> PushItem:
    return PushItem.objects.get(contact=world.contacts[key])


def test_push_creates_lists_per_town_and_a_second_call_creates_none(world: World) -> None:
    client = _client(world.investigator)

    first = client.post(f"/api/tracing/cases/{world.case.pk}/push")
    second = client.post(f"/api/tracing/cases/{world.case.pk}/push")

    assert first.status_code == 201
    body = first.json()
    assert {p["town_name"] for p in body} == {"乌镇镇", "濮院镇"}
    assert {p["counts"]["total"] for p in body} == {3, 2}
    assert all(p["case_number"] == world.case.number for p in body)
    assert second.status_code == 201 and second.json() == []


def test_towns_and_labs_cannot_push(world: World) -> None:
    for user in (world.town_a, world.lab):
        response = _client(user).post(f"/api/tracing/cases/{world.case.pk}/push")
        assert response.status_code == 403
    assert not PushItem.objects.exists()


def test_list_is_scoped_to_the_town(world: World, pushed: dict[str, int]) -> None:
    a, b = pushed[world.tree.town_a.path], pushed[world.tree.town_b.path]

    mine = _client(world.town_a).get("/api/tracing/pushes").json()
    theirs = _client(world.town_b).get("/api/tracing/pushes").json()
    everyone = _client(world.investigator).get("/api/tracing/pushes").json()

    assert [p["id"] for p in mine["items"]] == [a]
    assert [p["id"] for p in theirs["items"]] == [b]
    assert {p["id"] for p in everyone["items"]} == {a, b}
    assert mine["items"][0]["counts"]["pending"] == 3
    assert _client(world.lab).get("/api/tracing/pushes").status_code == 403
    only_b = _client(world.command).get(f"/api/tracing/pushes?town={world.tree.town_b.path}")
    assert [p["id"] for p in only_b.json()["items"]] == [b]


def test_detail_has_masked_items_and_is_404_outside_the_town(
    world: World, pushed: dict[str, int]
) -> None:
    a = pushed[world.tree.town_a.path]

    response = _client(world.town_a).get(f"/api/tracing/pushes/{a}")
    outside = _client(world.town_b).get(f"/api/tracing/pushes/{a}")

    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == 3
    assert {i["name_masked"] for i in items} == {"张*三", "李*", "王*"}
    raw = response.content.decode()
    for key in ("a1", "a2", "a3"):
        assert world.ids[key] not in raw and world.phones[key] not in raw
    assert outside.status_code == 404
    assert outside.json()["code"] == "not_found"


def test_mark_moves_the_contact_and_is_refused_to_other_towns(
    world: World, pushed: dict[str, int]
) -> None:
    item = _item(world, "a1")
    url = f"/api/tracing/push-items/{item.pk}/mark"

    stolen = _client(world.town_b).post(url, {"status": "home"}, content_type="application/json")
    lab = _client(world.lab).post(url, {"status": "home"}, content_type="application/json")
    bad = _client(world.town_a).post(url, {"status": "gone"}, content_type="application/json")
    done = _client(world.town_a).post(
        url, {"status": "centralised", "note": "隔离点 A"}, content_type="application/json"
    )

    assert stolen.status_code == 404 and lab.status_code == 403 and bad.status_code == 422
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["status"] == "centralised" and body["contact_status"] == "controlled"
    assert body["note"] == "隔离点 A" and body["late"] is False
    world.contacts["a1"].refresh_from_db()
    assert world.contacts["a1"].status == ContactStatus.CONTROLLED


def test_outside_mark_yields_an_assist_request_readable_in_scope_only(
    world: World, pushed: dict[str, int]
) -> None:
    item = _item(world, "b1")
    missing = _client(world.town_b).post(
        f"/api/tracing/push-items/{item.pk}/mark",
        {"status": "outside"},
        content_type="application/json",
    )
    assert missing.status_code == 400
    assert missing.json()["code"] == "target_region_required"

    _client(world.town_b).post(
        f"/api/tracing/push-items/{item.pk}/mark",
        {"status": "outside", "note": "嘉兴市南湖区"},
        content_type="application/json",
    )
    assist = AssistRequest.objects.get()

    response = _client(world.town_b).get(f"/api/tracing/assist-requests/{assist.pk}")
    assert response.status_code == 200
    assert response.json()["target_region"] == "嘉兴市南湖区"
    assert response.json()["name_masked"] == "孙*"
    assert world.ids["b1"] not in response.content.decode()
    assert _client(world.town_a).get(f"/api/tracing/assist-requests/{assist.pk}").status_code == 404


def test_export_is_masked_unless_revealed_and_always_audited(
    world: World, pushed: dict[str, int]
) -> None:
    a = pushed[world.tree.town_a.path]
    client = _client(world.town_a)

    masked = client.get(f"/api/tracing/pushes/{a}/export.xlsx")
    revealed = client.post(
        f"/api/tracing/pushes/{a}/export.xlsx", {"reveal": True}, content_type="application/json"
    )
    outside = _client(world.town_b).get(f"/api/tracing/pushes/{a}/export.xlsx")

    assert masked.status_code == 200 and masked["Content-Type"] == XLSX
    assert "attachment" in masked["Content-Disposition"]
    masked_text = str(
        [c.value for r in load_workbook(io.BytesIO(masked.content)).active for c in r]
    )
    revealed_text = str(
        [c.value for r in load_workbook(io.BytesIO(revealed.content)).active for c in r]
    )
    assert world.ids["a1"] not in masked_text and world.ids["a1"] in revealed_text
    assert outside.status_code == 404
    flags = list(
        AuditEvent.objects.filter(action="push.export")
        .order_by("pk")
        .values_list("detail", flat=True)
    )
    assert flags == [{"reveal": False, "rows": 3}, {"reveal": True, "rows": 3}]


def test_import_applies_feedback_or_reports_bad_rows(world: World, pushed: dict[str, int]) -> None:
    a = pushed[world.tree.town_a.path]
    client = _client(world.town_a)
    exported = client.get(f"/api/tracing/pushes/{a}/export.xlsx").content
    wb = load_workbook(io.BytesIO(exported))
    ws = wb.active
    status_col = excel.COLUMNS.index(excel.COL_STATUS) + 1
    first = excel.FIRST_DATA_ROW
    ws.cell(row=first, column=status_col).value = "已居家隔离"
    ws.cell(row=first + 1, column=status_col).value = "不知道"
    bad = workbook_bytes(wb)
    ws.cell(row=first + 1, column=status_col).value = "未找到"
    good = workbook_bytes(wb)

    refused = client.post(
        f"/api/tracing/pushes/{a}/import", {"file": SimpleUploadedFile("f.xlsx", bad, XLSX)}
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "import_rows_invalid"
    assert [e["row"] for e in refused.json()["detail"]["errors"]] == [first + 1]
    assert not PushItem.objects.exclude(status=PushItemStatus.PENDING).exists()

    applied = client.post(
        f"/api/tracing/pushes/{a}/import", {"file": SimpleUploadedFile("f.xlsx", good, XLSX)}
    )
    assert applied.status_code == 200, applied.content
    assert applied.json() == {
        "rows": 3,
        "changed": 2,
        "unchanged": 1,
        "errors": [],
        "stale": [],
    }

    other_town = _client(world.town_b).post(
        f"/api/tracing/pushes/{a}/import", {"file": SimpleUploadedFile("f.xlsx", good, XLSX)}
    )
    assert other_town.status_code == 404


def test_the_pushes_endpoints_are_in_the_openapi_schema(world: World) -> None:
    schema = _client(world.command).get("/api/openapi.json").json()
    paths = set(schema["paths"])

    assert {
        "/api/tracing/pushes",
        "/api/tracing/pushes/{push_id}",
        "/api/tracing/cases/{case_id}/push",
        "/api/tracing/push-items/{item_id}/mark",
        "/api/tracing/pushes/{push_id}/export.xlsx",
        "/api/tracing/pushes/{push_id}/import",
        "/api/tracing/assist-requests/{assist_id}",
    } <= paths
