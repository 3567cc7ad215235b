"""Coverage pages: dashboard, town, untested list (masked), audited and watermarked export."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from fangkong.accounts.models import AuditEvent
from fangkong.core.models import Job
from fangkong.testkit.jobs import export_download
from fangkong.testkit.worlds.coverage import NAMES, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree: Any, make_user: Any) -> Any:
    return build_world(tree, make_user)


def _get(client: Any, user: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    client.force_login(user)
    return client.get(reverse(f"testing:{name}", args=args), **kwargs)


def test_rounds_page_lists_the_round_and_links_the_workers_community(
    client: Any, world: Any
) -> None:
    page = _get(client, world.users["worker_a"], "coverage_rounds").content.decode()

    assert "全市第一轮" in page
    assert reverse("testing:coverage_untested", args=[world.round.pk, "330483102001"]) in page


def _round_row(page: str, pk: int) -> dict[str, str]:
    """{figure: text} of the round's row in the rounds list."""
    import re

    row = re.search(rf'<tr data-round="{pk}">(.*?)</tr>', page, re.S)
    assert row is not None
    cells = re.findall(r'data-figure="(\w+)">(?:<strong[^>]*>)?([^<]*)', row.group(1))
    return dict(cells)


def test_rounds_list_shows_sampled_rate_positive_and_the_users_share(
    client: Any, world: Any
) -> None:
    page = _get(client, world.users["command"], "coverage_rounds").content.decode()
    assert _round_row(page, world.round.pk) == {
        "target": "13",
        "sampled": "6",
        "percent": f"{round(100 * 6 / 13, 1)}%",
        "positive": "0",
        "held": "2",
    }
    assert "统计范围：桐乡市" in page and "不是整个轮次" not in page

    page = _get(client, world.users["worker_a"], "coverage_rounds").content.decode()
    assert _round_row(page, world.round.pk) == {
        "target": "6",
        "sampled": "3",
        "percent": "50.0%",
        "positive": "0",
        "held": "2",
    }
    assert "统计范围：虹桥村" in page and "不是整个轮次" in page
    # another community's worker: her own share, none of 虹桥村's holds
    page = _get(client, world.users["worker_a2"], "coverage_rounds").content.decode()
    assert _round_row(page, world.round.pk)["target"] == "3"
    assert _round_row(page, world.round.pk)["held"] == "0"
    dash = _get(client, world.users["worker_a"], "coverage_dashboard", world.round.pk)
    assert "不是整个轮次" in dash.content.decode()


def test_round_list_says_a_communitys_figure_is_its_share(client: Any, world: Any) -> None:
    """The rounds list's 应检人数 is the user's share as on the coverage list, and says so."""
    import re

    def target(page: str) -> str:
        row = re.search(rf'data-round="{world.round.pk}">(.*?)</tr>', page, re.S)
        assert row is not None
        cell = re.search(r'<td class="num"[^>]*>\s*([^<]*?)\s*</td>', row.group(1))
        assert cell is not None
        return cell.group(1)

    page = _get(client, world.users["worker_a"], "round_list").content.decode()
    assert target(page) == "6"  # 虹桥村's targets, not the round's 13
    assert "统计范围：虹桥村" in page and "不是整个轮次" in page
    page = _get(client, world.users["command"], "round_list").content.decode()
    assert target(page) == "13"
    assert "统计范围：桐乡市" in page and "不是整个轮次" not in page


def test_dashboard_renders_charts_table_and_polling(client: Any, world: Any) -> None:
    response = _get(client, world.users["command"], "coverage_dashboard", world.round.pk)

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="coverage-town-chart"' in page and 'id="coverage-hour-chart"' in page
    assert "vendor/echarts/echarts.min.js" in page
    assert 'hx-trigger="every 30s"' in page
    assert 'id="coverage-config"' in page
    assert 'data-path="330483102"' in page and 'data-path="330483101"' in page
    assert response.context["totals"].target == 13


def test_live_fragment_is_the_polled_part_only(client: Any, world: Any) -> None:
    response = _get(client, world.users["town_a"], "coverage_live", world.round.pk)

    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page and 'id="coverage-live"' in page
    assert 'data-path="330483102"' in page and 'data-path="330483101"' not in page


def test_town_page_lists_its_communities(client: Any, world: Any) -> None:
    response = _get(client, world.users["command"], "coverage_town", world.round.pk, "330483102")

    page = response.content.decode()
    assert 'data-path="330483102001"' in page and 'data-path="330483102002"' in page
    assert 'data-path="330483101001"' not in page
    assert reverse("testing:coverage_untested", args=[world.round.pk, "330483102002"]) in page


