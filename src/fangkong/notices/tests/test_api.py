"""The notices API: my notifications paged newest first, the unread count the bell
polls, marking read; another user's notification is 404, anonymous is 401."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from fangkong.notices import selectors
from fangkong.notices.choices import NoticeKind
from fangkong.testkit import notices

pytestmark = pytest.mark.django_db

API = "/api/notices"


def _client(user: Any, **kwargs: Any) -> Client:
    c = Client(**kwargs)
    c.force_login(user)
    return c


def test_the_list_is_paged_newest_first_and_only_mine(town_a_user: Any, town_b_user: Any) -> None:
    notices.notifications(town_a_user, 5)
    notices.notification(town_b_user, title="别人的")
    c = _client(town_a_user)
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"size": 2}
        if cursor:
            params["cursor"] = cursor
        body = c.get(API, params).json()
        seen += [item["title"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ["通知 5", "通知 4", "通知 3", "通知 2", "通知 1"]


def test_an_item_says_its_kind_page_and_whether_it_is_urgent(command_user: Any) -> None:
    notices.notification(
        command_user, kind=NoticeKind.POSITIVE, title="新增阳性", url="/tracing/cases/1/"
    )
    (item,) = _client(command_user).get(API).json()["items"]
    assert item["kind"] == "positive" and item["urgent"] is True
    assert item["url"] == "/tracing/cases/1/" and item["read_at"] is None


def test_unread_count_and_marking_read(town_a_user: Any, town_b_user: Any) -> None:
    first, second, _third = notices.notifications(town_a_user, 3)
    c = _client(town_a_user)
    assert c.get(f"{API}/unread").json() == {"unread": 3}

    marked = c.post(f"{API}/{first.pk}/read")
    assert marked.status_code == 200 and marked.json()["read_at"] is not None
    assert c.get(f"{API}/unread").json() == {"unread": 2}
    assert c.get(API, {"unread": "true"}).json()["items"][-1]["id"] == second.pk

    assert c.post(f"{API}/read-all").json() == {"marked": 2}
    assert c.get(f"{API}/unread").json() == {"unread": 0}


def test_another_user_s_notification_is_404(town_a_user: Any, town_b_user: Any) -> None:
    other = notices.notification(town_b_user)
    response = _client(town_a_user).post(f"{API}/{other.pk}/read")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert selectors.unread_count(user=town_b_user) == 1


def test_anonymous_gets_401(town_a_user: Any) -> None:
    notices.notification(town_a_user)
    c = Client()
    assert c.get(f"{API}/unread").status_code == 401
    assert c.get(API).status_code == 401
    assert c.post(f"{API}/read-all").status_code == 401
    assert selectors.unread_count(user=town_a_user) == 1


def test_marking_read_by_session_needs_the_csrf_token(town_a_user: Any) -> None:
    n = notices.notification(town_a_user)
    strict = _client(town_a_user, enforce_csrf_checks=True)
    assert strict.get(f"{API}/unread").status_code == 200  # a read needs no token
    response = strict.post(f"{API}/{n.pk}/read")
    assert response.status_code == 403 and response.json()["code"] == "csrf_failed"
    assert strict.post(f"{API}/read-all").status_code == 403
    assert selectors.unread_count(user=town_a_user) == 1


def test_the_unread_count_is_one_query_past_the_login(
    town_a_user: Any, django_assert_max_num_queries: Any
) -> None:
    notices.notifications(town_a_user, 3)
    c = _client(town_a_user)
    c.get(f"{API}/unread")  # warm
    # the session, the user, the count
    with django_assert_max_num_queries(3):
        assert c.get(f"{API}/unread").json() == {"unread": 3}
