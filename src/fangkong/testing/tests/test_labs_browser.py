"""In a real browser: a lab user imports a results file with one positive pool; a
community worker then sees the recheck tasks of that pool's persons."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from fangkong.testing.models import Hold, Recheck
from fangkong.testkit import testing
from fangkong.testkit.shell import nav_click
from fangkong.testkit.worlds.labs import build_world, received_tube, results_csv


def _login(page: Any, live_server: Any, user: Any) -> None:
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


@pytest.mark.browser
def test_lab_imports_a_positive_pool_and_community_sees_rechecks(
    transactional_db: None,
    live_server: Any,
    browser_page: Any,
    tree: Any,
    make_user: Any,
    tmp_path: Any,
) -> None:
    world = build_world(tree, make_user)
    received_tube(world, world.persons_a, barcode="TAPOS1")
    received_tube(world, world.persons_b, barcode="TBNEG1")
    path = tmp_path / "results.csv"
    path.write_bytes(
        results_csv(
            [
                ("TAPOS1", "阳性", 27.5, 29.0, "2022-07-10 14:00"),
                ("TBNEG1", "阴性", "", "", "2022-07-10 14:00"),
            ]
        )
    )
    page = browser_page

    _login(page, live_server, world.lab_user)
    page.goto(f"{live_server.url}/testing/lab/results/")
    page.set_input_files("[data-testid=results-file]", str(path))
    page.click("[data-testid=results-import] button[type=submit]")
    report = page.locator("[data-testid=import-report]")
    report.wait_for()
    assert report.locator("[data-figure=positives] .kpi-value").inner_text() == "1"
    assert report.locator("[data-figure=holds] .kpi-value").inner_text() == "10"
    assert report.locator("[data-figure=rechecks] .kpi-value").inner_text() == "10"
    assert Hold.objects.count() == 10 and Recheck.objects.count() == 10

    _login(page, live_server, world.community_a)
    page.goto(f"{live_server.url}/")
    nav_click(page, "rechecks")
    rows = page.locator("[data-testid=recheck-row]")
    rows.first.wait_for()
    assert rows.count() == 10
    assert "甲*号" in rows.first.inner_text()
    page.wait_for_function(
        "() => (document.querySelector('time.countdown') || {}).textContent?.startsWith('剩余')"
    )

    _login(page, live_server, world.community_b)
    page.goto(f"{live_server.url}/testing/rechecks/")
    assert page.locator("[data-testid=recheck-row]").count() == 0


@pytest.mark.browser
def test_sampler_packs_a_box_and_the_lab_receives_it(
    transactional_db: None, live_server: Any, browser_page: Any, tree: Any, make_user: Any
) -> None:
    from fangkong.testing.models import Tube

    world = build_world(tree, make_user)
    testing.tube(world.round, world.point, world.persons_a[:5], barcode="TPK1")
    testing.tube(world.round, world.point, world.persons_a[5:], barcode="TPK2")
    page = browser_page

    _login(page, live_server, world.sampler)
    page.goto(f"{live_server.url}/testing/boxes/")
    page.fill("[data-testid=box-barcode]", "BOXB1")
    page.select_option("[data-testid=box-lab]", str(world.lab.pk))
    page.click("[data-testid=box-create] button[type=submit]")
    # One mistyped barcode among good ones: the good ones are packed, the bad one is
    # named with its reason and kept in the text area to correct.
    page.fill("[data-testid=tube-barcodes]", "TPK1\nTPK-TYPO\ntpk2")
    page.click("[data-testid=box-scan] button[type=submit]")
    assert page.locator("[data-testid=box-tubes] li").count() == 2
    rejected = page.locator("[data-testid=box-rejected-row]")
    assert rejected.count() == 1 and "TPK-TYPO" in rejected.inner_text()
    assert rejected.get_attribute("data-code") == "tube_not_found"
    assert page.input_value("[data-testid=tube-barcodes]") == "TPK-TYPO"
    assert set(Tube.objects.filter(box__barcode="BOXB1").values_list("barcode", flat=True)) == {
        "TPK1",
        "TPK2",
    }
    page.click("[data-testid=box-hand-over] button[type=submit]")
    assert page.locator("[data-testid=box-state]").inner_text() == "已交接"

    _login(page, live_server, world.lab_user)
    page.goto(f"{live_server.url}/testing/lab/receive/")
    assert page.locator("[data-testid=incoming-row]").count() == 1
    page.fill("[data-testid=receive-barcode]", "BOXB1")
    page.click("[data-testid=box-receive] button[type=submit]")
    page.locator(".flash").first.wait_for()
    assert "已接收转运箱 BOXB1" in page.locator(".flash").first.inner_text()
    assert set(Tube.objects.values_list("state", flat=True)) == {"received"}
