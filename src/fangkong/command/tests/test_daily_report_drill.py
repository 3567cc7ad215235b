"""After the drill's days (a synthetic city, the reference outbreak played through the
services): the daily report's .docx holds the dashboard's numbers for the date, for
command and for a town (which sees only its own), and no person of the outbreak is named
in it."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from fangkong.accounts.roles import Role
from fangkong.areas.models import Jurisdiction
from fangkong.command.selectors.figures import situation
from fangkong.command.services.figures import figures_refresh
from fangkong.command.tests.test_daily_report import _assert_same_numbers
from fangkong.core.paths import town_of, under
from fangkong.drill.city import drill_city_build
from fangkong.drill.outbreak import LAST_DAY, drill_outbreak
from fangkong.testkit.reports import daily_report_bytes, docx_document, docx_text
from fangkong.tracing.models import Case, Contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def played(db: None) -> Any:
    city = drill_city_build(population=1500, days=5, seed=11).drill_city
    drill_outbreak(through_day=LAST_DAY)
    figures_refresh()
    return city


def test_the_docx_holds_the_dashboards_numbers_after_the_drill(played: Any, make_user: Any) -> None:
    city = Jurisdiction.objects.filter(level="city").order_by("path").first()
    assert city is not None
    today = timezone.localdate()
    command = make_user(Role.COMMAND, city)
    cases = list(Case.objects.select_related("person").order_by("pk"))
    assert len(cases) >= 2
    busiest = max(
        {town_of(c.jurisdiction_path) for c in cases},
        key=lambda t: sum(1 for c in cases if town_of(c.jurisdiction_path) == t),
    )
    town_user = make_user(Role.TOWN_STAFF, Jurisdiction.objects.get(path=busiest))

    city_doc = docx_document(daily_report_bytes(command, today))
    city_figures = situation(user=command, day=today)
    assert city_figures["cases"]["total"] >= 2
    assert city_figures["contacts"]["close"]["found"] > 0
    _assert_same_numbers(city_doc, city_figures)

    town_doc = docx_document(daily_report_bytes(town_user, today))
    town_figures = situation(user=town_user, day=today)
    assert town_figures["cases"]["total"] > 0
    _assert_same_numbers(town_doc, town_figures)
    town_text = docx_text(town_doc)
    assert town_doc.paragraphs[0].text.startswith(town_figures["scope_name"])
    # The town's report lists only its own new cases.
    other_numbers = Case.objects.exclude(under("jurisdiction_path", busiest)).values_list(
        "number", flat=True
    )
    assert not any(number in town_text for number in other_numbers)
    listed = [row[1] for row in _case_rows(town_doc)]
    assert len(listed) == town_figures["cases"]["new"]

    # Nobody of the outbreak is named: not the cases, not their contacts.
    names = {c.person.name for c in cases}
    names |= set(Contact.objects.values_list("person__name", flat=True)[:200])
    city_text = docx_text(city_doc)
    for name in names:
        assert name not in city_text and name not in town_text, name


def _case_rows(doc: Any) -> list[list[str]]:
    """The new cases' table (headed 序号 … 病例编号), or none when there are none."""
    for table in doc.tables:
        header = [cell.text for cell in table.rows[0].cells]
        if header[:2] == ["序号", "病例编号"]:
            return [[cell.text for cell in row.cells] for row in table.rows[1:]]
    return []
