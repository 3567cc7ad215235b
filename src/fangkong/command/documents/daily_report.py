"""The daily situation report as a document: one outline, two renderings.

`report_outline(data)` turns a `ReportData` into the report's blocks (numbered headings,
paragraphs, tables) in the order a 通报 has them; `report_docx(data)` writes that outline
as a Word document laid out as a government document (GB/T 9704-2012, DESIGN.md
"Documents officials expect"), and the printable page (`command/daily_report.html`)
renders the same outline. So the page and the .docx say the same words and numbers, and
both take their numbers from `situation()`, as the dashboard does.

Layout (GB/T 9704-2012): A4 (210 × 297 mm); margins top 37 mm, bottom 35 mm, left 28 mm,
right 26 mm; title in 2号 (22 pt) 小标宋, centred; body in 3号 (16 pt) 仿宋 with a first-
line indent of two characters and a fixed line pitch of 28.9 pt (22 lines a page);
section headings 一、 in 黑体, （一） in 楷体, 1. in 仿宋; tables with borders; the
issuing body and the date at the foot, right-aligned; the page number "— 1 —" in 4号
宋体 in the footer. Each Chinese font is named for East-Asian text (`w:eastAsia`), so that
Word (and WPS) use it for the characters, with its own fallback where it is absent.

Pure: values in, bytes out; no database, no clock.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import TextChoices
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.areas.choices import ZoneLevel, ZoneState

if TYPE_CHECKING:
    from docx.text.paragraph import Paragraph as DocxParagraph
    from docx.text.run import Run

    from fangkong.command.selectors.daily_report import ReportData

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# GB/T 9704-2012 in points and millimetres.
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONTS = {1: "黑体", 2: "楷体_GB2312", 3: "仿宋_GB2312"}
PAGE_NUMBER_FONT = "宋体"
TITLE_PT = 22  # 2号
BODY_PT = 16  # 3号
TABLE_PT = 12  # 小4号: a table of seven columns fits the type area
PAGE_NUMBER_PT = 14  # 4号
LINE_PITCH_PT = 28.9  # 22 lines in the 225 mm type area
PAGE_MM = (210, 297)
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}

_NUMERALS = "一二三四五六七八九十"


def chinese_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十 (section numbers)."""
    if n <= 10:
        return _NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else _NUMERALS[tens - 1]
    return head + "十" + (_NUMERALS[ones - 1] if ones else "")


def chinese_date(day: dt.date) -> str:
    return _("%(y)d年%(m)d月%(d)d日") % {"y": day.year, "m": day.month, "d": day.day}


@dataclass(frozen=True)
class Heading:
    level: int  # 1: 一、  2: （一）  3: 1.
    text: str  # with its number


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Table:
    key: str  # what the table holds (data-testid on the page)
    headers: list[str]
    rows: list[list[str]]


Block = Heading | Para | Table


class _Numbering:
    """一、（一）1. numbering: a lower level restarts when a higher one advances."""

    def __init__(self) -> None:
        self.counts = [0, 0, 0]

    def __call__(self, level: int, text: str) -> Heading:
        self.counts[level - 1] += 1
        for lower in range(level, 3):
            self.counts[lower] = 0
        n = self.counts[level - 1]
        if level == 1:
            number = f"{chinese_numeral(n)}、"
        elif level == 2:
            number = f"（{chinese_numeral(n)}）"
        else:
            number = f"{n}."
        return Heading(level, number + text)


def _n(value: Any) -> str:
    """A count as the report writes it (digits; a missing figure as 0)."""
    try:
        return str(int(value or 0))
    except (TypeError, ValueError):
        return "0"


def _percent(part: Any, whole: Any) -> str:
    try:
        p, w = int(part or 0), int(whole or 0)
    except (TypeError, ValueError):
        return "—"
    return f"{100 * p / w:.1f}%" if w else "—"


