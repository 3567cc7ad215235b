"""The pushes pages: a town's lists with countdowns, marking in place, Excel buttons, the
case page's section, command's overdue board and the printable assist request."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from fangkong.accounts.models import AuditEvent
from fangkong.core.models import Job
from fangkong.testkit.jobs import export_download, job_of
from fangkong.testkit.worlds.pushes import World, build_world, workbook_bytes
from fangkong.tracing import excel
from fangkong.tracing.models import (
    AssistRequest,
    ContactStatus,
    PushItem,
    PushItemStatus,
    VerificationPush,
)
from fangkong.tracing.services import pushes as services

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree: Any, make_user: Any) -> World:
    return build_world(tree, make_user)


@pytest.fixture
def pushes(world: World) -> dict[str, VerificationPush]:
    created = services.pushes_create_for_case(actor=world.investigator, case=world.case)
    by_path = {p.jurisdiction_path: p for p in created}
    return {"a": by_path[world.tree.town_a.path], "b": by_path[world.tree.town_b.path]}


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _item(world: World, key: str) -> PushItem:
    return PushItem.objects.get(contact=world.contacts[key])


def test_town_staff_see_only_their_lists_with_countdowns(
    world: World, pushes: dict[str, VerificationPush]
) -> None:
    response = _client(world.town_a).get(reverse("tracing:push_list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "我的推送核查" in html
    assert pushes["a"].number in html and pushes["b"].number not in html
    assert f'datetime="{pushes["a"].deadline.isoformat()}"' in html
    assert "tracing/push_countdown.js" in html
    assert 'data-testid="town-filter"' not in html  # a town has no other towns to pick
    assert 'data-testid="overdue-board-link"' in html  # the town's own overdue items


def test_command_sees_every_town_and_filters_by_town(
    world: World, pushes: dict[str, VerificationPush]
) -> None:
    client = _client(world.command)

    everything = client.get(reverse("tracing:push_list")).content.decode()
    town_b = client.get(
        reverse("tracing:push_list"), {"town": world.tree.town_b.path}
    ).content.decode()

    assert pushes["a"].number in everything and pushes["b"].number in everything
    assert 'data-testid="town-filter"' in everything
    assert pushes["b"].number in town_b and pushes["a"].number not in town_b


def test_overdue_lists_are_red_on_the_list_page(
    world: World, pushes: dict[str, VerificationPush]
) -> None:
    VerificationPush.objects.filter(pk=pushes["a"].pk).update(
        deadline=timezone.now() - dt.timedelta(hours=2)
    )

    html = _client(world.town_a).get(reverse("tracing:push_list")).content.decode()

    assert f'data-push="{pushes["a"].number}" class="overdue"' in html
    assert "已超时" in html


def test_detail_is_masked_and_404_for_another_town(
    world: World, pushes: dict[str, VerificationPush]
) -> None:
    url = reverse("tracing:push_detail", args=[pushes["a"].pk])

    response = _client(world.town_a).get(url)
    outside = _client(world.town_b).get(url)

    html = response.content.decode()
    assert response.status_code == 200
    assert "张*三" in html and "张小三" not in html
    assert world.ids["a1"] not in html and world.phones["a1"] not in html
    assert 'data-testid="export-masked"' in html and 'data-testid="import-form"' in html
    assert outside.status_code == 404
    assert "张*三" not in outside.content.decode()


def test_marking_in_place_returns_the_row_and_moves_the_contact(
    world: World, pushes: dict[str, VerificationPush]
) -> None:
    item = _item(world, "a1")

    response = _client(world.town_a).post(
        reverse("tracing:push_item_mark", args=[item.pk]),
        {"status": "home", "note": "居家"},
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith("<tr") and 'data-status="home"' in html
    world.contacts["a1"].refresh_from_db()
    assert world.contacts["a1"].status == ContactStatus.CONTROLLED


def test_a_refused_mark_shows_its_message_in_the_row(
    world: World, pushes: dict[str, VerificationPush]
) -> None:
    item = _item(world, "a1")

    response = _client(world.town_a).post(
        reverse("tracing:push_item_mark", args=[item.pk]),
        {"status": "outside", "note": ""},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 400
    assert 'data-testid="mark-error"' in response.content.decode()
    item.refresh_from_db()
    assert item.status == PushItemStatus.PENDING


def test_another_town_cannot_mark_and_a_lab_is_refused(
    world: World, pushes: dict[str, VerificationPush]
) -> None:
    url = reverse("tracing:push_item_mark", args=[_item(world, "a1").pk])

    assert _client(world.town_b).post(url, {"status": "home"}).status_code == 404
    assert _client(world.lab).post(url, {"status": "home"}).status_code == 403
    assert not PushItem.objects.exclude(status=PushItemStatus.PENDING).exists()


def test_late_items_are_shown_on_the_list_page(
    world: World, pushes: dict[str, VerificationPush]
) -> None:
    VerificationPush.objects.filter(pk=pushes["a"].pk).update(
        deadline=timezone.now() - dt.timedelta(hours=1)
    )
    services.push_item_mark(actor=world.town_a, item=_item(world, "a1"), status="home")

    html = (
        _client(world.town_a)
        .get(reverse("tracing:push_detail", args=[pushes["a"].pk]))
        .content.decode()
    )

    assert 'data-testid="late-items"' in html and 'data-testid="item-late"' in html


def test_the_export_page_starts_by_post_only_and_shows_the_file_by_its_job(
    world: World, pushes: dict[str, VerificationPush]
) -> None:
    push = pushes["a"]
    url = reverse("tracing:push_export", args=[push.pk])
    detail = reverse("tracing:push_detail", args=[push.pk])
    client = _client(world.town_a)
    listing = client.get(detail).content.decode()
    assert f'<form method="post" action="{url}" class="inline">' in listing
    assert f'href="{url}"' not in listing  # no link that a visit would export by
    for _visit in range(2):
        page = client.get(url)
        assert page.status_code == 200 and 'data-testid="export-masked"' in page.content.decode()
    assert not Job.objects.exists() and not AuditEvent.objects.filter(action="push.export")
    r = client.post(url)
    job = job_of(r)
    assert r["Location"] == f"{url}?job={job.pk}"
    html = client.get(r["Location"]).content.decode()
    client.get(r["Location"])
    assert Job.objects.count() == 1 and AuditEvent.objects.filter(action="push.export").count() == 1
    assert f'data-testid="export-filename">{push.number}.xlsx<' in html
    assert f'data-testid="export-rows">{job.result["rows"]} 行<' in html and job.result["rows"] > 0
    assert (
        'data-testid="job-download"' in html and f'href="{detail}" data-testid="job-back"' in html
    )
    assert "0 / 0" not in html
    # Another town may neither see the page nor start an export
    other = _client(world.town_b)
    assert other.get(url).status_code == 404 and other.post(url).status_code == 404
    assert other.get(r["Location"]).status_code == 404
    assert Job.objects.count() == 1


def test_export_buttons_masked_by_get_revealed_by_post(
    world: World, pushes: dict[str, VerificationPush]
) -> None:
    url = reverse("tracing:push_export", args=[pushes["a"].pk])
    client = _client(world.town_a)

    masked = export_download(client, url)
    revealed = export_download(client, url, reveal=True)

    def text(data: bytes) -> str:
        return str([c.value for row in load_workbook(io.BytesIO(data)).active for c in row])

    assert masked["Content-Type"] == excel.XLSX_CONTENT_TYPE
    assert world.ids["a1"] not in text(masked.content)
    assert world.ids["a1"] in text(revealed.content)
    assert [
        e.detail["reveal"] for e in AuditEvent.objects.filter(action="push.export").order_by("pk")
    ] == [
        False,
        True,
    ]
    assert _client(world.town_b).get(url).status_code == 404


def test_import_form_applies_or_shows_the_error_report(
    world: World, pushes: dict[str, VerificationPush]
) -> None:
    client = _client(world.town_a)
    exported = export_download(
        client, reverse("tracing:push_export", args=[pushes["a"].pk])
    ).content
    wb = load_workbook(io.BytesIO(exported))
    ws = wb.active
    col = excel.COLUMNS.index(excel.COL_STATUS) + 1
    ws.cell(row=excel.FIRST_DATA_ROW, column=col).value = "随便写"
    url = reverse("tracing:push_import", args=[pushes["a"].pk])

    bad = client.post(url, {"file": SimpleUploadedFile("f.xlsx", workbook_bytes(wb))})

    assert bad.status_code == 400
    html = bad.content.decode()
    assert 'data-testid="import-report"' in html
    assert f'data-row="{excel.FIRST_DATA_ROW}"' in html

    ws.cell(row=excel.FIRST_DATA_ROW, column=col).value = "已送医"
    good = client.post(url, {"file": SimpleUploadedFile("f.xlsx", workbook_bytes(wb))})
    assert good.status_code == 302
    assert PushItem.objects.filter(status=PushItemStatus.HOSPITAL).count() == 1


@pytest.mark.parametrize(
    "files",
    [
        {"file": SimpleUploadedFile("f.csv", "条目ID,核查结果\n1,已送医\n".encode())},
        {},
    ],
    ids=["csv-instead-of-xlsx", "no-file"],
)
def test_a_wrong_or_missing_file_is_refused_on_the_list_page(
    world: World, pushes: dict[str, VerificationPush], files: dict[str, Any]
) -> None:
    """Not a feedback sheet (or no file): the list page again with the refusal inline
    (and its items), not a bare error page; nothing changes."""
    client = _client(world.town_a)
    url = reverse("tracing:push_import", args=[pushes["a"].pk])

    response = client.post(url, files)

    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="import-error"' in html
    assert 'data-testid="push-items"' in html and 'data-testid="import-form"' in html
    assert "返回首页" not in html
    assert not PushItem.objects.exclude(status=PushItemStatus.PENDING).exists()


def test_case_section_lists_pushes_and_its_button_creates_them(world: World) -> None:
    url = reverse("tracing:case_pushes", args=[world.case.pk])
    client = _client(world.investigator)

    before = client.get(url).content.decode()
    created = client.post(url, HTTP_HX_REQUEST="true")

    assert 'data-testid="push-contacts"' in before and "待推送 5 人" in before
    assert created.status_code == 200
    html = created.content.decode()
    assert html.count('data-testid="case-push-row"') == 2
    assert 'data-testid="push-created"' in html
    assert VerificationPush.objects.count() == 2
    # Town staff see the section of a case in their town but may not push.
    town = _client(world.town_a)
    assert 'data-testid="push-contacts"' not in town.get(url).content.decode()
    assert town.post(url, HTTP_HX_REQUEST="true").status_code == 403


def test_overdue_pushes_on_commands_board(
    world: World, pushes: dict[str, VerificationPush]
) -> None:
    VerificationPush.objects.filter(pk=pushes["b"].pk).update(
        deadline=timezone.now() - dt.timedelta(hours=3)
    )
    services.pushes_escalate_overdue()
    old = _client(world.command).get(reverse("tracing:overdue_board"))
    assert old.status_code == 302

    board = _client(world.command).get(old["Location"])
    town_a = _client(world.town_a).get(old["Location"])
    town_b = _client(world.town_b).get(old["Location"])

    html = board.content.decode()
    assert board.status_code == 200
    assert pushes["b"].number in html and pushes["a"].number not in html
    assert f'data-owner="town:{world.tree.town_b.path}"' in html
    assert 'data-testid="escalated"' in html
    assert reverse("tracing:push_detail", kwargs={"pk": pushes["b"].pk}) in html
    assert pushes["b"].number in town_b.content.decode()
    assert pushes["b"].number not in town_a.content.decode()


def test_assist_request_is_printable_masked_and_revealed_with_an_audit(
    world: World, pushes: dict[str, VerificationPush]
) -> None:
    services.push_item_mark(
        actor=world.town_b, item=_item(world, "b1"), status="outside", note="杭州市西湖区"
    )
    assist = AssistRequest.objects.get()
    url = reverse("tracing:assist_request", args=[assist.pk])
    client = _client(world.town_b)

    masked = client.get(url).content.decode()
    revealed = client.post(url, {"reveal": "1"}).content.decode()

    assert assist.number in masked and "杭州市西湖区" in masked and "@media print" in masked
    assert "孙*" in masked and world.ids["b1"] not in masked
    assert world.ids["b1"] in revealed and "孙六" in revealed
    reveals = AuditEvent.objects.filter(action="person.reveal", actor=world.town_b)
    assert sorted(reveals.values_list("field", flat=True)) == ["id_number", "phone"]
    assert _client(world.town_a).get(url).status_code == 404


def test_a_list_pages_its_persons_by_keyset_with_filters_a_total_and_no_query_per_row(
    world: World, monkeypatch: pytest.MonkeyPatch, django_assert_max_num_queries: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fangkong.testkit.worlds.pushes import add_contact
    from fangkong.tracing.views import pushes as push_views

    for n in range(2):
        add_contact(world, f"extra{n}", world.tree.community_a, f"陈{n}")
    push = next(
        p
        for p in services.pushes_create_for_case(actor=world.investigator, case=world.case)
        if p.jurisdiction_path == world.tree.town_a.path
    )
    items = list(PushItem.objects.filter(push=push).order_by("pk"))
    assert len(items) == 5
    services.push_item_mark(actor=world.town_a, item=items[0], status="home")
    client = _client(world.town_a)
    url = reverse("tracing:push_detail", args=[push.pk])

    def queries(size: int) -> tuple[int, Any]:
        monkeypatch.setattr(push_views, "ITEM_PAGE_SIZE", size)
        client.get(url)  # the session and user are cached after the first request
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        return len(captured), response

    # The same number of queries for a page of 2 as of 4: nothing is read per row.
    small, _first = queries(2)
    large, _all = queries(4)
    assert small == large
    with django_assert_max_num_queries(small):
        client.get(url)

    # Pages of 2: the rows in order, a total, and the next rows by cursor (htmx: rows only).
    monkeypatch.setattr(push_views, "ITEM_PAGE_SIZE", 2)
    html = client.get(url).content.decode()
    assert [f'data-item="{i.pk}"' in html for i in items] == [True, True, False, False, False]
    assert 'data-testid="shown-total">共 5 人' in html.replace("\n", "")
    assert 'hx-trigger="revealed"' in html
    seen = []
    next_url = url
    for _page in range(3):
        response = client.get(next_url)
        body = response.content.decode()
        seen += [i.pk for i in items if f'data-item="{i.pk}"' in body]
        match = re.search(r'hx-get="\?show=all&amp;cursor=([^"]+)"', body)
        if match is None:
            break
        next_url = f"{url}?show=all&cursor={match.group(1)}"
        fragment = client.get(next_url, headers={"HX-Request": "true"})
        assert fragment.status_code == 200 and "<html" not in fragment.content.decode()
    assert seen == [i.pk for i in items] and match is None

    # Pending only: four left, the marked one not among them.
    pending = client.get(url + "?show=pending").content.decode()
    assert f'data-item="{items[0].pk}"' not in pending and f'data-item="{items[1].pk}"' in pending
    assert 'data-testid="shown-total">共 4 人' in pending.replace("\n", "")

    # Bytes: a full page of persons stays far under 200 KB (measured per row here).
    monkeypatch.setattr(push_views, "ITEM_PAGE_SIZE", 1)
    one = len(client.get(url).content)
    monkeypatch.setattr(push_views, "ITEM_PAGE_SIZE", 5)
    five = len(client.get(url).content)
    per_row = (five - one) / 4
    assert one + per_row * (push_views.ITEM_PAGE_SIZE_DEFAULT - 1) < 200_000

    # A bad cursor is a 400 with a stable code; another town and a lab see nothing.
    bad = client.get(url + "?cursor=!!", headers={"Accept": "application/json"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_cursor"
    assert _client(world.town_b).get(url + "?show=pending").status_code == 404
    assert _client(world.lab).get(url + "?show=pending").status_code == 403


def test_the_cards_count_every_list_in_the_filter_in_the_choices_words(
    world: World, pushes: dict[str, VerificationPush]
) -> None:
    # Town A's list is done (two held, one not found); the cards still count it.
    for key, status in (("a1", "centralised"), ("a2", "home"), ("a3", "not_found")):
        services.push_item_mark(actor=world.town_a, item=_item(world, key), status=status)
    pushes["a"].refresh_from_db()
    assert pushes["a"].status == "done"

    html = _client(world.command).get(reverse("tracing:push_list")).content.decode()
    cards = dict(
        re.findall(
            r'data-figure="(\w+)"><div class="kpi-label">[^<]+</div><div class="kpi-value">(\d+)<',
            html,
        )
    )
    assert cards == {
        "total": "5",
        "pending": "2",
        "located": "0",
        "centralised": "1",
        "home": "1",
        "hospital": "0",
        "not_found": "1",
        "outside": "0",
    }
    labels = re.findall(r'<div class="kpi-label">([^<]+)</div>', html)
    assert labels == [
        "人数",
        "待核查",
        "已找到",
        "已集中隔离",
        "已居家隔离",
        "已送医",
        "未找到",
        "不在本市",
    ]
    assert "已管控 2 人" in html and 'data-testid="lists-total">共 2 份清单' in html.replace(
        "\n", ""
    )
    # The filter moves the cards with the rows: open lists only leaves town B's two.
    open_only = _client(world.command).get(reverse("tracing:push_list") + "?status=open")
    assert re.search(r'data-figure="total">.*?kpi-value">2<', open_only.content.decode())


def test_a_mark_by_htmx_swaps_the_lists_head_out_of_band(
    world: World, pushes: dict[str, VerificationPush]
) -> None:
    services.push_item_mark(actor=world.town_a, item=_item(world, "a1"), status="home")
    services.push_item_mark(actor=world.town_a, item=_item(world, "a2"), status="home")
    last = _item(world, "a3")
    detail = reverse("tracing:push_detail", args=[pushes["a"].pk])

    response = _client(world.town_a).post(
        reverse("tracing:push_item_mark", args=[last.pk]),
        {"status": "hospital"},
        headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver{detail}?show=pending"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-item="{last.pk}"' in html and 'data-status="hospital"' in html
    assert 'id="push-summary"' in html and 'hx-swap-oob="true"' in html
    assert 'data-testid="push-summary" data-status="done"' in html  # the list is done
    assert 'data-testid="countdown"' not in html  # ... and counts down no more
    assert re.search(r'data-figure="pending">.*?kpi-value">0<', html)
    assert 'data-show="pending" aria-current="page"' in html  # the page's own filter


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (dt.timedelta(hours=5, minutes=12, seconds=30), "剩余 5小时12分"),
        (dt.timedelta(minutes=7), "剩余 7分钟"),
        (dt.timedelta(seconds=20), "剩余 不足1分钟"),
        (-dt.timedelta(hours=2, seconds=10), "已超时 2小时"),
        (-dt.timedelta(days=3, hours=4, minutes=9), "已超时 3天4小时"),
        (-dt.timedelta(days=1605, minutes=30), "已超时 1605天"),
    ],
)
def test_a_countdown_reads_as_words_in_whole_minutes(delta: dt.timedelta, text: str) -> None:
    from fangkong.tracing.templatetags.push_tags import countdown_text

    now = timezone.now()
    assert countdown_text(now + delta, now) == text


def test_a_done_list_with_persons_not_found_says_so_and_every_row_adds_up(
    world: World, pushes: dict[str, VerificationPush]
) -> None:
    """Done means every person answered; a done list with persons 未找到 / 不在本市 is
    no green 已完成 at 100%: it says how many, and the rows' counts add up to 人数."""
    for key, status, note in (
        ("a1", "centralised", ""),
        ("a2", "not_found", ""),
        ("a3", "outside", "上海市"),
    ):
        services.push_item_mark(
            actor=world.town_a, item=_item(world, key), status=status, note=note
        )
    pushes["a"].refresh_from_db()
    assert pushes["a"].status == "done"
    town = _client(world.town_a)

    listing = town.get(reverse("tracing:push_list")).content.decode()
    row = re.search(rf'data-push="{pushes["a"].number}".*?</tr>', listing, re.S)
    assert row is not None
    cells = re.findall(r'<td class="num[^"]*" data-label="([^"]+)">(\d+)</td>', row.group(0))
    numbers = dict(cells)
    assert numbers == {
        "人数": "3",
        "待核查": "0",
        "已找到": "0",
        "已管控": "1",
        "未找到": "1",
        "不在本市": "1",
    }
    status = re.search(r'data-testid="push-row-status">(.*?)</td>', row.group(0), re.S)
    assert status is not None
    assert "已反馈完毕" in status.group(1) and "1 人未找到 · 1 人不在本市" in status.group(1)
    assert "已完成" not in status.group(1) and "badge-ok" not in status.group(1)
    # The bar: a third green (controlled), two thirds in the warning colour.
    assert 'data-controlled="33" data-unresolved="67"' in row.group(0)

    detail = town.get(reverse("tracing:push_detail", args=[pushes["a"].pk])).content.decode()
    head = re.search(r'data-testid="push-status">(.*?)</dd>', detail, re.S)
    assert head is not None and "已反馈完毕" in head.group(1) and "1 人未找到" in head.group(1)

    section = (
        _client(world.investigator)
        .get(reverse("tracing:case_pushes", args=[world.case.pk]))
        .content.decode()
    )
    line = re.search(
        rf'data-number="{pushes["a"].number}".*?data-testid="case-push-counts">(.*?)</span></td>',
        section,
        re.S,
    )
    assert line is not None, section
    text = re.sub(r"<[^>]+>", "", line.group(1))
    assert text == "已管控 1 · 待核查 0 · 未找到 1 · 不在本市 1"


