"""API of the towns' daily reports: paged rows a town, the summary, one report, the
town's PUT, command's read; scoping (another town 404, wrong role 403), bad input 4xx."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from fangkong.accounts.roles import Role
from fangkong.command.models import TownReport
from fangkong.testkit.clock import at
from fangkong.testkit.command_town_reports import town_report

pytestmark = pytest.mark.django_db
DAY = "2022-07-05"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


BODY = {
    "progress": "完成第三轮全员核酸，应检尽检。",
    "problems": ["封控区生活物资配送力量不足", "部分老人采样需上门"],
    "needs": [{"kind": "supplies", "item": "防护服", "quantity": 500, "unit": "套"}],
}


def test_a_town_puts_its_report_and_command_reads_it(
    tree: Any, town_a_user: Any, command_user: Any, clock: Any, ruleset: Any
) -> None:
    url = f"/api/command/town-reports/{tree.town_a.path}/days/{DAY}"
    response = _client(town_a_user).put(url, BODY, content_type="application/json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["state"] == "submitted" and data["editable"] is True
    assert [p["text"] for p in data["problems"]] == BODY["problems"]
    assert data["needs"][0] == {
        "position": 1,
        "kind": "supplies",
        "item": "防护服",
        "quantity": 500,
        "unit": "套",
    }
    command = _client(command_user)
    assert command.get(url).json()["id"] == data["id"]
    read = command.post(f"/api/command/town-reports/{data['id']}/read")
    assert read.status_code == 200 and read.json()["editable"] is False
    again = _client(town_a_user).put(url, BODY, content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "town_report_read"


def test_the_list_is_paged_by_town_and_the_summary_counts(
    tree: Any, town_a_user: Any, command_user: Any, clock: Any, ruleset: Any
) -> None:
    town_report(town_a_user, now=at(5, 19))
    clock.now = at(5, 19, 30)
    client = _client(command_user)
    first = client.get(f"/api/command/town-reports?day={DAY}&size=1").json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = client.get(
        f"/api/command/town-reports?day={DAY}&size=1&cursor={first['next_cursor']}"
    ).json()
    rows = first["items"] + second["items"]
    assert second["next_cursor"] is None
    by_town = {r["town_path"]: r for r in rows}
    assert by_town[tree.town_a.path]["state"] == "late"
    assert by_town[tree.town_b.path]["state"] == "missing"
    assert by_town[tree.town_b.path]["overdue"] is True
    summary = client.get(f"/api/command/town-reports/summary?day={DAY}").json()
    assert (summary["towns"], summary["late"], summary["missing"], summary["overdue"]) == (
        2,
        1,
        1,
        1,
    )
    assert summary["problems"] == 2


def test_a_town_cannot_read_or_write_another_towns_report(
    tree: Any, town_a_user: Any, town_b_user: Any, clock: Any, ruleset: Any
) -> None:
    report = town_report(town_b_user, now=at(5, 10))
    client = _client(town_a_user)
    other = f"/api/command/town-reports/{tree.town_b.path}/days/{DAY}"
    assert client.get(other).status_code == 404
    put = client.put(other, BODY, content_type="application/json")
    assert put.status_code == 404
    rows = client.get(f"/api/command/town-reports?day={DAY}").json()["items"]
    assert [r["town_path"] for r in rows] == [tree.town_a.path]
    assert client.post(f"/api/command/town-reports/{report.pk}/read").status_code == 403
    assert TownReport.objects.get().progress != BODY["progress"]


def test_wrong_roles_are_refused(
    tree: Any, town_a_user: Any, command_user: Any, make_user: Any, clock: Any, ruleset: Any
) -> None:
    worker = _client(make_user(Role.COMMUNITY_WORKER, tree.community_a))
    assert worker.get(f"/api/command/town-reports?day={DAY}").status_code == 403
    assert worker.get("/api/command/town-reports/summary").status_code == 403
    mine = f"/api/command/town-reports/{tree.town_a.path}/days/{DAY}"
    put = _client(command_user).put(mine, BODY, content_type="application/json")
    assert put.status_code == 403
    assert not TownReport.objects.exists()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({**BODY, "progress": ""}, 422),
        ({**BODY, "problems": ["问"] * 21}, 422),
        ({**BODY, "problems": ["问" * 301]}, 400),
        ({**BODY, "needs": [{"kind": "gold", "item": "x"}]}, 422),
        ({**BODY, "needs": [{"kind": "staff", "item": "人", "quantity": -1}]}, 422),
        ({"problems": []}, 422),
    ],
)
def test_bad_input_is_a_4xx_that_writes_nothing(
    tree: Any, town_a_user: Any, clock: Any, ruleset: Any, body: dict[str, Any], status: int
) -> None:
    url = f"/api/command/town-reports/{tree.town_a.path}/days/{DAY}"
    response = _client(town_a_user).put(url, body, content_type="application/json")
    assert response.status_code == status, response.content
    assert not TownReport.objects.exists()


def test_another_day_and_a_bad_date_are_refused(
    tree: Any, town_a_user: Any, clock: Any, ruleset: Any
) -> None:
    client = _client(town_a_user)
    base = f"/api/command/town-reports/{tree.town_a.path}/days"
    past = client.put(f"{base}/2022-07-04", BODY, content_type="application/json")
    assert past.status_code == 409 and past.json()["code"] == "town_report_day_closed"
    assert client.get(f"{base}/2022-13-40").status_code == 422
    missing = client.get(f"{base}/{DAY}")
    assert missing.status_code == 404 and missing.json()["code"] == "town_report_missing"
    assert not TownReport.objects.exists()
