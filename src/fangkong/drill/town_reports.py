"""The towns' daily reports of the outbreak's days (听取汇报), played through
`command.services.town_reports` with each town's drill account.

Every town reports every day at a moment of its own: most in the afternoon before the
rule set's hour (18:00), some late in the evening, and on each day one or two towns not
at all (the overdue board and the side-by-side page show them missing). The outbreak's
town (乌镇镇) reports the most problems and needs. Seeded by the city's seed and the day,
so a replay writes the same."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from fangkong.accounts.roles import Role
from fangkong.areas import selectors as area_selectors
from fangkong.areas.choices import Level
from fangkong.command.services import town_reports as services
from fangkong.core.paths import is_under
from fangkong.drill.models import DrillCity
from fangkong.drill.scenario import WUZHEN, at, drill_actor

MISSING_SHARE = 0.12
LATE_SHARE = 0.2

PROGRESS = (
    "完成辖区全员核酸采样 {sampled} 人，应检尽检；"
    "排查外省返乡人员 {returned} 人，均已落实“三天两检”。",
    "组织 {teams} 支采样队下沉村社，重点人群核酸 {sampled} 人；"
    "落实重点场所扫码测温，检查经营场所 {places} 家。",
    "完成第 {round} 轮区域核酸，采样 {sampled} 人；协查推送名单 {pushed} 人，已全部落位管控。",
)
OUTBREAK_PROGRESS = (
    "封控区实行“足不出户、上门服务”，完成封控区核酸 {sealed} 人；管控区 {controlled} 人；"
    "协查推送密接、次密接 {pushed} 人，已转运集中隔离 {placed} 人。"
)
PROBLEMS = (
    "封控区生活物资配送力量不足，部分居民反映蔬菜配送不及时",
    "集中隔离点房间紧张，剩余可用房间不足 10 间",
    "采样人员连续作业，已出现体力透支，需轮换",
    "部分独居老人、行动不便人员需上门采样，人手紧张",
    "转运车辆不足，夜间转运等待时间较长",
    "外省返乡人员信息核查工作量大，部分电话无法接通",
    "个别小区卡口值守力量薄弱，夜间存在人员进出",
    "抗原试剂库存仅够使用 2 天",
    "部分商户对场所码查验不到位，需加强督导",
    "居家隔离人员心理疏导需求增多",
)
OUTBREAK_PROBLEMS = (
    "封控区内慢性病患者配药需求集中，需协调医疗机构开通绿色通道",
    "密接人员转运与隔离点接收衔接不畅，等待时间超过 4 小时",
)
NEEDS: tuple[dict[str, Any], ...] = (
    {"kind": "supplies", "item": "N95 口罩", "quantity": 5000, "unit": "只"},
    {"kind": "supplies", "item": "防护服", "quantity": 800, "unit": "套"},
    {"kind": "supplies", "item": "抗原检测试剂", "quantity": 3000, "unit": "份"},
    {"kind": "staff", "item": "采样人员", "quantity": 20, "unit": "人"},
    {"kind": "staff", "item": "志愿者（物资配送）", "quantity": 30, "unit": "人"},
    {"kind": "vehicles", "item": "负压转运车", "quantity": 2, "unit": "辆"},
    {"kind": "sites", "item": "集中隔离房间", "quantity": 50, "unit": "间"},
    {"kind": "other", "item": "心理咨询热线坐席支持", "quantity": None, "unit": ""},
)


def _moment(rnd: random.Random, on_date: dt.date, late: bool) -> dt.datetime:
    if late:
        return at(on_date, 18, 0) + dt.timedelta(minutes=rnd.randint(10, 200))
    return at(on_date, 15, 0) + dt.timedelta(minutes=rnd.randint(0, 175))


def town_reports_day(city: DrillCity, day: int, on_date: dt.date) -> dict[str, int]:
    """The towns' reports of `on_date` (outbreak day `day`). Returns how many were
    submitted on time, late, and left missing."""
    rnd = random.Random(f"{city.seed}-town-reports-{day}")  # noqa: S311 (a drill, not secrets)
    paths = [
        row["path"]
        for row in area_selectors.jurisdiction_rows_at_level(level=Level.TOWN)
        if is_under(row["path"], city.root_path)
    ]
    towns = list(area_selectors.jurisdictions_at(paths=paths, level=Level.TOWN).values())
    towns.sort(key=lambda t: t.path)
    counts = {"on_time": 0, "late": 0, "missing": 0}
    # One or two towns other than the outbreak's do not report (a different one each day).
    others = [t for t in towns if t.path != WUZHEN]
    missing = set()
    if others:
        k = max(1, round(len(others) * MISSING_SHARE)) if len(others) > 2 else 0
        missing = {t.path for t in rnd.sample(others, min(k, len(others)))}
    for town in towns:
        if town.path in missing:
            counts["missing"] += 1
            continue
        late = town.path != WUZHEN and rnd.random() < LATE_SHARE
        actor = drill_actor(f"drill-town-{town.path[-3:]}", Role.TOWN_STAFF, town)
        values = {
            "sampled": rnd.randint(8, 60) * 1000,
            "returned": rnd.randint(20, 300),
            "teams": rnd.randint(4, 20),
            "places": rnd.randint(30, 200),
            "round": day + 1,
            "pushed": rnd.randint(3, 40),
            "sealed": rnd.randint(300, 1200),
            "controlled": rnd.randint(2000, 8000),
            "placed": rnd.randint(3, 30),
        }
        if town.path == WUZHEN:
            progress = OUTBREAK_PROGRESS.format(**values)
            problems = [*OUTBREAK_PROBLEMS, *rnd.sample(PROBLEMS, 2)]
            needs = rnd.sample(NEEDS, 3)
        else:
            progress = rnd.choice(PROGRESS).format(**values)
            problems = rnd.sample(PROBLEMS, rnd.randint(0, 2))
            needs = rnd.sample(NEEDS, rnd.randint(0, 2))
        services.town_report_submit(
            actor=actor,
            town_path=town.path,
            day=on_date,
            progress=progress,
            problems=problems,
            needs=needs,
            now=_moment(rnd, on_date, late),
        )
        counts["late" if late else "on_time"] += 1
    return counts
