"""Tasks in the reference outbreak (条块协同), played through command's services.

Day 0, 16:30 — after the first case's lists are pushed and her zones drawn, command
dispatches from her case: the sites on her itinerary checked and disinfected (卫健局 and
乌镇镇, 特急), the sealed zone supplied (商务局 and 乌镇镇, from the sealed zone), a public
notice of her itinerary (宣传部), and the contacts of other towns located with the police
(公安局 and 濮院镇, from the first pushed list). The towns and departments accept within the
hour; 乌镇镇 splits the check to her community.
Day 1 — the community and the towns reply in the morning, command closes what was done
and returns one reply for more figures; the police miss their deadline and the periodic
job escalates their part once (the overdue board shows it).
Later days play nothing more: the tasks stay as they are.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fangkong.accounts.roles import Role
from fangkong.areas.models import Jurisdiction, Zone
from fangkong.command.models import Assignment, Department, Task
from fangkong.command.services import tasks as task_services
from fangkong.core.paths import community_of, town_of, under
from fangkong.drill.clock import drill_clock
from fangkong.drill.models import DrillCity
from fangkong.drill.scenario import at, drill_actor
from fangkong.tracing.models import Case, VerificationPush

TITLE_SITES = "病例活动轨迹涉及场所排查消杀"
TITLE_SUPPLY = "封控区生活物资保障"
TITLE_NOTICE = "发布病例活动轨迹通告"
TITLE_CONTACTS = "协查外镇街密接人员"


def _department_actor(code: str) -> Any:
    department = Department.objects.get(code=code)
    city = Jurisdiction.objects.filter(parent=None).order_by("pk").first()
    user = drill_actor(f"drill-dept-{code}", Role.DEPARTMENT, city)
    if getattr(getattr(user, "department_membership", None), "department_id", None) is None:
        task_services.department_member_set(actor=None, user=user, department=department)
    return user


def _town_actor(path: str) -> Any:
    town = Jurisdiction.objects.get(path=path)
    return drill_actor(f"drill-town-{path}", Role.TOWN_STAFF, town)


def _community_actor(path: str) -> Any:
    community = Jurisdiction.objects.get(path=path)
    return drill_actor(f"drill-community-{path}", Role.COMMUNITY_WORKER, community)


def _part(task: Task, label: str) -> Assignment:
    return Assignment.objects.select_related("task", "parent").get(task=task, assignee_label=label)


def _dispatch_day0(city: DrillCity, on_date: dt.date) -> dict[str, Any]:
    root = Jurisdiction.objects.get(path=city.root_path)
    command = drill_actor("drill-command", Role.COMMAND, root)
    case = Case.objects.filter(under("jurisdiction_path", city.root_path)).order_by("pk").first()
    if case is None:
        return {}
    home = town_of(case.jurisdiction_path)
    home_name = Jurisdiction.objects.get(path=home).name
    ids = {d.code: d.pk for d in Department.objects.filter(active=True)}
    push = (
        VerificationPush.objects.filter(under("jurisdiction_path", city.root_path))
        .exclude(jurisdiction_path__startswith=home)
        .order_by("pk")
        .first()
    )
    sealed = (
        Zone.objects.filter(under("jurisdiction_path", home), level="sealed").order_by("pk").first()
    )
    tomorrow = on_date + dt.timedelta(days=1)
    made: dict[str, Task] = {}
    with drill_clock(at(on_date, 16, 30)):
        made["sites"] = task_services.task_create(
            actor=command,
            title=TITLE_SITES,
            body=(
                f"对病例 {case.number} 活动轨迹涉及的场所逐一排查，落实终末消毒，"
                "场所工作人员纳入重点人群检测。完成后回复场所数和消毒情况。"
            ),
            priority="extra_urgent",
            deadline=at(tomorrow, 12, 0),
            department_ids=[ids["health"]],
            town_paths=[home],
            source_type="case",
            source_id=str(case.pk),
            source_label=case.number,
        )
        made["supply"] = task_services.task_create(
            actor=command,
            title=TITLE_SUPPLY,
            body="封控区内居民生活物资配送到户，设立保供点，公布保供电话。每日回复配送户数。",
            priority="urgent",
            deadline=at(tomorrow, 18, 0),
            department_ids=[ids["commerce"]],
            town_paths=[home],
            source_type="zone" if sealed else "",
            source_id=str(sealed.pk) if sealed else "",
            source_label=sealed.name if sealed else "",
        )
        made["notice"] = task_services.task_create(
            actor=command,
            title=TITLE_NOTICE,
            body=f"发布病例 {case.number} 活动轨迹及风险区划定通告，提醒轨迹重合人员主动报备。",
            priority="urgent",
            deadline=at(on_date, 22, 0),
            department_ids=[ids["publicity"]],
            town_paths=[],
            source_type="case",
            source_id=str(case.pk),
            source_label=case.number,
        )
        if push is not None:
            made["contacts"] = task_services.task_create(
                actor=command,
                title=TITLE_CONTACTS,
                body=(
                    f"协助{push.town.name}核查推送名单 {push.number} 中未找到的人员，"
                    "结果回复指挥部。"
                ),
                priority="urgent",
                deadline=at(tomorrow, 9, 0),
                department_ids=[ids["police"]],
                town_paths=[push.jurisdiction_path],
                source_type="verification_push",
                source_id=str(push.pk),
                source_label=push.number,
            )

    town = _town_actor(home)
    with drill_clock(at(on_date, 17, 0)):
        for key in ("sites", "supply"):
            task_services.assignment_accept(actor=town, assignment=_part(made[key], home_name))
    with drill_clock(at(on_date, 17, 10)):
        task_services.assignment_split(
            actor=town,
            assignment=_part(made["sites"], home_name),
            department_ids=[],
            community_paths=[community_of(case.jurisdiction_path)],
            note="病例所在村社负责居住地周边场所排查",
        )
    with drill_clock(at(on_date, 17, 20)):
        for code, key in (("health", "sites"), ("commerce", "supply"), ("publicity", "notice")):
            actor = _department_actor(code)
            task_services.assignment_accept(
                actor=actor, assignment=_part(made[key], Department.objects.get(code=code).name)
            )
    with drill_clock(at(on_date, 20, 40)):
        task_services.assignment_reply(
            actor=_department_actor("publicity"),
            assignment=_part(made["notice"], "宣传部"),
            text="通告已于 20:30 通过政务新媒体发布，阅读量 3.2 万。",
        )
    with drill_clock(at(on_date, 21, 0)):
        task_services.assignment_close(actor=command, assignment=_part(made["notice"], "宣传部"))
    if "contacts" in made:
        with drill_clock(at(on_date, 17, 30)):
            other = _town_actor(
                made["contacts"].assignments.get(department__isnull=True).jurisdiction_path
            )
            task_services.assignment_accept(
                actor=other, assignment=made["contacts"].assignments.get(department__isnull=True)
            )
    return {"tasks": len(made), "numbers": sorted(t.number for t in made.values())}


def _answer_day1(city: DrillCity, on_date: dt.date) -> dict[str, Any]:
    root = Jurisdiction.objects.get(path=city.root_path)
    command = drill_actor("drill-command", Role.COMMAND, root)
    tasks = {
        t.title: t
        for t in Task.objects.filter(under("jurisdiction_path", city.root_path)).order_by("pk")
    }
    sites = tasks.get(TITLE_SITES)
    if sites is None:
        return {}
    replied = 0
    town_part = sites.assignments.get(parent__isnull=True, department__isnull=True)
    town = _town_actor(town_part.jurisdiction_path)
    with drill_clock(at(on_date, 8, 30)):
        for child in town_part.children.select_related("task", "parent"):
            worker = _community_actor(child.jurisdiction_path)
            task_services.assignment_accept(actor=worker, assignment=child)
            task_services.assignment_reply(
                actor=worker, assignment=child, text="居住地周边 9 处场所已排查，均已完成终末消毒。"
            )
            task_services.assignment_close(actor=town, assignment=child)
            replied += 1
    with drill_clock(at(on_date, 10, 0)):
        task_services.assignment_reply(
            actor=town,
            assignment=town_part,
            text="轨迹涉及场所 14 处已全部排查消杀，场所工作人员 86 人已采样。",
        )
        task_services.assignment_reply(
            actor=_department_actor("health"),
            assignment=_part(sites, "卫健局"),
            text="派出消杀队 3 支，终末消毒已完成，环境采样 42 份均阴性。",
        )
        replied += 2
    with drill_clock(at(on_date, 11, 0)):
        task_services.assignment_close(actor=command, assignment=town_part)
        task_services.assignment_return(
            actor=command, assignment=_part(sites, "卫健局"), note="请补充环境采样点位清单。"
        )
    supply = tasks.get(TITLE_SUPPLY)
    if supply is not None:
        with drill_clock(at(on_date, 17, 0)):
            part = supply.assignments.get(department__isnull=True)
            task_services.assignment_progress(
                actor=town, assignment=part, text="已设保供点 3 个，配送到户 412 户。"
            )
    contacts = tasks.get(TITLE_CONTACTS)
    if contacts is not None:
        with drill_clock(at(on_date, 8, 50)):
            part = contacts.assignments.get(department__isnull=True)
            task_services.assignment_reply(
                actor=_town_actor(part.jurisdiction_path),
                assignment=part,
                text="名单中人员已全部找到并落实管控。",
            )
            replied += 1
    # The periodic job: the police missed the 09:00 deadline.
    with drill_clock(at(on_date, 9, 5)):
        escalated = task_services.assignments_escalate()
    return {"replied": replied, "escalated": escalated}


def command_tasks_day(city: DrillCity, day: int, on_date: dt.date) -> dict[str, Any]:
    """Play the day's part of the tasks; {} on a day that plays none."""
    if day == 0:
        return _dispatch_day0(city, on_date)
    if day == 1:
        return _answer_day1(city, on_date)
    return {}
