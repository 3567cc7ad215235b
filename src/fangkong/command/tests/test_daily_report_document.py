"""The daily report as a Word document: laid out as a government document (GB/T
9704-2012: A4, margins, 2号 小标宋 title, 3号 仿宋 body, numbered sections 一、（一）1.,
bordered tables, issuing body and date at the foot), from a report's data alone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from fangkong.command.documents.daily_report import (
    chinese_numeral,
    outline_text,
    report_docx,
    report_outline,
)
from fangkong.command.selectors.daily_report import CaseRow, OverdueRow, ReportData, TownReport
from fangkong.testkit.reports import docx_document, docx_table, docx_text, table_by_label

DAY = dt.date(2022, 7, 3)


def _figures() -> dict[str, Any]:
    return {
        "scope_path": "330483",
        "scope_name": "桐乡市",
        "day": DAY,
        "computed_at": None,
        "cases": {
            "new": 3,
            "total": 7,
            "new_confirmed": 1,
            "new_asymptomatic": 2,
            "total_confirmed": 3,
            "total_asymptomatic": 4,
            "source_known": 6,
            "source_unknown": 1,
        },
        "contacts": {
            "close": {"found": 41, "pushed": 40, "controlled_24h": 38, "placed": 35, "released": 2},
            "secondary": {
                "found": 17,
                "pushed": 16,
                "controlled_24h": 15,
                "placed": 9,
                "released": 0,
            },
            "risk": {"found": 230, "pushed": 0, "controlled_24h": 0, "placed": 0, "released": 0},
        },
        "pushes": {"open": 2, "open_overdue": 1, "on_time": 5, "late": 1},
        "testing": {
            "round": {
                "id": 1,
                "name": "乌镇镇第1轮",
                "target": 1000,
                "sampled": 950,
                "resulted": 900,
                "positives": 1,
            },
            "rechecks_due": 4,
        },
        "quarantine": {
            "rooms": 300,
            "occupied": 120,
            "reserved": 6,
            "free": 174,
            "placed": 44,
            "released": 3,
        },
        "zones": [
            {"id": 1, "name": "虹桥村", "level": "sealed", "days": 2, "since": 3, "state": "active"}
        ],
        "zones_by_level": {"sealed": 1, "controlled": 2, "precaution": 1},
        "supplies_low": 2,
        "overdue": 5,
        "curve": {"dates": [], "onset": [], "report": []},
        "events": [],
    }


def _data(**overrides: Any) -> ReportData:
    values: dict[str, Any] = {
        "day": DAY,
        "scope_path": "330483",
        "scope_name": "桐乡市",
        "issuer": "桐乡市新冠肺炎疫情防控工作指挥部办公室",
        "title": "桐乡市新冠肺炎疫情防控工作日报",
        "figures": _figures(),
        "cases": [
            CaseRow("C-0001", "乌镇镇", "虹桥村", "无症状感染者", "社会面筛查发现", "来源明确"),
            CaseRow("C-0002", "濮院镇", "永越村", "确诊病例", "隔离管控中发现", "来源明确"),
        ],
        "overdue": [
            OverdueRow("乌镇镇", 3, dt.datetime(2022, 7, 2, 10, tzinfo=dt.UTC), "推送核查")
        ],
        "overdue_total": 3,
        "towns": [
            TownReport("乌镇镇", True, "迟报", None, "完成全员采样", ["采样人员不足"], []),
            TownReport("濮院镇", False, "未报送", None, "", [], []),
        ],
    }
    values.update(overrides)
    return ReportData(**values)


def test_numbers_in_words_for_sections() -> None:
    assert [chinese_numeral(n) for n in (1, 8, 10, 11, 20, 23)] == [
        "一",
        "八",
        "十",
        "十一",
        "二十",
        "二十三",
    ]


@pytest.mark.django_db
def test_the_document_is_an_a4_government_document() -> None:
    doc = docx_document(report_docx(_data()))

    section = doc.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(0.1)
    assert abs(section.page_height - Mm(297)) < Mm(0.1)
    assert abs(section.top_margin - Mm(37)) < Mm(0.1)
    assert abs(section.bottom_margin - Mm(35)) < Mm(0.1)
    assert abs(section.left_margin - Mm(28)) < Mm(0.1)
    assert abs(section.right_margin - Mm(26)) < Mm(0.1)

    title = doc.paragraphs[0]
    assert title.text == "桐乡市新冠肺炎疫情防控工作日报"
    run = title.runs[0]
    assert run.font.size == Pt(22)  # 2号
    assert run.font.name == "方正小标宋简体"
    assert run._element.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体"
    assert title.alignment == 1  # centred

    body = [p for p in doc.paragraphs if p.text.startswith("2022年7月3日0—24时")]
    assert len(body) == 1
    assert body[0].runs[0].font.size == Pt(16)  # 3号
    assert body[0].runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"

    texts = [p.text for p in doc.paragraphs]
    firsts = [t for t in texts if t[:2] in {f"{chinese_numeral(n)}、" for n in range(1, 11)}]
    assert [t[:2] for t in firsts] == [f"{chinese_numeral(n)}、" for n in range(1, 9)]
    assert "（一）新增病例情况" in texts
    assert "（一）乌镇镇（迟报）" in texts
    assert "1.工作进展：完成全员采样" in texts
    assert "2.困难和问题：采样人员不足" in texts
    assert "3.需求：无" in texts
    heading = next(p for p in doc.paragraphs if p.text == "一、疫情总体情况")
    assert heading.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"

    # Issuing body and date at the foot, right-aligned.
    assert texts[-2:] == ["桐乡市新冠肺炎疫情防控工作指挥部办公室", "2022年7月3日"]
    assert doc.paragraphs[-1].alignment == 2
    # Page numbers in the footer (a PAGE field).
    assert "PAGE" in doc.sections[0].footer.paragraphs[0]._element.xml

    # Tables have borders (the Table Grid style) and hold the figures.
    assert all(t.style.name == "Table Grid" for t in doc.tables)
    contacts = table_by_label(docx_table(doc, "类别"))
    assert contacts["密切接触者"] == ["41", "40", "38", "35", "2"]
    assert contacts["时空伴随者"][0] == "230"
    cases = docx_table(doc, "序号")
    assert [r[1] for r in cases] == ["C-0001", "C-0002"]
    assert "未报送日报的镇街：濮院镇。" in docx_text(doc)


@pytest.mark.django_db
def test_the_outline_says_when_there_is_nothing_to_list() -> None:
    figures = _figures()
    figures["testing"] = {"round": None, "rechecks_due": 0}
    figures["zones"] = []
    text = outline_text(report_outline(_data(figures=figures, cases=[], overdue=[], towns=[])))
    assert "当日无新增病例。" in text
    assert "当前无进行中的核酸检测轮次。" in text
    assert "无镇街日报。" in text
    assert "另有" not in text
    more = outline_text(report_outline(_data(cases_more=5)))
    assert "另有5例未逐一列出。" in more


@pytest.mark.django_db
def test_a_day_not_over_is_as_of_the_figures_time_and_towns_not_due_are_not_missing() -> None:
    from django.utils import timezone

    tz = timezone.get_default_timezone()
    computed = timezone.make_aware(dt.datetime.combine(DAY, dt.time(15, 5)), tz)
    figures = _figures()
    figures["computed_at"] = computed
    data = _data(
        figures=figures,
        generated_at=computed,
        towns=[
            TownReport("乌镇镇", True, "按时报送", None, "完成全员采样", [], []),
            TownReport("梧桐街道", False, "未报送", None, "", [], [], not_due=True),
            TownReport("崇福镇", False, "未报送", None, "", [], [], not_due=True),
            TownReport("洲泉镇", False, "未报送", None, "", [], []),
        ],
    )
    text = outline_text(report_outline(data))
    assert "2022年7月3日0时至15:05，桐乡市新增" in text
    assert "截至2022年7月3日15:05，累计报告病例" in text
    assert "24时" not in text
    # Only the town past the hour is missing; the two not yet due are counted apart.
    assert "未报送日报的镇街：洲泉镇。" in text
    assert "梧桐街道" not in text and "崇福镇" not in text
    assert "另有2个镇街的日报未到报送时限。" in text
    # A day that is over: 0—24时 and 24时, whatever the figures' time after it.
    figures["computed_at"] = computed + dt.timedelta(days=1)
    over = outline_text(report_outline(_data(figures=figures)))
    assert "2022年7月3日0—24时，" in over and "截至2022年7月3日24时，" in over
    # The pushed lists as a partition, with the open ones past the deadline apart.
    assert "推送核查名单按时完成" in over and "（其中已超时" in over
