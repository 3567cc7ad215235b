"""Builders of command's tests: one item of each kind of deadline the apps register
(core.deadlines), made through the apps' services, in town A, with the neighbours it
must never leak to (a list pushed to town B, a second site).

`overdue_world(tree, make_user)` builds:
  push_a / push_b   the lists pushed for the pushes world's case to town A and town B
  case              that case (reported now: its core facts are due in hours)
  recheck           a recheck of a person of community A (a positive pool of ten)
  site / site_b     two quarantine sites in town A
  rectification     a rectification at `site` whose deadline passed `rectification_days`
                    ago (the inspection was recorded then)
  placement_test    a scheduled test at `site`, due days ago and not taken (now overdue)

Items whose deadline runs from the moment they are made (pushes, rechecks, the case) are
overdue on the board at a later `now` (`LATER`); the selectors take the clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from .actors import actor_or_admin
from .clock import TZ

# Every push, recheck and case deadline has passed this long after they are made.
LATER = dt.timedelta(days=3)


def later() -> dt.datetime:
    """The board's clock for the tests: three days on, at 10:00 in Shanghai. Every push,
    recheck and case deadline made now has passed by then, and no town's daily report of
    that day is due yet (the rule sets' hour is 18:00), whatever the time the suite runs."""
    day = timezone.localtime(timezone.now() + LATER, TZ).date()
    return dt.datetime.combine(day, dt.time(10), tzinfo=TZ)


@dataclass
class OverdueWorld:
    tree: Any
    pushes: Any  # testkit.worlds.pushes.World (command, investigator, town_a, town_b ...)
    labs: Any  # testkit.worlds.labs.World (lab users, community workers ...)
    push_a: Any
    push_b: Any
    case: Any
    recheck: Any
    site: Any
    site_b: Any
    site_staff: Any
    site_b_staff: Any
    rectification: Any
    placement_test: Any

    @property
    def command(self) -> Any:
        return self.pushes.command

    @property
    def town_a(self) -> Any:
        return self.pushes.town_a

    @property
    def town_b(self) -> Any:
        return self.pushes.town_b


def overdue_world(tree: Any, make_user: Any, *, rectification_days: int = 3) -> OverdueWorld:
    from fangkong.quarantine.models import PlacementTest
    from fangkong.testing.models import Recheck
    from fangkong.testing.services.results import results_import_file
    from fangkong.tracing.services.pushes import pushes_create_for_case

    from .quarantine_care import checked_in, placed_since
    from .quarantine_inspections import inspection, site, site_staff
    from .worlds import labs as labs_world
    from .worlds import pushes as pushes_world

    pw = pushes_world.build_world(tree, make_user)
    pushed = pushes_create_for_case(actor=pw.command, case=pw.case)
    push_a = next(p for p in pushed if p.jurisdiction_path == tree.town_a.path)
    push_b = next(p for p in pushed if p.jurisdiction_path == tree.town_b.path)

    lw = labs_world.build_world(tree, make_user)
    tube = labs_world.received_tube(lw, lw.persons_a, barcode="TAPOS")
    data = labs_world.results_csv([("TAPOS", "阳性", 28.5, 30.1, "2022-07-10 14:00")])
    results_import_file(actor=lw.lab_user, data=data, filename="positive.csv")
    recheck = Recheck.objects.filter(source_tube=tube).order_by("pk").first()

    where = site(tree.community_a, "东方隔离酒店")
    other = site(tree.community_a, "西湖隔离酒店")
    moment = timezone.now() - dt.timedelta(days=rectification_days)
    found = inspection(where, failed={"A01": "选址距居民区过近"}, now=moment)
    rectification = found.findings.get(passed=False).rectification

    placement = placed_since(where, days_ago=8)
    checked_in(placement)
    today = timezone.localdate()
    test = (
        PlacementTest.objects.filter(placement=placement, due_on__lt=today, tube__isnull=True)
        .order_by("due_on", "pk")
        .first()
    )
    if recheck is None or test is None:
        raise AssertionError("the overdue world lacks a recheck or an overdue test")
    return OverdueWorld(
        tree=tree,
        pushes=pw,
        labs=lw,
        push_a=push_a,
        push_b=push_b,
        case=pw.case,
        recheck=recheck,
        site=where,
        site_b=other,
        site_staff=site_staff(where),
        site_b_staff=site_staff(other),
        rectification=rectification,
        placement_test=test,
    )


def push_done(push: Any, *, actor: Any) -> None:
    """Every person of the list marked controlled (centralised) by the town."""
    from fangkong.tracing.models import PushItemStatus
    from fangkong.tracing.services.pushes import push_item_mark

    for item in push.items.order_by("pk"):
        push_item_mark(actor=actor, item=item, status=PushItemStatus.CENTRALISED)


def investigation_done(case: Any, *, actor: Any = None) -> Any:
    """The case's core facts, one stop confirmed, and the report complete."""
    from fangkong.tracing.services.cases import case_complete_report, case_record_core_facts

    from .tracing import stop

    who = actor_or_admin(actor)
    case_record_core_facts(actor=who, case=case, symptoms="无")
    start = dt.datetime.combine(case.lookback_start, dt.time(10, 0), tzinfo=TZ)
    stop(case, None, start, confirmed=True, actor=who)
    case.refresh_from_db()
    return case_complete_report(actor=who, case=case, interview_notes="访谈完成")
