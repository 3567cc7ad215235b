"""The reference outbreak (DESIGN.md, "The drill"), played day by day through the real
services on a drill city, under the drill clock (drill/clock.py).

Day 0 — a routine screening of hotel staff in 乌镇镇 finds a positive; the case is
reported, its core facts recorded within 4 h, its itinerary proposed from her venue scans
and confirmed; household, co-workers and co-presence contacts are found, secondary
contacts from each close contact; the lists are pushed to the towns with the rule set's
deadline; her community is sealed, the neighbouring communities controlled, the rest of
乌镇镇 a precaution zone; through the night and the next day the towns locate and
control most contacts on time, a few late, a few not found; overdue lists escalate.

Days 1–3 (mass testing: a round of 乌镇镇, a city-wide round with a positive pool
rechecked into a second case, daily rounds of the sealed and controlled zones) are in
drill/mass_testing.py; days 4 to FINAL_DAY screen the sealed and controlled zones daily
in the same way. Every day, quarantine plays its part (drill/quarantine.py): contacts
placed, transferred and checked in, health checks, tests at the sites, fevers, the third
case found at a site on day 5, releases and home monitoring. Zones lifting comes with the
module that plays it. Deterministic for the city's seed; each day is played once
(DrillDay).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from fangkong.accounts.models import User
from fangkong.accounts.roles import Role
from fangkong.areas.models import Jurisdiction, Level, ZoneLevel
from fangkong.areas.services import zones as zone_services
from fangkong.command.services.figures import figures_refresh
from fangkong.core.errors import DomainError
from fangkong.core.paths import community_of, under
from fangkong.drill.clock import drill_clock
from fangkong.drill.command_tasks import command_tasks_day
from fangkong.drill.feedback import town_feedback
from fangkong.drill.mass_testing import play_day1, play_day2, play_day3, play_zone_screening
from fangkong.drill.models import DrillCity, DrillDay
from fangkong.drill.quarantine import quarantine_day
from fangkong.drill.scenario import SHANGHAI, WUZHEN, zones_close_day
from fangkong.drill.scenario import at as _at
from fangkong.drill.scenario import drill_actor as _actor
from fangkong.drill.town_reports import town_reports_day
from fangkong.people.models import Person
from fangkong.tracing.models import CaseKind
from fangkong.tracing.services import cases as case_services
from fangkong.tracing.services import contacts as contact_services
from fangkong.tracing.services import itinerary as itinerary_services
from fangkong.tracing.services import pushes as push_services

HOTEL_WORDS = ("酒店", "民宿")
REPORTING_UNIT = "桐乡市疾病预防控制中心"
LAST_DAY = 3  # the last day `make demo` plays (yesterday with --start auto)
FINAL_DAY = 12  # the last day the drill can play: the second case's contacts' 7 + 3 days
# A played day writes until the next morning: its round closes at 06:00
# (mass_testing._close), after the lab results (01:30) and the zones' day closing.
DAY_WRITES_UNTIL = dt.timedelta(days=1, hours=6)


@dataclass
class DayReport:
    day: int
    on_date: dt.date
    played: bool
    summary: dict[str, Any] = field(default_factory=dict)


def _index_person(rnd: random.Random) -> Person:
    """A hotel worker living in 乌镇镇 (the reference outbreak's first case).

    A read of the drill's own synthetic registry, to pick whom the scenario is about."""
    candidates = list(
        Person.objects.filter(under("jurisdiction_path", WUZHEN))
        .filter(workplace__name__regex="|".join(HOTEL_WORDS))
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )
    if not candidates:
        candidates = list(
            Person.objects.filter(under("jurisdiction_path", WUZHEN))
            .order_by("pk")
            .values_list("pk", flat=True)[:500]
        )
    if not candidates:
        raise DomainError("drill_no_index_person", "演练城市中乌镇镇没有人员")
    return Person.objects.get(pk=rnd.choice(candidates))


def _zones_day0(actor: User, person: Person, case_number: str, on_date: dt.date) -> dict[str, int]:
    community = Jurisdiction.objects.get(path=community_of(person.jurisdiction_path))
    town = Jurisdiction.objects.get(path=WUZHEN)
    neighbours = list(
        Jurisdiction.objects.filter(parent=town, level=Level.COMMUNITY)
        .exclude(pk=community.pk)
        .order_by("path")
    )
    # The communities next to hers in the town's numbering stand for her neighbours.
    position = sorted([*neighbours, community], key=lambda j: j.path).index(community)
    ordered = sorted([*neighbours, community], key=lambda j: j.path)
    controlled = [j for j in ordered[max(0, position - 1) : position + 2] if j != community]
    precaution = zone_services.zone_create(
        actor=actor,
        name=f"{town.name}防范区",
        level=ZoneLevel.PRECAUTION,
        jurisdiction=town,
        member_jurisdictions=[town],
        started_on=on_date,
        reason="演练：乌镇镇发现阳性病例，全镇划为防范区",
    )
    sealed = zone_services.zone_create(
        actor=actor,
        name=f"{community.name}封控区",
        level=ZoneLevel.SEALED,
        jurisdiction=town,
        member_jurisdictions=[community],
        parent=precaution,
        started_on=on_date,
        reason="演练：病例居住地",
    )
    # The case that made the zone is its first: the day does not count, the last case
    # date is today's (a case reported once the zone exists is recorded by tracing).
    zone_services.zone_record_case(
        actor=actor, zone=sealed, on_date=on_date, reason=f"演练：病例 {case_number} 居住于本区"
    )
    if controlled:
        zone_services.zone_create(
            actor=actor,
            name=f"{'、'.join(j.name for j in controlled)}管控区",
            level=ZoneLevel.CONTROLLED,
            jurisdiction=town,
            member_jurisdictions=controlled,
            parent=precaution,
            started_on=on_date,
            reason="演练：病例居住地周边",
        )
    return {"sealed": 1, "controlled": 1 if controlled else 0, "precaution": 1}


# A controlled zone drawn a week before the outbreak in another town (an imported
# cold-chain find, no case since): its counter has the days by day 2, so the screenings
# of days 2 and 3 make the system propose its downgrade to command (the demo shows a
# proposal waiting).
EARLIER_ZONE_DAYS = 8


def _earlier_zone(actor: User, on_date: dt.date) -> int:
    town = (
        Jurisdiction.objects.filter(level=Level.TOWN).exclude(path=WUZHEN).order_by("path").first()
    )
    community = (
        Jurisdiction.objects.filter(parent=town, level=Level.COMMUNITY).order_by("path").first()
        if town is not None
        else None
    )
    if town is None or community is None:
        return 0
    started_on = on_date - dt.timedelta(days=EARLIER_ZONE_DAYS)
    with drill_clock(_at(started_on, 11, 0)):
        zone = zone_services.zone_create(
            actor=actor,
            name=f"{community.name}管控区",
            level=ZoneLevel.CONTROLLED,
            jurisdiction=town,
            member_jurisdictions=[community],
            started_on=started_on,
            reason="演练：进口冷链物品外包装核酸阳性，所在村社划为管控区",
        )
    for k in range(EARLIER_ZONE_DAYS):
        day = started_on + dt.timedelta(days=k)
        with drill_clock(_at(day + dt.timedelta(days=1), 0, 5)):
            zone_services.zone_close_day(actor=None, zone=zone, day=day)
    return 1


def _play_day0(city: DrillCity, on_date: dt.date) -> dict[str, Any]:
    rnd = random.Random(f"fangkong-outbreak:{city.seed}:0")  # noqa: S311 - a reproducible drill
    root = Jurisdiction.objects.get(path=city.root_path)
    command = _actor("drill-command", Role.COMMAND, root)
    investigator = _actor("drill-investigator", Role.INVESTIGATOR, root)
    person = _index_person(rnd)

    with drill_clock(_at(on_date, 10, 0)):
        case = case_services.case_create(
            actor=investigator,
            person=person,
            kind=CaseKind.ASYMPTOMATIC,
            first_positive_sampled_on=on_date,
            reporting_unit=REPORTING_UNIT,
        )
    with drill_clock(_at(on_date, 10, 30)):
        case_services.case_start_investigation(actor=investigator, case=case)
    with drill_clock(_at(on_date, 12, 40)):
        case_services.case_record_core_facts(
            actor=investigator,
            case=case,
            symptoms="无症状",
            vaccination="已完成三剂次接种",
            interview_notes="酒店员工，常规重点人群筛查混管阳性，单管复核阳性。",
        )
    with drill_clock(_at(on_date, 13, 10)):
        stops = itinerary_services.itinerary_propose_from_scans(actor=investigator, case=case)
    with drill_clock(_at(on_date, 13, 50)):
        itinerary_services.itinerary_confirm(actor=investigator, case=case)
    with drill_clock(_at(on_date, 14, 20)):
        found = contact_services.contacts_find_for_case(actor=investigator, case=case)
    with drill_clock(_at(on_date, 14, 50)):
        secondary = contact_services.secondary_contacts_find_for_case(actor=investigator, case=case)
    with drill_clock(_at(on_date, 15, 30)):
        pushes = push_services.pushes_create_for_case(actor=investigator, case=case)
    earlier = _earlier_zone(command, on_date)
    with drill_clock(_at(on_date, 16, 0)):
        zones = _zones_day0(command, person, case.number, on_date)
    zones["earlier_controlled"] = earlier
    with drill_clock(_at(on_date, 21, 30)):
        case_services.case_complete_report(actor=investigator, case=case)

    feedback = town_feedback(rnd, pushes)
    escalated = feedback.pop("escalated_pushes")

    return {
        "case": case.number,
        "person_id": person.pk,
        "itinerary_stops": len(stops),
        "contacts": dict(found.by_class),
        "secondary_contacts": dict(secondary.by_class),
        "pushes": len(pushes),
        "pushed_persons": sum(p.items.count() for p in pushes),
        "feedback": feedback,
        "escalated_pushes": escalated,
        "zones": zones,
    }


PLAYERS: dict[int, Any] = {
    0: _play_day0,
    1: play_day1,
    2: play_day2,
    3: play_day3,
    **{day: play_zone_screening(day) for day in range(LAST_DAY + 1, FINAL_DAY + 1)},
}


def outbreak_day0(city: DrillCity) -> dt.date:
    """Day 0 of the outbreak: the city's last day with venue scans."""
    return city.start + dt.timedelta(days=city.days - 1)


def outbreak_day_on(city: DrillCity, on_date: dt.date) -> int:
    """Which day of the outbreak `on_date` is (0 = the first case; negative before it)."""
    return (on_date - outbreak_day0(city)).days


def start_for_now(*, days: int, now: dt.datetime) -> dt.date:
    """The first scan day of a city whose outbreak is played relative to `now`
    (`fangkong drill city --start auto`): the last played day (LAST_DAY) is yesterday in
    Asia/Shanghai, so every moment the drill writes is in the past and every deadline it
    sets runs from a day or two ago. Before 06:00 yesterday's round still closes this
    morning (DAY_WRITES_UNTIL), so the last played day is the day before yesterday."""
    local = now.astimezone(SHANGHAI)
    last_day = local.date() - dt.timedelta(days=1)
    if _at(last_day, 0) + DAY_WRITES_UNTIL > local:
        last_day -= dt.timedelta(days=1)
    day0 = last_day - dt.timedelta(days=LAST_DAY)
    return day0 - dt.timedelta(days=days - 1)


def _analyze() -> None:
    """On PostgreSQL, the planner's statistics after a played day: a day writes in
    minutes what a city writes in a day, and the next day's queries plan on what the
    tables held before it (autovacuum's ANALYZE follows within a minute in production,
    and may be off on a test machine). SQLite plans without statistics."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def drill_outbreak(*, through_day: int = LAST_DAY) -> list[DayReport]:
    """Play the reference outbreak's days 0..through_day not yet played on the drill city.

    A day whose writes would reach past now (a city built with `--start auto`, asked for
    days after yesterday) is refused: nothing the drill writes is in the future."""
    if through_day < 0 or through_day > FINAL_DAY:
        raise DomainError(
            "drill_day_unknown",
            f"演练目前可进行第 0 至第 {FINAL_DAY} 天",
            through_day=through_day,
        )
    city = DrillCity.objects.order_by("-pk").first()
    if city is None:
        raise DomainError("drill_city_missing", "请先生成演练城市：fangkong drill city")
    day0 = outbreak_day0(city)
    last = day0 + dt.timedelta(days=through_day)
    if _at(last, 0) + DAY_WRITES_UNTIL > timezone.now():
        raise DomainError(
            "drill_day_future",
            f"演练第 {through_day} 天（{last}）尚未过去，不能提前演练",
            through_day=through_day,
            on_date=str(last),
        )
    reports: list[DayReport] = []
    for day in range(through_day + 1):
        on_date = day0 + dt.timedelta(days=day)
        done = DrillDay.objects.filter(city=city, day=day).first()
        if done is not None:
            reports.append(DayReport(day, on_date, played=False, summary=done.summary))
            continue
        with transaction.atomic():
            summary = PLAYERS[day](city, on_date)
            quarantine = quarantine_day(city, day, on_date)
            if quarantine:
                summary["quarantine"] = quarantine
            summary["town_reports"] = town_reports_day(city, day, on_date)
            tasks = command_tasks_day(city, day, on_date)
            if tasks:
                summary["tasks"] = tasks
            # The daily job closes the day on the zones (if the day's play did not).
            summary.setdefault("zone_days_closed", zones_close_day(on_date))
            DrillDay.objects.create(city=city, day=day, on_date=on_date, summary=summary)
        reports.append(DayReport(day, on_date, played=True, summary=summary))
        _analyze()
    # Command's figures at once (the periodic job keeps them after): today's, and
    # yesterday's for the trend.
    today = timezone.localdate()
    for figures_day in (today - dt.timedelta(days=1), today):
        figures_refresh(day=figures_day)
    return reports
