"""Pages of the towns' daily reports: the towns side by side (command), the town's
form (phone), read, and the scope of each."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from fangkong.accounts.roles import Role
from fangkong.command.models import TownReport
from fangkong.testkit.clock import at
from fangkong.testkit.command_town_reports import town_report

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


FORM = {
    "progress": "今日完成重点人群核酸 1.2 万人。",
    "problems": "隔离点床位紧张\n\n  转运车辆不足  \n",
    "need_kind_1": "supplies",
    "need_item_1": "抗原试剂",
    "need_quantity_1": "3000",
    "need_unit_1": "份",
    "need_kind_2": "staff",
    "need_item_2": "",
}


def test_a_town_submits_on_its_form_and_edits_until_read(
    tree: Any, town_a_user: Any, command_user: Any, clock: Any, ruleset: Any
) -> None:
    client = _client(town_a_user)
    page = client.get("/command/town-reports/submit/")
    assert page.status_code == 200 and "乌镇镇" in page.content.decode()
    assert "18:00" in page.content.decode()
    response = client.post("/command/town-reports/submit/", FORM)
    assert response.status_code == 302
    report = TownReport.objects.get()
    assert [p.text for p in report.problems.all()] == ["隔离点床位紧张", "转运车辆不足"]
    assert [(n.kind, n.item, n.quantity, n.unit) for n in report.needs.all()] == [
        ("supplies", "抗原试剂", 3000, "份")
    ]
    again = client.get("/command/town-reports/submit/").content.decode()
    assert "隔离点床位紧张" in again and "保存修改" in again
    _client(command_user).post(f"/command/town-reports/{report.pk}/read/")
    locked = client.get("/command/town-reports/submit/").content.decode()
    assert 'data-testid="town-report-locked"' in locked
    refused = client.post("/command/town-reports/submit/", {**FORM, "progress": "改"})
    assert refused.status_code == 409
    report.refresh_from_db()
    assert report.progress == FORM["progress"]


def test_bad_input_on_the_form_is_a_400_that_keeps_what_was_typed(
    tree: Any, town_a_user: Any, clock: Any, ruleset: Any
) -> None:
    client = _client(town_a_user)
    response = client.post(
        "/command/town-reports/submit/", {**FORM, "progress": "", "need_quantity_1": "很多"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "请填写工作进展" in body and "隔离点床位紧张" in body
    assert not TownReport.objects.exists()


def test_command_sees_the_towns_side_by_side(
    tree: Any, town_a_user: Any, command_user: Any, clock: Any, ruleset: Any
) -> None:
    town_report(town_a_user, now=at(5, 17))
    clock.now = at(5, 18, 30)
    page = _client(command_user).get("/command/town-reports/?day=2022-07-05")
    assert page.status_code == 200
    body = page.content.decode()
    assert body.count('data-testid="town-report"') == 2
    assert f'data-town="{tree.town_a.path}" data-state="submitted"' in body
    assert f'data-town="{tree.town_b.path}" data-state="missing"' in body
    assert "逾期未报" in body and "隔离酒店房间紧张" in body and "N95 口罩" in body
    assert 'data-testid="town-report-read"' in body


def test_a_town_sees_only_its_own_card_and_cannot_use_command_actions(
    tree: Any, town_a_user: Any, town_b_user: Any, command_user: Any, clock: Any, ruleset: Any
) -> None:
    other = town_report(town_b_user, now=at(5, 17))
    client = _client(town_a_user)
    body = client.get("/command/town-reports/").content.decode()
    assert body.count('data-testid="town-report"') == 1
    assert "濮院镇" not in body and 'data-testid="town-report-fill"' in body
    assert client.post(f"/command/town-reports/{other.pk}/read/").status_code == 403
    assert _client(command_user).get("/command/town-reports/submit/").status_code == 403
    worker = _client(_worker(tree))
    assert worker.get("/command/town-reports/").status_code == 403
    assert worker.get("/command/town-reports/submit/").status_code == 403


def _worker(tree: Any) -> Any:
    from fangkong.accounts.models import User

    return User.objects.create_user(
        username="worker-x",
        password="pw-Fangkong-2022",
        role=Role.COMMUNITY_WORKER,
        jurisdiction=tree.community_a,
        scope_path=tree.community_a.path,
    )
