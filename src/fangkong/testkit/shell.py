"""Browser helpers for the page shell: the header's menus (web/navigation.py).

An entry sits in its group's menu (a closed <details>), and on a phone the menus sit in
the 菜单 drawer: a test follows an entry as a user does, opening what holds it first."""

from __future__ import annotations

from typing import Any


def nav_click(page: Any, key: str) -> None:
    """Follow the menu entry `key` (its `data-nav`), opening the drawer and its group's
    menu when they are closed."""
    nav = page.get_by_test_id("main-nav")
    link = nav.locator(f'[data-nav="{key}"]')
    if not link.is_visible():
        drawer = nav.locator("details.nav-drawer")
        toggle = drawer.locator("xpath=./summary")
        if drawer.count() and toggle.is_visible() and drawer.get_attribute("open") is None:
            toggle.click()
        group = link.locator("xpath=ancestor::details[contains(@class, 'nav-group')][1]")
        if group.count() and group.get_attribute("open") is None:
            group.locator("xpath=./summary").click()
    link.click()
