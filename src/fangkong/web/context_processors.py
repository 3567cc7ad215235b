"""Navigation by role: each entry appears only for users whose role has its capability,
in the menus of its group (web.navigation)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from fangkong.web.navigation import nav_groups, nav_items, resolve, shown_key


def navigation(request: HttpRequest) -> dict[str, Any]:
    """`nav_items` for the page shell (flat), the role's leads and the menus by group
    (`nav_leads`, `nav_groups`), what the rendered menus depend on (`nav_cache_key`),
    the search page's URL, and the logout URL when the accounts app has one.

    Never raises: an entry whose page is not wired yet is simply not shown.
    """
    user = getattr(request, "user", None)
    authenticated = bool(user is not None and getattr(user, "is_authenticated", False))
    items = nav_items(request) if authenticated else []
    search_url = resolve("web:search") if authenticated else None
    active = next((item["key"] for item in items if item["active"]), "")
    return {
        "nav_items": items,
        # base.html keeps the rendered menus per kind of account and current section.
        "nav_cache_key": f"{shown_key(user)}:{active}" if authenticated else "",
        "nav_leads": [item for item in items if item["lead"]],
        "nav_groups": nav_groups(items),
        # Not on the search page itself, which has its own box.
        "nav_search_url": search_url if search_url != request.path else None,
        "nav_logout_url": resolve("accounts:logout") if authenticated else None,
        "nav_login_url": None if authenticated else resolve("accounts:login"),
    }
