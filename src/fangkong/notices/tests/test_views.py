"""The inbox page and its actions, over real HTTP: one's own notifications only (another's
is 404, as one that does not exist), newest first, unread marked and filtered, marked
read one by one (also by opening) or all at once by POST with the CSRF token; the bell in
every signed-in page's header."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from fangkong.notices import selectors, services
from fangkong.testkit import notices

pytestmark = pytest.mark.django_db

INBOX = "/notices/"


def _client(user: Any, **kwargs: Any) -> Client:
    c = Client(**kwargs)
    c.force_login(user)
    return c


def _titles(html: str) -> list[str]:
    return re.findall(r'class="notice-title"[^>]*>([^<]+)<', html)


def test_the_inbox_shows_the_user_s_own_newest_first_unread_marked(
    town_a_user: Any, town_b_user: Any
) -> None:
    _first, second, _third = notices.notifications(town_a_user, 3)
    notices.notification(town_b_user, title="濮院镇的通知")
    services.notification_mark_read(actor=town_a_user, notification=second)

    response = _client(town_a_user).get(INBOX)

    assert response.status_code == 200
    html = response.content.decode()
    assert _titles(html) == ["通知 3", "通知 2", "通知 1"]
    assert "濮院镇的通知" not in html
    assert html.count('data-unread="1"') == 2
    assert "2 条未读" in html


def test_the_unread_filter_and_the_pages(town_a_user: Any) -> None:
    made = notices.notifications(town_a_user, 35)
    for n in made[:10]:
        services.notification_mark_read(actor=town_a_user, notification=n)
    c = _client(town_a_user)

    first = c.get(INBOX)
    titles = _titles(first.content.decode())
    assert len(titles) == 30 and titles[0] == "通知 35"
    cursor = re.search(r'cursor=([^"&]+)" data-testid="inbox-next"', first.content.decode())
    assert cursor is not None
    rest = _titles(c.get(INBOX, {"cursor": cursor.group(1)}).content.decode())
    assert rest == [f"通知 {i}" for i in range(5, 0, -1)]

    unread = _titles(c.get(INBOX, {"unread": "1"}).content.decode())
    assert len(unread) == 25 and "通知 10" not in unread and unread[-1] == "通知 11"


def test_opening_marks_read_and_goes_to_its_page(town_a_user: Any) -> None:
    n = notices.notification(town_a_user, url="/tracing/pushes/")
    response = _client(town_a_user).get(reverse("notices:open", args=[n.pk]))
    assert response.status_code == 302 and response["Location"] == "/tracing/pushes/"
    n.refresh_from_db()
    assert n.read_at is not None


def test_a_notification_without_a_page_opens_the_inbox(town_a_user: Any) -> None:
    n = notices.notification(town_a_user, url="https://evil.example/")
    response = _client(town_a_user).get(reverse("notices:open", args=[n.pk]))
    assert response["Location"] == INBOX


def test_another_user_s_notification_is_not_found_and_stays_unread(
    town_a_user: Any, town_b_user: Any
) -> None:
    other = notices.notification(town_b_user)
    c = _client(town_a_user)
    assert c.get(reverse("notices:open", args=[other.pk])).status_code == 404
    assert c.post(reverse("notices:mark_read", args=[other.pk])).status_code == 404
    assert c.get(reverse("notices:open", args=[2**63 - 1])).status_code == 404
    other.refresh_from_db()
    assert other.read_at is None


def test_mark_one_read_by_post_returns_to_the_inbox_page(town_a_user: Any) -> None:
    n, keep = notices.notifications(town_a_user, 2)
    c = _client(town_a_user)
    assert c.get(reverse("notices:mark_read", args=[n.pk])).status_code == 405
    response = c.post(reverse("notices:mark_read", args=[n.pk]), {"next": INBOX + "?unread=1"})
    assert response.status_code == 302 and response["Location"] == INBOX + "?unread=1"
    n.refresh_from_db()
    keep.refresh_from_db()
    assert n.read_at is not None and keep.read_at is None
    off_site = c.post(reverse("notices:mark_read", args=[keep.pk]), {"next": "https://evil/"})
    assert off_site["Location"] == INBOX


def test_mark_all_read_needs_the_csrf_token(town_a_user: Any, town_b_user: Any) -> None:
    notices.notifications(town_a_user, 3)
    notices.notifications(town_b_user, 1)
    strict = _client(town_a_user, enforce_csrf_checks=True)
    assert strict.post(reverse("notices:mark_all_read")).status_code == 403
    assert selectors.unread_count(user=town_a_user) == 3

    page = strict.get(INBOX).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    response = strict.post(
        reverse("notices:mark_all_read"), {"csrfmiddlewaretoken": token.group(1)}
    )
    assert response.status_code == 302
    assert selectors.unread_count(user=town_a_user) == 0
    assert selectors.unread_count(user=town_b_user) == 1


def test_anonymous_users_are_sent_to_the_login(town_a_user: Any) -> None:
    n = notices.notification(town_a_user)
    c = Client()
    for url in (INBOX, reverse("notices:open", args=[n.pk])):
        response = c.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert c.post(reverse("notices:mark_all_read")).status_code == 302
    n.refresh_from_db()
    assert n.read_at is None


def test_every_signed_in_page_has_the_bell_with_the_unread_count(
    town_a_user: Any, town_b_user: Any
) -> None:
    notices.notifications(town_a_user, 2)
    html = _client(town_a_user).get("/").content.decode()
    bell = re.search(r'<a class="notice-bell[^>]*>.*?</a>', html, re.S)
    assert bell is not None
    assert 'data-testid="notice-count">2</span>' in bell.group(0)
    assert "消息通知：2 条未读" in bell.group(0)
    assert 'data-poll-url="/api/notices/unread"' in bell.group(0)
    other = _client(town_b_user).get("/").content.decode()
    assert 'data-testid="notice-count" hidden>0</span>' in other
    assert "notice-bell" not in Client().get("/accounts/login/").content.decode()


def test_the_bell_says_99_plus_past_99(town_a_user: Any) -> None:
    notices.notifications(town_a_user, 100)
    html = _client(town_a_user).get(INBOX).content.decode()
    assert 'data-testid="notice-count">99+</span>' in html


def test_every_role_has_its_own_inbox(tree: Any, make_user: Any, town_a_user: Any) -> None:
    from fangkong.accounts.roles import Role

    notices.notification(town_a_user, title="乌镇镇的通知")
    for role in Role:
        user = make_user(role, tree.city)
        notices.notification(user, title=f"给{role.value}的通知")
        html = _client(user).get(INBOX).content.decode()
        assert _titles(html) == [f"给{role.value}的通知"], role
