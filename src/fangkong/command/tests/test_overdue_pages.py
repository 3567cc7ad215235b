"""The overdue board's page and API over HTTP: grouped by owner, filters, links to the
page where each item is done, refusals; the old tracing board leads here."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fangkong.accounts.roles import Role
from fangkong.testkit import command_overdue as kit
from fangkong.testkit import people, tracing
from fangkong.testkit.command_town_reports import town_report

pytestmark = pytest.mark.django_db

URL = "/command/overdue/"
API = "/api/command/overdue"


@pytest.fixture
def world(tree: Any, make_user: Any) -> kit.OverdueWorld:
    built = kit.overdue_world(tree, make_user)
    # Today's towns' reports are in, so that after the rule sets' hour (18:00) no missing
    # report joins the items these tests count, whatever the time the suite runs.
    for town in (built.town_a, built.town_b):
        town_report(town, now=timezone.now())
    return built


@pytest.fixture
def late_case(world: kit.OverdueWorld) -> Any:
    """A case reported 30 hours ago whose investigation is not done: overdue now."""
    person = people.person(world.tree.community_a, name="赵一鸣", actor=world.command)
    reported = timezone.now() - dt.timedelta(hours=30)
    return tracing.reported_case(person, actor=world.command, reported_at=reported)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_board_groups_by_owner_and_links_to_each_item(
    world: kit.OverdueWorld, late_case: Any
) -> None:
    assert reverse("command:overdue") == URL
    response = _client(world.command).get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-owner="site:{world.site.pk}"' in html
    assert 'data-owner="department:investigation"' in html
    assert (
        html.count(f'data-kind="quarantine.rectification" data-key="{world.rectification.pk}"') == 1
    )
    assert html.count(f'data-kind="tracing.case" data-key="{late_case.pk}"') == 1
    assert late_case.number in html
    assert reverse("tracing:case_detail", kwargs={"pk": late_case.pk}) in html
    assert f"#rectification-{world.rectification.pk}" in html
    assert "赵一鸣" not in html and "赵*鸣" not in html  # titles name no person
    assert 'data-testid="overdue-total"' in html
    # not yet due
    assert f'data-kind="tracing.push" data-key="{world.push_a.pk}"' not in html


def test_the_board_filters_by_kind_and_by_owner(world: kit.OverdueWorld, late_case: Any) -> None:
    client = _client(world.command)

    by_kind = client.get(URL, {"kind": "quarantine.rectification"}).content.decode()
    by_owner = client.get(URL, {"owner": "department:investigation"}).content.decode()
    nothing = client.get(URL, {"owner": "site:999999"}).content.decode()
    junk = client.get(URL, {"kind": "nonsense"})

    assert 'data-kind="quarantine.rectification"' in by_kind
    assert 'data-kind="tracing.case"' not in by_kind
    assert 'data-kind="tracing.case"' in by_owner
    assert 'data-kind="quarantine.rectification"' not in by_owner
    assert 'data-testid="no-overdue"' in nothing
    assert junk.status_code == 200 and 'data-kind="tracing.case"' in junk.content.decode()


def test_a_town_sees_its_own_and_another_town_nothing_of_it(
    world: kit.OverdueWorld, late_case: Any
) -> None:
    a = _client(world.town_a).get(URL).content.decode()
    b = _client(world.town_b).get(URL)

    assert f'data-kind="quarantine.rectification" data-key="{world.rectification.pk}"' in a
    assert 'data-kind="tracing.case"' not in a  # not a town's to act on
    assert b.status_code == 200
    assert 'data-testid="no-overdue"' in b.content.decode()
    assert world.site.name not in b.content.decode()


def test_roles_without_the_board_get_403_and_strangers_the_login(
    world: kit.OverdueWorld,
) -> None:
    for user in (world.labs.lab_user, world.labs.community_a, world.labs.sampler):
        assert _client(user).get(URL).status_code == 403
        assert _client(user).get(API).status_code == 403
    anonymous = Client().get(URL)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]


def test_the_old_tracing_board_leads_to_this_one(world: kit.OverdueWorld) -> None:
    response = _client(world.command).get(reverse("tracing:overdue_board"))
    assert response.status_code == 302
    assert response["Location"].startswith(URL)


def test_the_navigation_entry_opens_this_board(world: kit.OverdueWorld, make_user: Any) -> None:
    html = _client(world.town_a).get(URL).content.decode()
    assert f'href="{URL}"' in html
    hotline = make_user(Role.HOTLINE, world.tree.city, "hotline")
    assert f'href="{URL}"' not in _client(hotline).get("/").content.decode()


def test_the_api_pages_the_items_oldest_first(world: kit.OverdueWorld, late_case: Any) -> None:
    client = _client(world.command)

    first = client.get(API, {"size": 1}).json()
    rest = client.get(API, {"size": 200, "cursor": first["next_cursor"]}).json()
    every = first["items"] + rest["items"]
    summary = client.get(f"{API}/summary").json()

    assert first["next_cursor"] and rest["next_cursor"] is None
    keys = [(i["kind"], i["key"]) for i in every]
    assert len(keys) == len(set(keys)) == summary["total"]
    assert ("tracing.case", str(late_case.pk)) in keys
    assert [i["deadline"] for i in every] == sorted(i["deadline"] for i in every)
    case_item = next(i for i in every if i["kind"] == "tracing.case")
    assert case_item["owner"] == "department:investigation"
    assert case_item["overdue_minutes"] >= 60 * 4
    assert case_item["url"] == reverse("tracing:case_detail", kwargs={"pk": late_case.pk})
    assert {k["code"] for k in summary["kinds"]} >= {"tracing.push", "quarantine.test"}


def test_the_api_filters_scopes_and_refuses_a_bad_kind(
    world: kit.OverdueWorld, late_case: Any
) -> None:
    command = _client(world.command)
    site_items = command.get(API, {"owner": f"site:{world.site.pk}"}).json()["items"]
    bad = command.get(API, {"kind": "nonsense"})
    town_b = _client(world.town_b).get(API).json()

    assert site_items and {i["owner_label"] for i in site_items} == {world.site.name}
    assert bad.status_code == 400 and bad.json()["code"] == "overdue_kind_invalid"
    assert town_b["items"] == []
    assert _client(world.town_b).get(f"{API}/summary").json()["total"] == 0


def test_the_page_reads_a_fixed_number_of_queries_whatever_the_items(
    world: kit.OverdueWorld, late_case: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fangkong.testkit import quarantine_inspections as inspections

    client = _client(world.command)
    client.get(URL)  # warm the session and the catalogues
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    failed = {"A02": "消毒记录缺失", "B01": "卫生间共用", "B02": "通风不足"}
    inspections.inspection(world.site_b, failed=failed, now=timezone.now() - dt.timedelta(days=3))
    with CaptureQueriesContext(connection) as more:
        html = client.get(URL).content.decode()

    assert html.count('data-kind="quarantine.rectification"') == 4
    assert len(more.captured_queries) == len(few.captured_queries)


@pytest.mark.parametrize(
    ("per_owner", "header"),
    [(True, "仅列出最早的 2 项，共 7 项"), (False, "仅列出最早的 2 项，实际更多")],
)
def test_a_cut_owner_says_so_with_its_true_count(
    world: kit.OverdueWorld, monkeypatch: Any, per_owner: bool, header: str
) -> None:
    from fangkong.command.selectors import overdue
    from fangkong.core import deadlines
    from fangkong.core.deadlines import DeadlineKind, OverdueItem

    town = ("town", world.tree.town_b.path)

    def listed(actor: Any, now: Any, limit: int) -> list[OverdueItem]:
        return [
            OverdueItem(
                kind="test.many",
                key=str(n),
                title=f"事项 {n}",
                deadline=now - dt.timedelta(hours=n + 1),
                owner_kind=town[0],
                owner_key=town[1],
                owner_label="乙镇",
            )
            for n in range(limit)
        ]

    monkeypatch.setattr(overdue, "LIMIT_PER_KIND", 2)
    deadlines.register(
        DeadlineKind(
            code="test.many",
            label="测试",
            capability="push.view",
            overdue=listed,
            count=lambda actor, now: 7,
            count_by_owner=(lambda actor, now: {town: 7}) if per_owner else None,
        )
    )
    try:
        html = _client(world.command).get(URL, {"kind": "test.many"}).content.decode()
    finally:
        deadlines._KINDS.pop("test.many", None)
    group = html.split(f'data-owner="town:{world.tree.town_b.path}"')[1]
    count = group.split('data-testid="overdue-group-count">')[1].split("</span>")[0]
    assert count == header
