"""Every linked figure of the dashboard equals the count of the list its link opens:
the pushed lists (open, of them overdue, done on time, done late: a partition), the
contacts table's pushed and controlled-within-24h cells, and the zone tiles by level,
for command (the city) and for a town (its own rows only)."""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from fangkong.accounts.roles import Role
from fangkong.areas.models import Jurisdiction
from fangkong.command.selectors.figures import situation
from fangkong.command.services.figures import figures_refresh
from fangkong.core.paths import town_of, under
from fangkong.drill.city import drill_city_build
from fangkong.drill.outbreak import LAST_DAY, drill_outbreak
from fangkong.tracing.models import Case, VerificationPush

pytestmark = pytest.mark.django_db

# The row each list draws per object, to count them over every page.
ROW = {
    "/tracing/pushes/": 'data-testid="push-row"',
    "/tracing/contacts/": 'data-testid="contact-row"',
    "/areas/": "<tr data-zone=",
}


def _play() -> Any:
    drill_city_build(population=1500, days=5, seed=11)
    drill_outbreak(through_day=LAST_DAY)
    figures_refresh()
    return Jurisdiction.objects.filter(level="city").order_by("path").first()


def _list_count(client: Client, url: str) -> int:
    """How many rows the list at `url` shows, over every page."""
    marker = next(m for prefix, m in ROW.items() if url.split("?")[0].endswith(prefix))
    n = 0
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        n += body.count(marker)
        nxt = re.search(r'<a href="(\?[^"]+)" data-testid="next-page"', body)
        url = url.split("?")[0] + html_lib.unescape(nxt.group(1)) if nxt else ""
        pages += 1
        assert pages < 200
    return n


def _linked(page: str, figure: str, within: str = "") -> tuple[str, int]:
    """(href, number) of the link marked data-figure=`figure` (inside the block whose
    opening tag carries `within`, when given)."""
    if within:
        start = page.index(within)
        page = page[start : page.index("</tr>", start)] if "<tr" in within else page[start:]
    found = re.search(
        rf'<a href="([^"]+)" data-figure="{re.escape(figure)}"[^>]*>(\d+)</a>', page
    ) or re.search(
        rf'data-figure="{re.escape(figure)}">\s*<div[^>]*>[^<]*</div>\s*'
        r'<div class="kpi-value"><a href="([^"]+)">(\d+)</a>',
        page,
    )
    assert found, figure
    return html_lib.unescape(found.group(1)), int(found.group(2))


def _check_page(client: Client, figures: dict[str, Any]) -> None:
    page = client.get(reverse("command:dashboard")).content.decode()
    pushes = figures["pushes"]
    seen = {}
    for figure, key in (
        ("pushes-open", "open"),
        ("pushes-open-overdue", "open_overdue"),
        ("pushes-on-time", "on_time"),
        ("pushes-late", "late"),
    ):
        href, n = _linked(page, figure)
        assert n == pushes[key], figure
        assert _list_count(client, href) == n, (figure, href)
        seen[key] = n
    # A partition: open, done on time and done late make every list the user sees.
    assert seen["open"] + seen["on_time"] + seen["late"] == _list_count(
        client, reverse("tracing:push_list")
    )
    assert seen["open_overdue"] <= seen["open"]
    for key in ("close", "secondary", "risk"):
        row = f'<tr data-contacts="{key}">'
        for figure in ("found", "pushed", "controlled_24h", "placed", "released"):
            href, n = _linked(page, figure, within=row)
            assert n == figures["contacts"][key][figure], (key, figure)
            assert _list_count(client, href) == n, (key, figure, href)
    for level in ("sealed", "controlled", "precaution"):
        href, n = _linked(page, f"zones-{level}")
        assert f"level={level}" in href
        assert n == figures["zones_by_level"][level]
        assert _list_count(client, href) == n, (level, href)


def test_each_linked_figure_is_the_count_of_its_list(db: None, make_user: Any) -> None:
    city = _play()
    command = make_user(Role.COMMAND, city)
    client = Client()
    client.force_login(command)
    figures = situation(user=command)
    # The drill made lists done on time, done late and open, and zones.
    assert figures["pushes"]["open"] + figures["pushes"]["on_time"] > 0
    assert figures["contacts"]["close"]["pushed"] > 0
    assert sum(figures["zones_by_level"].values()) > 0
    assert VerificationPush.objects.count() == sum(
        figures["pushes"][k] for k in ("open", "on_time", "late")
    )
    _check_page(client, figures)

    # A town: its own figures, its own lists.
    by_town: dict[str, int] = {}
    for path in Case.objects.filter(under("jurisdiction_path", city.path)).values_list(
        "jurisdiction_path", flat=True
    ):
        by_town[town_of(path)] = by_town.get(town_of(path), 0) + 1
    busiest = max(by_town, key=lambda t: by_town[t])
    town_user = make_user(Role.TOWN_STAFF, Jurisdiction.objects.get(path=busiest))
    town_client = Client()
    town_client.force_login(town_user)
    town_figures = situation(user=town_user)
    assert town_figures["contacts"]["close"]["found"] < figures["contacts"]["close"]["found"]
    _check_page(town_client, town_figures)

    # The push list's completion filter on its own, against the base table.
    pushes = VerificationPush.objects.filter(status="done")
    on_time = sum(1 for p in pushes if p.completed_at and p.completed_at <= p.deadline)
    late = sum(1 for p in pushes if p.completed_at and p.completed_at > p.deadline)
    url = reverse("tracing:push_list")
    assert _list_count(client, f"{url}?completion=on_time") == on_time
    assert _list_count(client, f"{url}?completion=late") == late
    # An unknown value is ignored (the whole list), never a 500.
    assert _list_count(client, f"{url}?completion=bogus") == VerificationPush.objects.count()