def _label(choices: type[TextChoices], value: Any) -> str:
    """A code in words (a code the choices do not know, as it is)."""
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def _moment(value: Any) -> str:
    if isinstance(value, dt.datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        return local.strftime("%m-%d %H:%M")
    if isinstance(value, str) and value:
        return value[:16].replace("T", " ")
    return "—"


def _enumerated(items: list[str]) -> str:
    """（1）…；（2）… — or 无."""
    if not items:
        return _("无")
    if len(items) == 1:
        return items[0]
    return "；".join(f"（{n}）{item}" for n, item in enumerate(items, start=1))


def report_period(data: ReportData) -> tuple[str, str]:
    """The span the day's figures cover and the moment they are as of, in words: a day
    that is over is "…0—24时" / "…24时"; a day not over (today) stops at the figures'
    computed time, "…0时至HH:MM" / "…HH:MM" (never 24时 of a day not over)."""
    day = chinese_date(data.day)
    computed = data.figures.get("computed_at")
    end = timezone.make_aware(
        dt.datetime.combine(data.day + dt.timedelta(days=1), dt.time.min),
        timezone.get_default_timezone(),
    )
    as_of = computed if computed is not None else (data.generated_at or timezone.now())
    if as_of >= end:
        return _("%(day)s0—24时") % {"day": day}, _("%(day)s24时") % {"day": day}
    time = timezone.localtime(as_of).strftime("%H:%M")
    return (
        _("%(day)s0时至%(time)s") % {"day": day, "time": time},
        _("%(day)s%(time)s") % {"day": day, "time": time},
    )


def report_outline(data: ReportData) -> list[Block]:
    """The report's blocks, in order (see the module docstring)."""
    f = data.figures
    cases = f.get("cases") or {}
    contacts = f.get("contacts") or {}
    pushes = f.get("pushes") or {}
    testing = f.get("testing") or {}
    quarantine = f.get("quarantine") or {}
    zones_by_level = f.get("zones_by_level") or {}
    heading = _Numbering()
    period, until = report_period(data)
    place = data.scope_name
    out: list[Block] = []

    # 一、疫情总体情况
    out.append(heading(1, _("疫情总体情况")))
    out.append(
        Para(
            _(
                "%(period)s，%(place)s新增新冠肺炎病例%(new)s例，其中确诊病例%(nc)s例、"
                "无症状感染者%(na)s例。截至%(until)s，累计报告病例%(total)s例，其中确诊病例"
                "%(tc)s例、无症状感染者%(ta)s例；来源明确%(sk)s例，来源不明%(su)s例。"
            )
            % {
                "period": period,
                "until": until,
                "place": place,
                "new": _n(cases.get("new")),
                "nc": _n(cases.get("new_confirmed")),
                "na": _n(cases.get("new_asymptomatic")),
                "total": _n(cases.get("total")),
                "tc": _n(cases.get("total_confirmed")),
                "ta": _n(cases.get("total_asymptomatic")),
                "sk": _n(cases.get("source_known")),
                "su": _n(cases.get("source_unknown")),
            }
        )
    )
    out.append(
        Table(
            "cases-summary",
            [_("项目"), _("当日新增"), _("累计")],
            [
                [_("病例合计"), _n(cases.get("new")), _n(cases.get("total"))],
                [
                    _("确诊病例"),
                    _n(cases.get("new_confirmed")),
                    _n(cases.get("total_confirmed")),
                ],
                [
                    _("无症状感染者"),
                    _n(cases.get("new_asymptomatic")),
                    _n(cases.get("total_asymptomatic")),
                ],
            ],
        )
    )
    out.append(heading(2, _("新增病例情况")))
    if data.cases:
        out.append(
            Table(
                "cases",
                [
                    _("序号"),
                    _("病例编号"),
                    _("镇街"),
                    _("村社"),
                    _("类型"),
                    _("发现途径"),
                    _("来源"),
                ],
                [
                    [str(i), c.number, c.town, c.community, c.kind, c.found, c.source]
                    for i, c in enumerate(data.cases, start=1)
                ],
            )
        )
        if data.cases_more:
            out.append(Para(_("另有%(n)d例未逐一列出。") % {"n": data.cases_more}))
    else:
        out.append(Para(_("当日无新增病例。")))

    # 二、风险人员管控情况
    out.append(heading(1, _("风险人员管控情况")))
    kinds = (
        ("close", _("密切接触者")),
        ("secondary", _("次密切接触者")),
        ("risk", _("时空伴随者")),
    )
    close = contacts.get("close") or {}
    out.append(
        Para(
            _(
                "累计判定密切接触者%(found)s人，已推送%(pushed)s人，24小时内落实管控%(c24)s人，"
                "在管%(placed)s人，已解除%(released)s人。"
            )
            % {
                "found": _n(close.get("found")),
                "pushed": _n(close.get("pushed")),
                "c24": _n(close.get("controlled_24h")),
                "placed": _n(close.get("placed")),
                "released": _n(close.get("released")),
            }
        )
    )
    out.append(
        Table(
            "contacts",
            [_("类别"), _("判定"), _("推送"), _("24小时内管控"), _("在管"), _("解除")],
            [
                [
                    label,
                    _n((contacts.get(key) or {}).get("found")),
                    _n((contacts.get(key) or {}).get("pushed")),
                    _n((contacts.get(key) or {}).get("controlled_24h")),
                    _n((contacts.get(key) or {}).get("placed")),
                    _n((contacts.get(key) or {}).get("released")),
                ]
                for key, label in kinds
            ],
        )
    )
    out.append(heading(2, _("推送核查情况")))
    out.append(
        Para(
            _(
                "推送核查名单按时完成%(on_time)s份，超时完成%(late)s份，"
                "尚未完成%(open)s份（其中已超时%(open_overdue)s份）。"
            )
            % {
                "on_time": _n(pushes.get("on_time")),
                "late": _n(pushes.get("late")),
                "open": _n(pushes.get("open")),
                "open_overdue": _n(pushes.get("open_overdue")),
            }
        )
    )

    # 三、隔离管控情况
    out.append(heading(1, _("隔离管控情况")))
    out.append(
        Para(
            _(
                "隔离房间%(rooms)s间，在住%(occupied)s间，预留%(reserved)s间，空闲%(free)s间；"
                "隔离管控中%(placed)s人，已解除隔离%(released)s人。"
            )
            % {
                k: _n(quarantine.get(k))
                for k in ("rooms", "occupied", "reserved", "free", "placed", "released")
            }
        )
    )
    out.append(
        Table(
            "quarantine",
            [_("房间"), _("在住"), _("预留"), _("空闲"), _("隔离管控中"), _("已解除隔离")],
            [
                [
                    _n(quarantine.get(k))
                    for k in ("rooms", "occupied", "reserved", "free", "placed", "released")
                ]
            ],
        )
    )

    # 四、核酸检测情况
    out.append(heading(1, _("核酸检测情况")))
    rnd = testing.get("round")
    if rnd:
        out.append(
            Para(
                _(
                    "%(name)s应检%(target)s人，已采样%(sampled)s人（%(coverage)s），已出结果"
                    "%(resulted)s人，阳性%(positives)s人。"
                )
                % {
                    "name": rnd.get("name", ""),
                    "target": _n(rnd.get("target")),
                    "sampled": _n(rnd.get("sampled")),
                    "coverage": _percent(rnd.get("sampled"), rnd.get("target")),
                    "resulted": _n(rnd.get("resulted")),
                    "positives": _n(rnd.get("positives")),
                }
            )
        )
        out.append(
            Table(
                "testing",
                [_("轮次"), _("应检"), _("已采样"), _("已出结果"), _("阳性")],
                [
                    [
                        str(rnd.get("name", "")),
                        _n(rnd.get("target")),
                        _n(rnd.get("sampled")),
                        _n(rnd.get("resulted")),
                        _n(rnd.get("positives")),
                    ]
                ],
            )
        )
    else:
        out.append(Para(_("当前无进行中的核酸检测轮次。")))
    out.append(
        Para(_("待单管复核%(n)s管。") % {"n": _n(testing.get("rechecks_due"))}),
    )

    # 五、风险区域管控情况
    out.append(heading(1, _("风险区域管控情况")))
    out.append(
        Para(
            _("现有封控区%(sealed)s个、管控区%(controlled)s个、防范区%(precaution)s个。")
            % {k: _n(zones_by_level.get(k)) for k in ("sealed", "controlled", "precaution")}
        )
    )
    zones = list(f.get("zones") or [])
    if zones:
        out.append(
            Table(
                "zones",
                [_("序号"), _("区域"), _("等级"), _("划定天数"), _("无新增病例天数"), _("状态")],
                [
                    [
                        str(i),
                        str(z.get("name", "")),
                        _label(ZoneLevel, z.get("level")),
                        _n(z.get("since")),
                        _n(z.get("days")),
                        _label(ZoneState, z.get("state")),
                    ]
                    for i, z in enumerate(zones, start=1)
                ],
            )
        )

    # 六、防疫物资保障情况
    out.append(heading(1, _("防疫物资保障情况")))
    low = f.get("supplies_low")
    low_count = len(low) if isinstance(low, list | tuple) else low
    out.append(Para(_("低于预警线的物资%(n)s项。") % {"n": _n(low_count)}))

    # 七、超时未办事项
    out.append(heading(1, _("超时未办事项")))
    out.append(Para(_("超时未办事项共%(n)s项。") % {"n": _n(f.get("overdue"))}))
    if data.overdue:
        listed = sum(g.count for g in data.overdue)
        if listed < int(f.get("overdue") or 0):
            out.append(Para(_("下表按责任单位列出其中超时最久的%(n)d项。") % {"n": listed}))
        out.append(
            Table(
                "overdue",
                [_("责任单位"), _("事项数"), _("最早时限"), _("事项类别")],
                [[g.owner, str(g.count), _moment(g.oldest), g.kinds] for g in data.overdue],
            )
        )

    # 八、镇街工作进展和问题
    out.append(heading(1, _("镇街工作进展和问题")))
    submitted = [t for t in data.towns if t.submitted]
    missing = [t.town for t in data.towns if not t.submitted and not t.not_due]
    not_due = [t.town for t in data.towns if not t.submitted and t.not_due]
    if not data.towns:
        out.append(Para(_("无镇街日报。")))
    for town in submitted:
        out.append(heading(2, f"{town.town}（{town.state}）" if town.state else town.town))
        none = _("无")
        out.append(heading(3, _("工作进展：%(text)s") % {"text": town.progress or none}))
        out.append(heading(3, _("困难和问题：%(text)s") % {"text": _enumerated(town.problems)}))
        out.append(heading(3, _("需求：%(text)s") % {"text": _enumerated(town.needs)}))
    if missing:
        out.append(Para(_("未报送日报的镇街：%(towns)s。") % {"towns": "、".join(missing)}))
    if not_due:
        out.append(Para(_("另有%(n)d个镇街的日报未到报送时限。") % {"n": len(not_due)}))
    return out


def report_subtitle(data: ReportData) -> str:
    """The line under the title: the date the figures are of."""
    return _("（%(day)s）") % {"day": chinese_date(data.day)}


# --- Word --------------------------------------------------------------------------------------


def _font(run: Run, name: str, size_pt: float, *, bold: bool = False) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = name
    run.font.size = Pt(size_pt)
    run.font.bold = bold
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)


