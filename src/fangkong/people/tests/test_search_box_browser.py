"""The people search box shows its whole hint on a desktop and on a phone (issue 11)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from fangkong.accounts import services
from fangkong.accounts.roles import Role

# The hint's width in the box's own font, against the room the box gives its text.
FITS = """() => {
  const box = document.querySelector('[data-testid=person-search]');
  const style = getComputedStyle(box);
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = style.font;
  const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return [ctx.measureText(box.placeholder).width, room];
}"""


@pytest.mark.browser
def test_the_search_hint_is_not_cut(
    transactional_db: None, live_server: Any, browser_page: Any, tree: Any
) -> None:
    services.user_create(
        username="li", password="pw-Fangkong-2022", role=Role.COMMAND, jurisdiction=tree.city
    )
    page = browser_page
    page.goto(live_server.url + reverse("accounts:login"))
    page.fill("#id_username", "li")
    page.fill("#id_password", "pw-Fangkong-2022")
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")

    widths = {}
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(live_server.url + reverse("people:list"))
        widths[width] = page.evaluate(FITS)

    assert all(text <= room for text, room in widths.values()), widths
