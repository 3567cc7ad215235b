"""People pages: search list (htmx), detail with reveal, registration form, household, export."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from fangkong.accounts.models import AuditEvent
from fangkong.people import services
from fangkong.people.models import Person

from .conftest import make_ric


@pytest.fixture
def a_client(client: Client, town_a_user: Any) -> Client:
    client.force_login(town_a_user)
    return client


def export_rows(response: Any) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_list_page_is_masked(a_client: Client, people: Any) -> None:
    response = a_client.get(reverse("people:list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "张*" in html and "138****5678" in html
    assert "张三" not in html and people.a_id not in html and people.a_phone not in html
    assert "李*" not in html


def test_list_htmx_returns_the_results_only(a_client: Client, people: Any) -> None:
    response = a_client.get(reverse("people:list"), {"q": "zs"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'data-testid="person-results"' in html and "<html" not in html
    assert "张*" in html


def test_list_page_renders_the_search_of_its_url(
    a_client: Client, people: Any, tree: Any, person_maker: Any
) -> None:
    person_maker(tree.community_a, "王五")
    html = a_client.get(reverse("people:list"), {"q": "张"}).content.decode()
    assert "<html" in html and 'value="张"' in html
    assert "张*" in html and "王*" not in html


def test_search_pushes_its_query_into_the_url_but_never_a_number(
    a_client: Client, people: Any
) -> None:
    url = reverse("people:list")
    response = a_client.post(url, {"q": "张"}, HTTP_HX_REQUEST="true")
    assert response["HX-Push-Url"] == url + "?q=%E5%BC%A0"
    response = a_client.post(url, {"q": people.a_id}, HTTP_HX_REQUEST="true")
    assert "张*" in response.content.decode()  # the audited exact lookup found her
    assert response["HX-Push-Url"] == url  # the number stays out of the address


def test_list_next_page(a_client: Client, tree: Any, person_maker: Any) -> None:
    for i in range(55):
        person_maker(tree.community_a, f"王{i}")
    html = a_client.get(reverse("people:list")).content.decode()
    assert html.count('data-testid="person-row"') == 50
    assert 'data-testid="next-page"' in html and "下一页" in html


def test_list_page_query_count(
    a_client: Client, tree: Any, person_maker: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(30):
        person_maker(tree.community_a, f"王{i}")
    with django_assert_max_num_queries(6):
        response = a_client.get(reverse("people:list"))
    assert response.content.decode().count('data-testid="person-row"') == 30


def test_bad_cursor_is_shown_not_500(a_client: Client, people: Any) -> None:
    response = a_client.get(reverse("people:list"), {"cursor": "!!"})
    assert response.status_code == 400
    assert "分页游标无效" in response.content.decode()


def test_detail_shows_masked_and_reveal_buttons(a_client: Client, people: Any) -> None:
    html = a_client.get(reverse("people:detail", args=[people.a.pk])).content.decode()
    assert 'data-testid="reveal-id_number"' in html and 'data-testid="reveal-phone"' in html
    assert people.a_id not in html and people.a_phone not in html
    assert people.a.id_masked in html


def test_reveal_fragment_and_audit(a_client: Client, people: Any, town_a_user: Any) -> None:
    response = a_client.post(reverse("people:reveal", args=[people.a.pk]), {"field": "id_number"})
    assert response.status_code == 200
    assert f'data-testid="revealed-id_number">{people.a_id}<' in response.content.decode()
    event = AuditEvent.objects.get(action="person.reveal")
    assert (event.actor, event.field, event.object_id) == (
        town_a_user,
        "id_number",
        str(people.a.pk),
    )


def test_reveal_needs_post(a_client: Client, people: Any) -> None:
    assert a_client.get(reverse("people:reveal", args=[people.a.pk])).status_code == 405
    assert not AuditEvent.objects.filter(action="person.reveal").exists()


def test_create_page(a_client: Client, tree: Any) -> None:
    form = a_client.get(reverse("people:create")).content.decode()
    assert "虹桥村" in form and "永越村" not in form
    response = a_client.post(
        reverse("people:create"),
        {
            "name": "赵六",
            "id_kind": "ric",
            "id_number": make_ric(61),
            "phone": "",
            "jurisdiction": tree.grid_a.pk,
        },
    )
    person = Person.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "people:detail", args=[person.pk]
    )


def test_create_page_shows_errors_inline(a_client: Client, tree: Any) -> None:
    response = a_client.post(
        reverse("people:create"),
        {
            "name": "赵六",
            "id_kind": "ric",
            "id_number": "110105194912310021",
            "jurisdiction": tree.grid_a.pk,
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-code="id_bad_checksum"' in html and "身份证号码校验位错误" in html
    assert 'value="赵六"' in html
    assert Person.objects.count() == 0


def test_create_duplicate_links_to_existing(a_client: Client, people: Any, tree: Any) -> None:
    response = a_client.post(
        reverse("people:create"),
        {
            "name": "张三",
            "id_kind": "ric",
            "id_number": people.a_id,
            "jurisdiction": tree.community_a.pk,
        },
    )
    html = response.content.decode()
    assert 'data-code="person_exists"' in html
    assert reverse("people:detail", args=[people.a.pk]) in html


def test_household_page(a_client: Client, tree: Any, people: Any, town_a_user: Any) -> None:
    household = services.household_create(
        actor=town_a_user, address="虹桥村8号", community=tree.community_a
    )
    services.household_add_member(actor=town_a_user, household=household, person=people.a)
    html = a_client.get(reverse("people:household", args=[household.pk])).content.decode()
    assert "虹桥村8号" in html and "张*" in html
    detail = a_client.get(reverse("people:detail", args=[people.a.pk])).content.decode()
    assert reverse("people:household", args=[household.pk]) in detail


def test_export_is_masked_scoped_and_audited(
    a_client: Client, people: Any, town_a_user: Any
) -> None:
    response = a_client.post(reverse("people:export"), {"q": people.a_id[-4:]})
    rows = export_rows(response)
    assert response["Content-Type"].startswith("text/csv")
    assert rows[0][0].startswith("内部资料 · 导出人：town-a（乌镇镇）")  # the watermark
    assert rows[1][:2] == ["编号", "姓名"]
    assert rows[2][:2] == [str(people.a.pk), "张*"]
    assert len(rows) == 3
    body = str(rows)
    assert people.a_id not in body and people.a_phone not in body and "张三" not in body
    event = AuditEvent.objects.get(action="person.export")
    assert event.actor == town_a_user
    assert event.detail["rows"] == 1 and event.detail["truncated"] is False
    assert event.detail["filters"]["q"]["kind"] == "tail"
    assert people.a_id not in str(event.detail)


def test_export_is_capped_with_a_message(
    a_client: Client, tree: Any, person_maker: Any, settings: Any
) -> None:
    settings.FANGKONG_PERSON_EXPORT_MAX_ROWS = 3
    made = [person_maker(tree.community_a, f"王{i}") for i in range(5)]
    response = a_client.post(reverse("people:export"))
    rows = export_rows(response)
    assert [r[0] for r in rows[2:5]] == [str(p.pk) for p in reversed(made[2:])]
    assert "导出已截断" in rows[5][0] and len(rows) == 6
    assert response["X-Export-Truncated"] == "1"
    event = AuditEvent.objects.get(action="person.export")
    assert (event.detail["rows"], event.detail["truncated"]) == (3, True)


def test_export_keyset_batches(
    a_client: Client, tree: Any, person_maker: Any, monkeypatch: Any
) -> None:
    from fangkong.people import selectors

    monkeypatch.setattr(selectors, "EXPORT_BATCH", 2)
    made = [person_maker(tree.community_a, f"王{i}") for i in range(5)]
    rows = export_rows(a_client.post(reverse("people:export")))
    assert [r[0] for r in rows[2:]] == [str(p.pk) for p in reversed(made)]


def test_anonymous_is_sent_to_login(client: Client, people: Any) -> None:
    for url in (
        reverse("people:list"),
        reverse("people:detail", args=[people.a.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]
    response = client.post(reverse("people:export"))
    assert response.status_code == 302 and "login" in response["Location"]
