"""The header's search (core.search, web:search, /api/search): each kind found by its
number, a person by name initials and, by POST, by ID number as an audited lookup;
nothing found outside the user's scope or role, and such a search says nothing more
than a search for what does not exist."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.roles import Role
from fangkong.core import search as core_search
from fangkong.core.errors import DomainError
from fangkong.testkit import areas, people, testing, tracing

pytestmark = pytest.mark.django_db


@dataclass
class Scene:
    a: Any  # 张三 in town A (乌镇镇)
    a_id: str
    b: Any  # 李四 in town B (濮院镇)
    b_id: str
    case_a: Any
    case_b: Any
    place_a: Any
    tube_a: Any
    tube_b: Any


@pytest.fixture
def scene(tree: Any) -> Scene:
    a = people.registered(tree.community_a, "张三")
    b = people.registered(tree.community_b, "李四")
    case_a = tracing.reported_case(people.person(tree.community_a, "王五"))
    case_b = tracing.reported_case(people.person(tree.community_b, "赵六"))
    place_a = areas.place(tree.community_a, name="乌镇农贸市场", venue_code="TK20261206")
    rnd = testing.open_round(tree.city)
    tube_a = testing.tube(rnd, testing.point(tree.community_a), [a.person], barcode="TA000123")
    tube_b = testing.tube(rnd, testing.point(tree.community_b), [b.person], barcode="TB000456")
    return Scene(
        a.person, a.id_number, b.person, b.id_number, case_a, case_b, place_a, tube_a, tube_b
    )


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _main(response: Any) -> str:
    """The page's own content (the header's menus differ by role, not by search)."""
    main = response.content.decode().split('id="main"', 1)[1].split("</main>", 1)[0]
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", main)


def _hits(response: Any) -> list[str]:
    return re.findall(r'data-testid="search-hit">([^<]*)<', _main(response))


# --- Found by number, and by initials ---------------------------------------------------


def test_command_goes_straight_to_each_object_by_its_number(
    scene: Scene, command_user: Any
) -> None:
    client = _client(command_user)
    search = reverse("web:search")

    case = client.get(search, {"q": scene.case_b.number.lower()})
    place = client.get(search, {"q": "tk20261206"})
    tube = client.get(search, {"q": "TA000123"})

    assert case.status_code == 302
    assert case["Location"] == reverse("tracing:case_detail", args=[scene.case_b.pk])
    assert place.status_code == 302 and place["Location"].endswith("?q=TK20261206")
    assert place["Location"].startswith(reverse("areas:place_list"))
    assert tube["Location"] == reverse("testing:tube_result", args=["TA000123"])


def test_a_full_id_number_is_posted_as_one_audited_lookup_and_opens_the_person(
    scene: Scene, command_user: Any
) -> None:
    client = _client(command_user)

    response = client.post(reverse("web:search"), {"q": scene.a_id})

    assert response.status_code == 302
    assert response["Location"] == reverse("people:detail", args=[scene.a.pk])
    events = list(AuditEvent.objects.filter(action="person.lookup"))
    assert [(e.detail["kind"], e.detail["outcome"], e.object_id) for e in events] == [
        ("ric", "hit", str(scene.a.pk))
    ]
    assert scene.a_id not in str([e.detail for e in AuditEvent.objects.all()])


def test_a_person_is_found_by_name_initials_and_id_tail_masked(
    scene: Scene, town_a_user: Any
) -> None:
    client = _client(town_a_user)

    by_initials = client.get(reverse("web:search"), {"q": "ZS"})
    by_tail = client.get(reverse("web:search"), {"q": scene.a_id[-4:]})

    for response in (by_initials, by_tail):
        assert response.status_code == 200
        assert _hits(response) == ["张*"]
        assert "张三" not in _main(response)
        assert reverse("people:detail", args=[scene.a.pk]) in _main(response)
    # Searches by GET are no lookups: nothing spent, nothing recorded.
    assert not AuditEvent.objects.filter(action="person.lookup").exists()
    # The search page has one box: the header's is left out there, not on other pages.
    assert by_initials.content.decode().count('name="q"') == 1
    other = client.get(reverse("people:list")).content.decode()
    assert 'data-testid="nav-search"' in other


def test_several_cases_by_the_start_of_their_number_are_listed_with_masked_names(
    scene: Scene, command_user: Any
) -> None:
    prefix = scene.case_a.number.split("-", 1)[0]

    response = _client(command_user).get(reverse("web:search"), {"q": prefix})

    assert response.status_code == 200
    assert sorted(_hits(response)) == sorted([scene.case_a.number, scene.case_b.number])
    page = _main(response)
    assert "王*" in page and "赵*" in page and "王五" not in page and "赵六" not in page


def test_a_post_that_is_no_lookup_is_sent_on_as_a_get(scene: Scene, command_user: Any) -> None:
    response = _client(command_user).post(reverse("web:search"), {"q": "zs"})

    assert response.status_code == 302
    assert response["Location"] == reverse("web:search") + "?q=zs"


# --- Scope: another town's objects are not there -----------------------------------------


def test_a_town_finds_nothing_of_another_town_and_learns_nothing(
    scene: Scene, town_a_user: Any
) -> None:
    client = _client(town_a_user)
    absent_id = people.ric(987_654)

    other_person = client.post(reverse("web:search"), {"q": scene.b_id})
    nobody = client.post(reverse("web:search"), {"q": absent_id})
    other_case = client.get(reverse("web:search"), {"q": scene.case_b.number})
    other_tube = client.get(reverse("web:search"), {"q": "TB000456"})

    assert other_person.status_code == nobody.status_code == 200
    assert _hits(other_person) == []
    # The answer for another town's person is the answer for no one, word for word.
    assert _main(other_person).replace(scene.b_id, "Q") == _main(nobody).replace(absent_id, "Q")
    assert "李" not in _main(other_person)
    for response in (other_case, other_tube):
        assert response.status_code == 200 and _hits(response) == []
    assert 'data-testid="search-empty"' in _main(other_case)
    # Both lookups are on record as misses, naming nobody.
    events = AuditEvent.objects.filter(action="person.lookup").order_by("pk")
    assert [(e.detail["outcome"], e.object_id) for e in events] == [("miss", ""), ("miss", "")]


def test_a_town_finds_its_own_case_and_tube(scene: Scene, town_a_user: Any) -> None:
    client = _client(town_a_user)

    case = client.get(reverse("web:search"), {"q": scene.case_a.number})
    tube = client.get(reverse("web:search"), {"q": "TA000123"})

    assert case["Location"] == reverse("tracing:case_detail", args=[scene.case_a.pk])
    assert tube["Location"] == reverse("testing:tube_result", args=["TA000123"])


def test_a_task_is_found_by_its_number_by_the_town_it_was_given_to_only(
    tree: Any, command_user: Any, town_a_user: Any, town_b_user: Any
) -> None:
    from fangkong.testkit import command

    given = command.task(town_paths=[tree.town_a.path], actor=command_user, title="封控区物资保障")

    for user in (command_user, town_a_user):
        found = _client(user).get(reverse("web:search"), {"q": given.number})
        assert found["Location"] == reverse("command:task_detail", args=[given.pk])
    other = _client(town_b_user).get(reverse("web:search"), {"q": given.number})
    by_title = _client(town_b_user).get(reverse("web:search"), {"q": "封控区物资"})
    assert other.status_code == by_title.status_code == 200
    assert _hits(other) == _hits(by_title) == []


# --- Roles: no hits of kinds the role may not see ------------------------------------------


def test_roles_get_no_hits_of_kinds_they_cannot_see(
    scene: Scene, tree: Any, make_user: Any
) -> None:
    hotline = _client(make_user(Role.HOTLINE, tree.city))  # persons, no cases, no tubes
    publicity = _client(make_user(Role.PUBLICITY, tree.city))  # places only

    hotline_case = hotline.get(reverse("web:search"), {"q": scene.case_a.number})
    hotline_tube = hotline.get(reverse("web:search"), {"q": "TA000123"})
    publicity_person = publicity.get(reverse("web:search"), {"q": "zs"})
    publicity_place = publicity.get(reverse("web:search"), {"q": "TK20261206"})

    for response in (hotline_case, hotline_tube, publicity_person):
        assert response.status_code == 200 and _hits(response) == []
    assert publicity_place.status_code == 302  # places are the publicity's to see
    # The page names only what the role may search.
    kinds = _main(publicity_person).split('class="facts"', 1)[1].split("</dl>", 1)[0]
    assert "场所码或场所名称" in kinds and "病例编号" not in kinds and "姓名首字母" not in kinds


# --- Bad input: a clear message, never a 500 -------------------------------------------------


def test_bad_queries_are_clear_refusals(scene: Scene, town_a_user: Any) -> None:
    client = _client(town_a_user)

    short = client.get(reverse("web:search"), {"q": "z"})
    long = client.get(reverse("web:search"), {"q": "z" * 65})
    huge = client.get(reverse("web:search"), {"q": "z" * 5000})
    by_get = client.get(reverse("web:search"), {"q": scene.a_id})
    empty = client.get(reverse("web:search"))

    assert short.status_code == 400 and "请至少输入2个字符" in _main(short)
    assert 'value="z"' in _main(short)  # what was typed stays in the box
    assert long.status_code == 400 and "不能超过64个字符" in _main(long)
    assert huge.status_code == 400
    assert by_get.status_code == 400 and "POST" in _main(by_get)
    assert scene.a_id not in _main(by_get)  # the number is not echoed back
    assert empty.status_code == 200 and _hits(empty) == []
    assert not AuditEvent.objects.filter(action="person.lookup").exists()


# --- The API ----------------------------------------------------------------------------------


def test_api_search_by_get_and_the_lookup_by_post(scene: Scene, town_a_user: Any) -> None:
    client = _client(town_a_user)

    found = client.get("/api/search", {"q": scene.case_a.number})
    by_get = client.get("/api/search", {"q": scene.a_id})
    looked_up = client.post("/api/search", {"q": scene.a_id}, content_type="application/json")
    other = client.post("/api/search", {"q": scene.b_id}, content_type="application/json")
    short = client.get("/api/search", {"q": "z"})

    assert found.status_code == 200
    assert found.json()["exact"]["url"] == reverse("tracing:case_detail", args=[scene.case_a.pk])
    assert [g["kind"] for g in found.json()["groups"]] == ["tracing.case"]
    assert (by_get.status_code, by_get.json()["code"]) == (400, "lookup_needs_post")
    assert looked_up.status_code == 200
    assert [h["key"] for g in looked_up.json()["groups"] for h in g["hits"]] == [str(scene.a.pk)]
    assert looked_up.json()["groups"][0]["hits"][0]["title"] == "张*"
    assert other.status_code == 200 and other.json()["groups"] == []
    assert other.json()["exact"] is None
    assert (short.status_code, short.json()["code"]) == (400, "query_too_short")
    assert AuditEvent.objects.filter(action="person.lookup").count() == 2


def test_api_search_needs_a_signed_in_user(client: Client) -> None:
    response = client.get("/api/search", {"q": "zs"})

    assert response.status_code == 401


def test_a_spent_lookup_budget_is_a_message_and_other_kinds_still_answer(
    scene: Scene, tree: Any, make_user: Any, settings: Any
) -> None:
    settings.FANGKONG_LOOKUP_BUDGETS = {Role.TOWN_STAFF: 1}
    client = _client(make_user(Role.TOWN_STAFF, tree.town_a, "town-budget"))
    client.post(reverse("web:search"), {"q": people.ric(111_111)})

    response = client.post(reverse("web:search"), {"q": scene.a_id})

    assert response.status_code == 200
    assert _hits(response) == []
    assert 'data-kind="people.person"' in _main(response)


# --- The registry -------------------------------------------------------------------------------


def test_the_registry_asks_only_kinds_whose_capability_the_actor_holds() -> None:
    codes = {s.code for s in core_search.searchers()}
    assert {
        "people.person",
        "tracing.case",
        "areas.place",
        "testing.tube",
        "command.task",
    } <= codes

    asked: list[str] = []

    def find(actor: Any, q: str, limit: int) -> list[core_search.SearchHit]:
        asked.append(q)
        return [core_search.SearchHit("test.kind", "1", "X1", "/x/1/", exact=True)]

    core_search.register(core_search.Searcher("test.kind", "测试", "not.declared", find))
    try:
        none = core_search.search(None, "X1", has_capability=lambda c: False, post=False)
        some = core_search.search(
            None, "X1", has_capability=lambda c: c == "not.declared", post=False
        )
    finally:
        core_search._SEARCHERS.pop("test.kind")

    assert none == [] and asked == ["X1"]
    assert core_search.exact_hit(some) == some[0].hits[0]


def test_clean_query_bounds() -> None:
    assert core_search.clean_query("  ＴＸ２０２２  ") == "TX2022"
    assert core_search.clean_query("") == ""
    with pytest.raises(DomainError) as short:
        core_search.clean_query("x")
    with pytest.raises(DomainError) as long:
        core_search.clean_query("x" * (core_search.QUERY_MAX + 1))
    assert (short.value.code, long.value.code) == ("query_too_short", "query_too_long")


# --- In a browser --------------------------------------------------------------------------------


@pytest.mark.browser
def test_command_searches_a_case_number_from_the_header_and_lands_on_the_case(
    transactional_db: None, live_server: Any, browser_page: Any, tree: Any, make_user: Any
) -> None:
    case = tracing.reported_case(people.person(tree.community_a, "王五"))
    command = make_user(Role.COMMAND, tree.city, "command-search")
    client = _client(command)
    browser_page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = browser_page
    page.goto(live_server.url + "/")

    box = page.get_by_test_id("nav-search").locator("input[name=q]")
    box.fill(case.number)
    box.press("Enter")
    page.wait_for_url(live_server.url + reverse("tracing:case_detail", args=[case.pk]))

    assert case.number in page.content()