def _line(paragraph: DocxParagraph, *, indent: bool = False, exact: bool = True) -> None:
    from docx.enum.text import WD_LINE_SPACING
    from docx.shared import Pt

    fmt = paragraph.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    if exact:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(LINE_PITCH_PT)
    if indent:
        fmt.first_line_indent = Pt(BODY_PT * 2)


def _page_number_footer(section: Any) -> None:
    """ "— N —" centred in the footer (a PAGE field)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(paragraph.add_run("— "), PAGE_NUMBER_FONT, PAGE_NUMBER_PT)
    run = paragraph.add_run()
    _font(run, PAGE_NUMBER_FONT, PAGE_NUMBER_PT)
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), ("end", None)):
        if kind is None:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        else:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        run._element.append(element)
    _font(paragraph.add_run(" —"), PAGE_NUMBER_FONT, PAGE_NUMBER_PT)


def _table(document: Any, table: Table) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    made = document.add_table(rows=1 + len(table.rows), cols=len(table.headers))
    made.style = "Table Grid"  # single borders on every cell
    made.alignment = WD_TABLE_ALIGNMENT.CENTER
    for r, values in enumerate([table.headers, *table.rows]):
        for c, value in enumerate(values):
            cell = made.cell(r, c)
            paragraph = cell.paragraphs[0]
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(paragraph.add_run(value), HEADING_FONTS[1] if r == 0 else BODY_FONT, TABLE_PT)


def report_docx(data: ReportData) -> bytes:
    """The report as a .docx (see the module docstring for the layout)."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    section.top_margin = Mm(MARGINS_MM["top"])
    section.bottom_margin = Mm(MARGINS_MM["bottom"])
    section.left_margin = Mm(MARGINS_MM["left"])
    section.right_margin = Mm(MARGINS_MM["right"])
    _page_number_footer(section)
    core = document.core_properties
    core.title = data.title
    core.author = data.issuer

    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _line(title, exact=False)
    _font(title.add_run(data.title), TITLE_FONT, TITLE_PT)
    subtitle = document.add_paragraph()
    subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _line(subtitle)
    _font(subtitle.add_run(report_subtitle(data)), HEADING_FONTS[2], BODY_PT)

    for block in report_outline(data):
        if isinstance(block, Heading):
            paragraph = document.add_paragraph()
            _line(paragraph, indent=True)
            _font(paragraph.add_run(block.text), HEADING_FONTS[block.level], BODY_PT)
        elif isinstance(block, Para):
            paragraph = document.add_paragraph()
            _line(paragraph, indent=True)
            _font(paragraph.add_run(block.text), BODY_FONT, BODY_PT)
        else:
            _table(document, block)

    document.add_paragraph()  # a blank line before the foot
    for text in (data.issuer, chinese_date(data.day)):
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _line(paragraph)
        _font(paragraph.add_run(text), BODY_FONT, BODY_PT)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def report_filename(data: ReportData) -> str:
    return _("%(place)s疫情防控工作日报-%(day)s.docx") % {
        "place": data.scope_name,
        "day": data.day.isoformat(),
    }


def outline_text(blocks: Iterable[Block]) -> str:
    """The outline as plain text (tests and logs)."""
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Table):
            lines.extend(" | ".join(row) for row in [block.headers, *block.rows])
        else:
            lines.append(block.text)
    return "\n".join(lines)
