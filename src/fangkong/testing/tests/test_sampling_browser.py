"""In a real browser: a sampler registers two tubes with the network off, reloads the page
offline (served by the service worker), goes back online and sees them synced."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from fangkong.people.models import Person
from fangkong.testing.models import Sample, Tube, TubeState
from fangkong.testing.services.sampling import sampling_sync
from fangkong.testkit.worlds.sampling import build_world, new_ric

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page: Any, live_server: Any, user: Any) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def _register(page: Any, number: str, walk_in: tuple[str, str] | None = None) -> None:
    page.get_by_test_id("person-id").fill(number)
    if walk_in:
        page.get_by_test_id("walk-in-toggle").check()
        page.get_by_test_id("walk-in-name").fill(walk_in[0])
        page.get_by_test_id("walk-in-phone").fill(walk_in[1])
    page.get_by_test_id("person-add").click()


def _open_tube(page: Any, barcode: str) -> None:
    page.get_by_test_id("tube-barcode").fill(barcode)
    page.get_by_test_id("tube-open").click()
    page.get_by_test_id("current-barcode").filter(has_text=barcode).wait_for()


def _status_bar_on_top(page: Any) -> bool:
    """Whether the sync status bar is inside the viewport and the topmost element there."""
    return bool(
        page.evaluate(
            """() => {
              const bar = document.querySelector('[data-testid=sync-status]');
              const r = bar.getBoundingClientRect();
              if (r.top < 0 || r.bottom > window.innerHeight) return false;
              const hit = document.elementFromPoint(r.left + 4, r.top + r.height / 2);
              return bar.contains(hit);
            }"""
        )
    )


def _close_tube(page: Any) -> None:
    """Close the current tube and wait until the phone has stored the close (the panel
    of the current tube hides only after the tube is written to IndexedDB)."""
    page.get_by_test_id("tube-close").click()
    page.get_by_test_id("current-tube").wait_for(state="hidden")


def test_a_sampler_registers_two_tubes_offline_and_they_sync_when_back_online(
    live_server: Any, browser_page: Any, tree: Any
) -> None:
    world = build_world(tree, persons=4)
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    _login(page, live_server, world.sampler)
    console: list[Any] = []
    page.on("console", lambda message: console.append(message))
    page.goto(live_server.url + "/testing/sampling/")
    assert page.get_by_test_id("point-name").inner_text() == world.point.place.name
    # The service worker has cached the page and its assets and controls the page.
    page.wait_for_function(
        "() => navigator.serviceWorker && navigator.serviceWorker.controller !== null"
    )

    page.context.set_offline(True)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=network]').dataset.online === '0'"
    )
    # Pool sizes read in words, as elsewhere in the app.
    assert "单人单管" in page.get_by_test_id("pool-size-select").inner_text()
    assert "10混1" in page.get_by_test_id("pool-size-select").inner_text()
    _open_tube(page, "E2E-OFF-1")
    # Offline, the phone cannot know what other phones put in the tube: it says so.
    assert "只含本机" in page.get_by_test_id("current-count-note").inner_text()
    # The walk-in's name and phone show only once 临时人员 is ticked; the box keeps its size.
    assert page.get_by_test_id("walk-in-fields").is_hidden()
    assert page.get_by_test_id("walk-in-toggle").bounding_box()["width"] < 30
    page.get_by_test_id("walk-in-toggle").check()
    assert page.get_by_test_id("walk-in-name").is_visible()
    page.get_by_test_id("walk-in-toggle").uncheck()
    assert page.get_by_test_id("walk-in-fields").is_hidden()
    _register(page, world.rics[world.persons[0].pk])
    _register(page, world.rics[world.persons[1].pk])
    _close_tube(page)
    _open_tube(page, "E2E-OFF-2")
    _register(page, world.rics[world.persons[2].pk])
    _register(page, new_ric(), walk_in=("孙过路", "13700002222"))
    page.wait_for_function("() => document.getElementById('sampler').dataset.pending === '4'")
    # Scrolled to the bottom, the network and pending bar is on screen and nothing covers it.
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    assert page.evaluate("() => window.scrollY") > 0
    assert _status_bar_on_top(page)
    assert page.get_by_test_id("pending-count").inner_text() == "4"
    _close_tube(page)

    page.wait_for_function("() => document.getElementById('sampler').dataset.pending === '4'")
    assert page.get_by_test_id("synced-count").inner_text() == "0"
    assert Sample.objects.count() == 0 and Tube.objects.count() == 0

    # Still offline, the page reloads from the service worker's cache; the queue is kept.
    page.reload()
    page.wait_for_function("() => document.getElementById('sampler').dataset.pending === '4'")
    assert page.get_by_test_id("pending-count").inner_text() == "4"

    page.context.set_offline(False)
    page.wait_for_function(
        "() => document.getElementById('sampler').dataset.synced === '4'", timeout=30000
    )
    assert page.get_by_test_id("pending-count").inner_text() == "0"
    assert page.get_by_test_id("synced-count").inner_text() == "4"
    assert page.get_by_test_id("network").get_attribute("data-online") == "1"
    assert Tube.objects.filter(state=TubeState.CLOSED).count() == 2
    assert set(Tube.objects.values_list("barcode", flat=True)) == {"E2E-OFF-1", "E2E-OFF-2"}
    assert Sample.objects.count() == 4
    assert Sample.objects.filter(tube__barcode="E2E-OFF-1").count() == 2
    walk_in = Person.objects.get(name="孙过路")
    assert Sample.objects.get(person=walk_in).walk_in is True

    # Online, a tube another phone started: the page counts what the server holds, and
    # a person the round sampled before is stored but flagged.
    held = world.tube([world.sample(world.persons[3])], barcode="E2E-HELD-1")
    sampling_sync(actor=world.sampler, tubes=[held])
    _open_tube(page, "E2E-HELD-1")
    assert page.get_by_test_id("current-fill").inner_text() == "1"
    assert page.get_by_test_id("current-pool").inner_text() == "10"
    assert page.get_by_test_id("current-count-note").inner_text() == ""
    _register(page, world.rics[world.persons[0].pk])
    page.wait_for_function("() => document.getElementById('sampler').dataset.synced === '5'")
    assert page.get_by_test_id("current-fill").inner_text() == "2"
    assert "此人本轮已在其他试管采样" in page.get_by_test_id("person-error").inner_text()
    # Opening a new tube online asks the server too, and that is no failed request.
    _open_tube(page, "E2E-NEW-3")
    assert page.get_by_test_id("current-fill").inner_text() == "0"
    assert page.get_by_test_id("current-count-note").inner_text() == ""
    assert not [m for m in console if m.type == "error"], console
    row = page.locator('[data-testid=tube-log] tr[data-barcode="E2E-HELD-1"]')
    assert "复检 1" in row.inner_text()
    assert row.locator("td").nth(1).inner_text() == "2 / 10"
    assert Sample.objects.filter(tube__barcode="E2E-HELD-1").count() == 2
