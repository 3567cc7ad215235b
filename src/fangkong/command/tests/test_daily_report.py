"""The daily situation report: its .docx opens with python-docx and holds the numbers of
`situation()` for the date (the dashboard's), on the printable page as in the document;
no person's name, ID number, phone or address is in it; a town gets its own town's
report only; other roles are refused; generation and download are audited and the
requester hears that it is ready. The job runs in-process (the immediate backend)."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.roles import Role
from fangkong.command.selectors.figures import situation
from fangkong.command.selectors.town_reports import town_reports_for
from fangkong.command.services.figures import figures_refresh
from fangkong.notices.models import Notification
from fangkong.testkit import areas
from fangkong.testkit.command_town_reports import PROBLEMS, town_report
from fangkong.testkit.jobs import job_of
from fangkong.testkit.reports import (
    docx_document,
    docx_table,
    docx_text,
    table_by_label,
)
from fangkong.testkit.worlds.pushes import build_world
from fangkong.tracing.services.pushes import pushes_create_for_case

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
NAMES = ["赵病例", "钱病例", "张小三", "李四", "王五", "孙六", "周七", "吴八", "郑九"]


@pytest.fixture
def world(tree: Any, make_user: Any) -> Any:
    """Two cases reported today (town A, town B) with contacts, their lists pushed, and
    a sealed zone in town A."""
    made = build_world(tree, make_user)
    pushes_create_for_case(actor=made.command, case=made.case)
    areas.zone(tree.community_a, "sealed", name="虹桥村封控区")
    town_report(made.town_a, now=timezone.now())  # town A reports, town B does not
    figures_refresh()  # the dashboard's figures of today (the figures job's work)
    return made


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page_url(day: dt.date) -> str:
    return reverse("command:daily_report", args=[day.isoformat()])


def _download(client: Client, day: dt.date) -> tuple[bytes, Any]:
    """Start the report on its page (POST → 303 → the page with the job), and download
    the .docx the page offers. Returns the file and the job."""
    started = client.post(_page_url(day))
    job = job_of(started)
    page = client.get(started["Location"])
    assert page.status_code == 200, page.content.decode()[-3000:]
    link = re.search(r'href="([^"]+)" data-testid="report-download"', page.content.decode())
    assert link, page.content.decode()[:3000]
    response = client.get(link.group(1))
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == DOCX
    return b"".join(response.streaming_content) if response.streaming else response.content, job


def _assert_same_numbers(doc: Any, figures: dict[str, Any]) -> None:
    cases = figures["cases"]
    summary = table_by_label(docx_table(doc, "项目"))
    assert summary["病例合计"] == [str(cases["new"]), str(cases["total"])]
    assert summary["确诊病例"] == [str(cases["new_confirmed"]), str(cases["total_confirmed"])]
    assert summary["无症状感染者"] == [
        str(cases["new_asymptomatic"]),
        str(cases["total_asymptomatic"]),
    ]
    text = docx_text(doc)
    assert f"来源明确{cases['source_known']}例，来源不明{cases['source_unknown']}例" in text

    contacts = table_by_label(docx_table(doc, "类别"))
    for key, label in (
        ("close", "密切接触者"),
        ("secondary", "次密切接触者"),
        ("risk", "时空伴随者"),
    ):
        row = figures["contacts"][key]
        assert contacts[label] == [
            str(row[k]) for k in ("found", "pushed", "controlled_24h", "placed", "released")
        ], label
    pushes = figures["pushes"]
    assert (
        f"按时完成{pushes['on_time']}份，超时完成{pushes['late']}份，尚未完成{pushes['open']}份"
        in text
    )
    quarantine = figures["quarantine"]
    assert docx_table(doc, "房间") == [
        [
            str(quarantine[k])
            for k in ("rooms", "occupied", "reserved", "free", "placed", "released")
        ]
    ]
    testing = figures["testing"]
    if testing["round"]:
        row = docx_table(doc, "轮次")[0]
        assert row[1:] == [
            str(testing["round"][k]) for k in ("target", "sampled", "resulted", "positives")
        ]
    assert f"待单管复核{testing['rechecks_due']}管" in text
    levels = figures["zones_by_level"]
    assert (
        f"封控区{levels['sealed']}个、管控区{levels['controlled']}个、防范区{levels['precaution']}个"
        in text
    )
    assert f"超时未办事项共{figures['overdue']}项" in text
    zone_rows = [t for t in doc.tables if t.rows[0].cells[1].text == "区域"]
    assert len(zone_rows) == (1 if figures["zones"] else 0)
    if figures["zones"]:
        rows = [[c.text for c in r.cells] for r in zone_rows[0].rows[1:]]
        assert [r[1] for r in rows] == [z["name"] for z in figures["zones"]]
        assert [r[3] for r in rows] == [str(z["since"]) for z in figures["zones"]]
        assert [r[4] for r in rows] == [str(z["days"]) for z in figures["zones"]]


def test_the_docx_holds_the_dashboards_numbers_for_the_date(world: Any) -> None:
    today = timezone.localdate()
    data, _job = _download(_client(world.command), today)
    doc = docx_document(data)

    figures = situation(user=world.command, day=today)
    assert figures["cases"]["new"] == 2  # the scene: both cases reported today
    assert figures["contacts"]["close"]["pushed"] > 0
    _assert_same_numbers(doc, figures)
    # The new cases one by one, by number: both towns' for command.
    cases = [r for r in docx_table(doc, "序号") if r[1] in (world.case.number, world.case2.number)]
    assert sorted(r[1] for r in cases) == sorted([world.case.number, world.case2.number])
    assert {r[2] for r in cases} == {"乌镇镇", "濮院镇"}
    assert {r[3] for r in cases} == {"虹桥村", "永越村"}
    # The towns' reports: town A's problems, town B named as not reported.
    for problem in PROBLEMS:
        assert problem in docx_text(doc)
    # Town B has not reported: missing once the rule set's hour has passed, before it
    # not yet due (and then not named as missing).
    town_b = next(
        r for r in town_reports_for(user=world.command, day=today) if r["town_name"] == "濮院镇"
    )
    if town_b["overdue"]:
        assert "未报送日报的镇街：濮院镇。" in docx_text(doc)
    else:
        assert "未报送日报的镇街" not in docx_text(doc)
        assert "另有1个镇街的日报未到报送时限。" in docx_text(doc)
    assert doc.paragraphs[0].text == "桐乡市新冠肺炎疫情防控工作日报"
    assert [p.text for p in doc.paragraphs[-2:]] == [
        "桐乡市新冠肺炎疫情防控工作指挥部办公室",
        f"{today.year}年{today.month}月{today.day}日",
    ]


def test_the_printable_page_says_what_the_document_says(world: Any) -> None:
    today = timezone.localdate()
    client = _client(world.command)
    data, _job = _download(client, today)
    doc = docx_document(data)
    page = client.get(_page_url(today))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="daily-report"' in html
    assert "size: A4" in _css()  # printed on A4
    for paragraph in doc.paragraphs:
        if paragraph.text:
            assert paragraph.text in html, paragraph.text
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                assert f"<td>{cell.text}</td>" in html or f">{cell.text}</th>" in html


def _css() -> str:
    from django.contrib.staticfiles import finders

    found = finders.find("command/daily_report.css")
    assert found
    with open(found, encoding="utf-8") as css:
        return css.read()


def test_no_persons_name_id_number_phone_or_address_in_the_report(world: Any) -> None:
    client = _client(world.command)
    data, _job = _download(client, timezone.localdate())
    parts = zipfile.ZipFile(io.BytesIO(data))
    xml = "".join(parts.read(name).decode("utf-8", "replace") for name in parts.namelist())
    text = docx_text(docx_document(data))
    page = client.get(_page_url(timezone.localdate())).content.decode()
    assert world.case.number in text  # the case is there, by its number
    secrets = [*NAMES, *world.ids.values(), *world.phones.values(), "幸福路"]
    for secret in secrets:
        assert secret not in text, secret
        assert secret not in xml, secret
        assert secret not in page, secret


def test_a_town_gets_its_own_towns_report_only(world: Any) -> None:
    today = timezone.localdate()
    data, job = _download(_client(world.town_a), today)
    doc = docx_document(data)
    text = docx_text(doc)
    assert doc.paragraphs[0].text == "乌镇镇新冠肺炎疫情防控工作日报"
    assert "乌镇镇新冠肺炎疫情防控工作指挥部办公室" in text
    assert world.case.number in text
    assert world.case2.number not in text  # town B's case
    assert "濮院镇" not in text and "永越村" not in text
    assert PROBLEMS[0] in text  # its own report's problems
    _assert_same_numbers(doc, situation(user=world.town_a, day=today))
    assert job.scope_path == world.tree.town_a.path

    # Town B may not download town A's report, nor may command (a job is its owner's).
    url = reverse("command:daily_report_download", args=[job.pk])
    assert _client(world.town_b).get(url).status_code == 404
    assert _client(world.command).get(url).status_code == 404
    api = f"/api/command/reports/daily/jobs/{job.pk}/file"
    assert _client(world.town_b).get(api).status_code == 404


@pytest.mark.parametrize(
    ("role", "where"),
    [(Role.COMMUNITY_WORKER, "community_a"), (Role.LAB, "city"), (Role.HOTLINE, "city")],
)
def test_roles_without_report_view_are_refused(
    world: Any, make_user: Any, role: str, where: str, tree: Any
) -> None:
    user = make_user(role, getattr(tree, where))
    client = _client(user)
    today = timezone.localdate().isoformat()
    assert client.get(reverse("command:daily_report", args=[today])).status_code == 403
    assert client.post(reverse("command:daily_report", args=[today])).status_code == 403
    answer = client.post(
        "/api/command/reports/daily", {"day": today}, content_type="application/json"
    )
    assert answer.status_code == 403
    assert answer.json()["code"] == "permission_denied"
    assert not AuditEvent.objects.filter(action="report.generate").exists()


def test_generation_and_download_are_audited_and_the_requester_notified(world: Any) -> None:
    client = _client(world.command)
    today = timezone.localdate()
    started = client.post(_page_url(today))
    job = job_of(started)
    generated = AuditEvent.objects.get(action="report.generate", object_id=str(job.pk))
    assert generated.actor == world.command
    assert generated.detail["day"] == today.isoformat()
    assert not AuditEvent.objects.filter(action="report.download").exists()
    notice = Notification.objects.get(user=world.command, kind="report.ready")
    assert notice.url == f"{_page_url(today)}?job={job.pk}"
    assert "日报已生成" in notice.title
    assert not Notification.objects.filter(kind="report.ready").exclude(user=world.command)

    client.get(reverse("command:daily_report_download", args=[job.pk]))
    downloaded = AuditEvent.objects.get(action="report.download")
    assert downloaded.object_id == str(job.pk) and downloaded.actor == world.command


def test_the_api_starts_the_job_and_downloads_the_file(world: Any) -> None:
    client = _client(world.command)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    answer = client.post(
        "/api/command/reports/daily",
        {"day": yesterday.isoformat()},
        content_type="application/json",
    )
    assert answer.status_code == 202
    job = answer.json()
    assert job["state"] == "done" and job["has_file"]
    assert job["result"]["day"] == yesterday.isoformat()
    assert (
        job["result"]["cases_new"] == situation(user=world.command, day=yesterday)["cases"]["new"]
    )
    status = client.get(f"/api/jobs/{job['id']}")
    assert status.status_code == 200 and status.json()["state"] == "done"

    file = client.get(f"/api/command/reports/daily/jobs/{job['id']}/file")
    assert file.status_code == 200
    assert file["Content-Type"] == DOCX
    doc = docx_document(file.content)
    assert f"{yesterday.year}年{yesterday.month}月{yesterday.day}日" in docx_text(doc)
    assert AuditEvent.objects.filter(action="report.download", object_id=str(job["id"])).exists()


def test_a_date_to_come_or_a_bad_date_is_refused(world: Any) -> None:
    client = _client(world.command)
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    page = client.get(reverse("command:daily_report", args=[tomorrow]))
    assert page.status_code == 400
    answer = client.post(
        "/api/command/reports/daily", {"day": tomorrow}, content_type="application/json"
    )
    assert answer.status_code == 400 and answer.json()["code"] == "report_day_future"
    bad = client.get(
        reverse("command:daily_report", args=["2022-13-40"]), HTTP_ACCEPT="application/json"
    )
    assert bad.status_code == 400
    assert not AuditEvent.objects.filter(action="report.generate").exists()


def test_the_report_of_today_is_one_click_away(world: Any) -> None:
    client = _client(world.command)
    today = client.get(reverse("command:daily_report_today"))
    assert today.status_code == 302
    assert today["Location"] == _page_url(timezone.localdate())
    picked = client.get(reverse("command:daily_report_today"), {"day": "2022-07-02"})
    assert picked["Location"] == _page_url(dt.date(2022, 7, 2))


def test_the_page_reads_a_bounded_number_of_queries_whatever_the_towns(
    world: Any, tree: Any
) -> None:
    """The towns' due hours come from one rule-set query for every town (not one per
    town, three times over); more towns add no query to the page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fangkong.testkit.fixtures import _node

    client = _client(world.command)
    today = timezone.localdate()
    client.get(_page_url(today))  # sessions, the resolver and templates warm
    with CaptureQueriesContext(connection) as before:
        first = client.get(_page_url(today))
    for n in range(3):
        _node("town", f"{tree.city.path}2{n:02d}", f"新增镇{n}", tree.city)
    with CaptureQueriesContext(connection) as after:
        more = client.get(_page_url(today))

    assert first.status_code == more.status_code == 200
    assert "新增镇2" in more.content.decode()  # the new towns are on the page, as missing
    assert len(after) == len(before) <= 40
    rulesets = [q for q in after.captured_queries if "protocol_ruleset" in q["sql"]]
    assert len(rulesets) <= 4  # the town reports three times over, one other; never per town
