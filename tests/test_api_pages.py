"""Every list of the API, walked page by page, gives the same items as one large page.

Each paged GET operation of the published schema (a `Page`: items and next_cursor) is
asked, for each role with a token, once with the largest page and then two items at a
time, following `next_cursor`: the walk must give the same items, in the same order,
each once. Orders by several fields (zones by state, level and date; points by
jurisdiction and name; contacts by class) are where a keyset goes wrong, so this runs
over the drill city rather than a handful of rows.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest
from django.test import Client

from tests.conftest import TOKEN_USERS

pytestmark = pytest.mark.django_db

WALK_SIZE = 2
# Fields counted from each request's clock (how long an item is past its deadline, in
# minutes): a minute may turn during a walk of dozens of pages, so the walk compares the
# items without them.
CLOCK_FIELDS = {"overdue_minutes"}


def _canonical(items: list[Any]) -> list[str]:
    return [
        json.dumps({k: v for k, v in item.items() if k not in CLOCK_FIELDS}, sort_keys=True)
        if isinstance(item, dict)
        else json.dumps(item, sort_keys=True)
        for item in items
    ]


def _paged_operations() -> list[str]:
    from fangkong.api import api

    schema = api.get_openapi_schema()
    components = schema["components"]["schemas"]
    paths = []
    for path, methods in schema["paths"].items():
        answer = methods.get("get", {}).get("responses", {}).get(200, {})
        ref = answer.get("content", {}).get("application/json", {}).get("schema", {})
        name = ref.get("$ref", "").rsplit("/", 1)[-1]
        if name and "next_cursor" in components[name].get("properties", {}):
            paths.append(path)
    return paths


def _urls(path: str, ids: dict[str, list[Any]]) -> list[str]:
    """The path with its parameters filled from the world's real ids (a few of each)."""
    names = re.findall(r"{(\w+)}", path)
    urls = []
    for values in itertools.product(*(ids.get(n, [])[:4] for n in names)):
        url = path
        for name, value in zip(names, values, strict=True):
            url = url.replace(f"{{{name}}}", str(value))
        urls.append(url)
    return urls


def _walk(client: Client, url: str, auth: dict[str, str]) -> tuple[list[Any], list[Any]] | None:
    """(the items of one large page, the items walked two at a time); None when the
    user may not see the list or it is longer than one large page."""
    whole = client.get(url, {"size": 200}, **auth)
    if whole.status_code != 200:
        assert whole.status_code in {403, 404}, (url, whole.content[:200])
        return None
    if whole.json()["next_cursor"] is not None:
        return None
    expected = whole.json()["items"]
    seen: list[Any] = []
    cursor = None
    for _ in range(len(expected) // WALK_SIZE + 2):
        query = {"size": WALK_SIZE, **({"cursor": cursor} if cursor else {})}
        page = client.get(url, query, **auth)
        assert page.status_code == 200, (url, page.content[:200])
        assert len(page.json()["items"]) <= WALK_SIZE
        seen += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return expected, seen
    raise AssertionError(f"the pages of {url} never ended")


def test_every_list_walked_two_at_a_time_gives_the_large_pages_items(api_world: Any) -> None:
    client = Client()
    walked: dict[str, int] = {}

    for template in _paged_operations():
        for url in _urls(template, api_world.ids):
            for username in TOKEN_USERS:
                auth = {"HTTP_AUTHORIZATION": f"Bearer {api_world.tokens[username]}"}
                found = _walk(client, url, auth)
                if found is None:
                    continue
                expected, seen = found
                assert _canonical(seen) == _canonical(expected), (
                    url,
                    username,
                )
                walked[template] = max(walked.get(template, 0), len(expected))

    # The walk met real lists: most lists had more than one page of two.
    assert len(walked) >= 20, sorted(walked)
    assert sum(1 for n in walked.values() if n > WALK_SIZE) >= 14, walked
