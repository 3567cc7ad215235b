"""API of tasks: dispatch, list (paged), summary, a part's actions, and the refusals."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client
from django.utils import timezone

from fangkong.accounts.roles import Role
from fangkong.command.models import Assignment, Task
from fangkong.testkit import command as kit


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _payload(tree: Any, **extra: Any) -> dict[str, Any]:
    data = {
        "title": "加强卡口查验",
        "body": "高速卡口落地查验。",
        "priority": "urgent",
        "deadline": (timezone.now() + dt.timedelta(hours=8)).isoformat(),
        "department_ids": [kit.department("transport").pk],
        "town_paths": [tree.town_a.path, tree.town_b.path],
    }
    data.update(extra)
    return data


def test_dispatch_list_reply_through_the_api(
    tree: Any, command_user: Any, town_a_user: Any, town_b_user: Any
) -> None:
    command = _client(command_user)
    response = command.post("/api/command/tasks", _payload(tree), content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("RW-") and len(body["parts"]) == 3

    town = _client(town_a_user)
    listed = town.get("/api/command/tasks").json()
    assert [t["number"] for t in listed["items"]] == [body["number"]]
    detail = town.get(f"/api/command/tasks/{body['id']}").json()
    assert [p["assignee"] for p in detail["parts"]] == ["乌镇镇"]
    part_id = detail["parts"][0]["id"]
    assert town.post(f"/api/command/tasks/parts/{part_id}/accept").json()["status"] == "accepted"
    split = town.post(
        f"/api/command/tasks/parts/{part_id}/split",
        {"community_paths": [tree.community_a.path]},
        content_type="application/json",
    )
    assert split.status_code == 201 and split.json()["parts"][0]["assignee"] == "虹桥村"
    # the other town may not split into town A's community
    other = _client(town_b_user)
    other_part = other.get(f"/api/command/tasks/{body['id']}").json()["parts"][0]["id"]
    other.post(f"/api/command/tasks/parts/{other_part}/accept")
    refused = other.post(
        f"/api/command/tasks/parts/{other_part}/split",
        {"community_paths": [tree.community_a.path]},
        content_type="application/json",
    )
    assert refused.status_code == 400 and refused.json()["code"] == "community_unknown"
    reply = other.post(
        f"/api/command/tasks/parts/{other_part}/reply",
        {"text": "已落实"},
        content_type="application/json",
    )
    assert reply.json()["status"] == "replied"
    summary = command.get("/api/command/tasks/summary").json()
    # transport and the community split off have not accepted yet
    assert summary == {"open": 1, "dispatched": 2, "replied": 1, "overdue": 0}
    assert other.get(f"/api/command/tasks/parts/{part_id}/accept").status_code == 405


def test_api_refusals(
    tree: Any, command_user: Any, town_a_user: Any, town_b_user: Any, make_user: Any
) -> None:
    task = kit.task(actor=command_user, town_paths=[tree.town_a.path])
    part = Assignment.objects.get(task=task)
    assert _client(town_b_user).get(f"/api/command/tasks/{task.pk}").status_code == 404
    assert (
        _client(town_b_user).post(f"/api/command/tasks/parts/{part.pk}/accept").status_code == 404
    )
    hotline = _client(make_user(Role.HOTLINE, tree.city))
    assert hotline.get("/api/command/tasks").status_code == 403
    assert hotline.get("/api/command/departments").status_code == 403
    town = _client(town_a_user)
    denied = town.post("/api/command/tasks", _payload(tree), content_type="application/json")
    assert denied.status_code == 403
    # replying before accepting is a conflict; an empty reply is bad input
    conflict = town.post(
        f"/api/command/tasks/parts/{part.pk}/reply", {"text": "好"}, content_type="application/json"
    )
    assert conflict.status_code == 409 and conflict.json()["code"] == "assignment_not_accepted"
    town.post(f"/api/command/tasks/parts/{part.pk}/accept")
    empty = town.post(
        f"/api/command/tasks/parts/{part.pk}/reply", {"text": " "}, content_type="application/json"
    )
    assert empty.status_code == 400 and empty.json()["code"] == "reply_required"
    # command's bad input writes nothing
    before = Task.objects.count()
    naive = _client(command_user).post(
        "/api/command/tasks",
        _payload(tree, deadline="2030-01-01T10:00:00", town_paths=["330483102", "330483102"]),
        content_type="application/json",
    )
    assert naive.status_code == 400 and naive.json()["code"] == "deadline_invalid"
    assert Task.objects.count() == before


def test_department_list_pages(tree: Any, command_user: Any) -> None:
    kit.departments_ensure()
    client = _client(command_user)
    first = client.get("/api/command/departments", {"size": 5}).json()
    assert len(first["items"]) == 5 and first["next_cursor"]
    rest = client.get(
        "/api/command/departments", {"size": 5, "cursor": first["next_cursor"]}
    ).json()
    assert first["items"][0]["name"] == "卫健局" and len(rest["items"]) == 3
