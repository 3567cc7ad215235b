"""The towns' daily reports of the outbreak's days: written through the service, most on
time, some late, one or two towns missing, the outbreak's town with the most problems;
and command's delete-under removes them."""

from __future__ import annotations

import pytest

from fangkong.command.models import TownReport
from fangkong.command.services.town_reports import command_town_reports_delete_under
from fangkong.drill.city import drill_city_build
from fangkong.drill.outbreak import WUZHEN, drill_outbreak

pytestmark = pytest.mark.django_db


def test_each_played_day_has_the_towns_reports_some_late_some_missing(db: None) -> None:
    drill_city_build(population=1500, days=5, seed=11)
    [report] = drill_outbreak(through_day=0)
    counts = report.summary["town_reports"]
    written = TownReport.objects.filter(day=report.on_date)
    assert written.count() == counts["on_time"] + counts["late"] > 0
    assert counts["missing"] >= 1
    assert sum(1 for r in written if r.late) == counts["late"]
    wuzhen = written.get(town_path=WUZHEN)
    assert not wuzhen.late and wuzhen.problems.count() >= 3
    assert all(p.text for p in wuzhen.problems.all())
    # The city's rebuild deletes them through command's own service.
    assert command_town_reports_delete_under(WUZHEN) == 1
    left = TownReport.objects.filter(day=report.on_date).count()
    assert left == counts["on_time"] + counts["late"] - 1