def test_untested_page_is_masked(client: Any, world: Any) -> None:
    response = _get(
        client, world.users["worker_a"], "coverage_untested", world.round.pk, "330483102001"
    )

    page = response.content.decode()
    assert response.status_code == 200
    for key in ("a4", "a5", "a6"):
        person = world.persons[key]
        assert f'data-person="{person.pk}"' in page
        assert NAMES[key] not in page
        assert person.id_masked in page and person.phone_masked in page
    assert "赵*华" in page
    assert f'data-person="{world.persons["a1"].pk}"' not in page


@pytest.mark.parametrize(
    ("user_key", "status"), [("worker_b", 404), ("town_b", 404), ("sampler", 403), ("lab", 403)]
)
def test_untested_page_refused_outside_scope_or_role(
    client: Any, world: Any, user_key: str, status: int
) -> None:
    response = _get(
        client, world.users[user_key], "coverage_untested", world.round.pk, "330483102001"
    )
    assert response.status_code == status
    assert "赵*华" not in response.content.decode()


def test_dashboard_refused_to_a_role_without_coverage(client: Any, world: Any) -> None:
    assert (
        _get(client, world.users["sampler"], "coverage_dashboard", world.round.pk).status_code
        == 403
    )
    assert _get(client, world.users["sampler"], "coverage_rounds").status_code == 403


def _sheet(content: bytes) -> Any:
    return load_workbook(io.BytesIO(content)).active


def test_export_is_masked_watermarked_and_audited(client: Any, world: Any) -> None:
    client.force_login(world.users["worker_a"])
    url = reverse("testing:coverage_untested_export", args=[world.round.pk, "330483102001"])
    response = export_download(client, url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = _sheet(response.content)
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    assert {r[-1] for r in rows} == {world.persons[k].pk for k in ("a4", "a5", "a6")}
    names = {r[1] for r in rows}
    assert names == {"赵*华", "钱*", "孙*强"}
    assert all("*" in r[2] and "*" in r[3] for r in rows)
    watermark = ws["A2"].value
    assert "cov-worker-a" in watermark and "脱敏" in watermark
    assert "cov-worker-a" in ws.oddHeader.center.text
    event = AuditEvent.objects.get(action="coverage.untested_export")
    assert event.actor_username == "cov-worker-a"
    assert event.detail == {"community": "330483102001", "reveal": False, "rows": 3}


def test_revealed_export_is_in_clear_and_audited_as_such(client: Any, world: Any) -> None:
    client.force_login(world.users["worker_a"])
    url = reverse("testing:coverage_untested_export", args=[world.round.pk, "330483102001"])
    response = export_download(client, url, reveal=True)

    ws = _sheet(response.content)
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    assert {r[1] for r in rows} == {NAMES["a4"], NAMES["a5"], NAMES["a6"]}
    assert all("*" not in r[2] and len(r[2]) == 18 for r in rows)
    assert "明文" in ws["A2"].value
    event = AuditEvent.objects.get(action="coverage.untested_export")
    assert event.detail["reveal"] is True


@pytest.mark.parametrize(("user_key", "status"), [("worker_b", 404), ("sampler", 403)])
def test_export_refused_outside_scope_or_role_and_not_audited(
    client: Any, world: Any, user_key: str, status: int
) -> None:
    response = _get(
        client, world.users[user_key], "coverage_untested_export", world.round.pk, "330483102001"
    )
    started = client.post(
        reverse("testing:coverage_untested_export", args=[world.round.pk, "330483102001"])
    )

    assert response.status_code == status and started.status_code == status
    assert not AuditEvent.objects.filter(action="coverage.untested_export").exists()
    assert not Job.objects.exists()


def test_untested_page_queries_are_bounded(
    client: Any, world: Any, django_assert_max_num_queries: Any
) -> None:
    client.force_login(world.users["town_a"])
    url = reverse("testing:coverage_untested", args=[world.round.pk, "330483102001"])
    with django_assert_max_num_queries(16):
        assert client.get(url).status_code == 200


def test_users_of_one_scope_share_the_dashboards_figures(
    client: Any, world: Any, make_user: Any, tree: Any, django_assert_max_num_queries: Any
) -> None:
    """Polling users of one jurisdiction share one computation per cache window (the
    figures of a city round of a million persons cost seconds)."""
    url = reverse("testing:coverage_live", args=[world.round.pk])
    client.force_login(world.users["command"])
    first = client.get(url)
    client.force_login(make_user("command", tree.city))
    with django_assert_max_num_queries(5):  # session, user, round, names: no counting
        second = client.get(url)

    assert first.context["totals"].target == second.context["totals"].target == 13