def test_a_list_done_with_everyone_controlled_is_plainly_done(
    world: World, pushes: dict[str, VerificationPush]
) -> None:
    for key in ("a1", "a2", "a3"):
        services.push_item_mark(actor=world.town_a, item=_item(world, key), status="home")

    listing = _client(world.town_a).get(reverse("tracing:push_list")).content.decode()

    assert 'data-controlled="100" data-unresolved="0"' in listing
    assert "已反馈完毕" not in listing and 'badge badge-ok">已完成' in listing


def test_the_controlled_note_in_english_names_the_choices_in_english(
    world: World, pushes: dict[str, VerificationPush]
) -> None:
    client = _client(world.town_a)
    client.cookies["django_language"] = "en"

    for url in (
        reverse("tracing:push_list"),
        reverse("tracing:push_detail", args=[pushes["a"].pk]),
    ):
        html = client.get(url).content.decode()
        note = re.search(r'data-testid="controlled-note">(.*?)</p>', html, re.S)
        assert note is not None
        assert note.group(1).startswith("Under control: 0 (")
        assert not re.search(r"[\u4e00-\u9fff]", note.group(1)), note.group(1)


def test_the_import_url_opened_by_get_goes_to_the_list_and_stays_in_scope(
    world: World, pushes: dict[str, VerificationPush]
) -> None:
    """After a refused import the address bar shows the import URL: opening or reloading
    it by GET leads to the list's page (no 405 with an empty body), for its town only."""
    url = reverse("tracing:push_import", args=[pushes["a"].pk])

    mine = _client(world.town_a).get(url)
    other_town = _client(world.town_b).get(url)

    assert mine.status_code == 302
    assert mine["Location"] == reverse("tracing:push_detail", args=[pushes["a"].pk])
    assert other_town.status_code == 404
    assert not PushItem.objects.exclude(status=PushItemStatus.PENDING).exists()


def test_the_note_field_has_a_short_placeholder_and_the_full_hint_in_its_title(
    world: World, pushes: dict[str, VerificationPush]
) -> None:
    html = (
        _client(world.town_a)
        .get(reverse("tracing:push_detail", args=[pushes["a"].pk]))
        .content.decode()
    )

    field = re.search(r'<input type="text" name="note"[^>]*>', html)
    assert field is not None
    placeholder = re.search(r'placeholder="([^"]+)"', field.group(0))
    assert placeholder is not None and len(placeholder.group(1)) <= 8  # fits 10rem
    assert 'title="备注（不在本市须填所在地区）"' in field.group(0)
