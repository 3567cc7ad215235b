"""The sampler page and its service worker."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from fangkong.accounts.roles import Role
from fangkong.accounts.services import user_create
from fangkong.testkit import testing
from fangkong.testkit.worlds.sampling import PASSWORD, World, build_world

pytestmark = pytest.mark.django_db

PAGE = "/testing/sampling/"


@pytest.fixture
def world(tree: Any) -> World:
    return build_world(tree, persons=2)


def test_the_sampler_sees_their_point_and_its_open_round(world: World) -> None:
    client = Client()
    client.force_login(world.sampler)

    response = client.get(PAGE)

    assert response.status_code == 200
    html = response.content.decode()
    assert "采样登记" in html and world.point.place.name in html
    assert 'data-sw="/testing/sampling/sw.js"' in html
    assert "/static/testing/sampler.js" in html
    context = response.context["sampler_context"]
    assert context["point"]["id"] == world.point.pk
    assert [r["id"] for r in context["rounds"]] == [world.round.pk]
    assert context["sync_url"] == "/api/testing/sampling/sync"
    assert 'data-nav="sampler"' in html  # the sampler's menu has the page


def test_the_service_worker_is_served_under_the_page_with_its_scope(world: World) -> None:
    response = Client().get("/testing/sampling/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == PAGE
    body = response.content.decode()
    precache = json.loads(body.split("const PRECACHE = ", 1)[1].split(";\n", 1)[0])
    assert precache[0] == PAGE
    assert "/static/testing/sampler.js" in precache
    assert "/static/web/fangkong.css" in precache


def test_a_role_without_the_capability_gets_403(world: World, make_user: Any) -> None:
    client = Client()
    client.force_login(make_user(Role.TOWN_STAFF, world.tree.town_a))

    response = client.get(PAGE)

    assert response.status_code == 403
    assert world.point.place.name not in response.content.decode()


def test_a_sampler_cannot_open_another_points_page(world: World, tree: Any) -> None:
    other_point = testing.point(tree.community_b)
    other = user_create(
        username="sampler-page-b",
        password=PASSWORD,
        role=Role.SAMPLER,
        jurisdiction=tree.community_b,
        place=other_point.place,
    )
    client = Client()
    client.force_login(other)

    foreign = client.get(PAGE, {"point": world.point.pk})
    own = client.get(PAGE)

    assert foreign.status_code == 404
    assert own.status_code == 200
    assert own.context["sampler_context"]["rounds"] == []  # 乌镇镇's round is not at 濮院镇
    html = own.content.decode()
    assert "本采样点现在没有进行中的核酸检测轮次，不能开管登记。" in html
    # nothing to open a tube with: the selects, the barcode field and 开管 are disabled
    assert 'data-testid="tube-open" disabled' in html
    assert 'data-testid="tube-barcode" disabled' in html
    assert 'data-testid="round-select" disabled' in html


def test_command_and_admin_choose_a_point_for_desk_entry(
    world: World, command_user: Any, admin_user: Any
) -> None:
    for user in (command_user, admin_user):
        client = Client()
        client.force_login(user)

        choice = client.get(PAGE)

        assert choice.status_code == 200
        html = choice.content.decode()
        assert 'data-testid="choose-point"' in html
        assert f'<option value="{world.point.pk}">{world.point.place.name}' in html
        page = client.get(PAGE, {"point": world.point.pk})
        assert page.status_code == 200
        assert page.context["sampler_context"]["point"]["id"] == world.point.pk
        assert 'data-testid="change-point"' in page.content.decode()
        assert client.get(PAGE, {"point": 987654}).status_code == 404


def test_a_sampler_is_never_offered_another_point(world: World) -> None:
    client = Client()
    client.force_login(world.sampler)

    html = client.get(PAGE).content.decode()

    assert 'data-testid="choose-point"' not in html
    assert 'data-testid="change-point"' not in html


def test_every_testing_menu_entry_of_command_and_admin_answers_200(
    world: World, command_user: Any, admin_user: Any
) -> None:
    from django.test import RequestFactory

    from fangkong.web.navigation import nav_items

    for user in (command_user, admin_user):
        client = Client()
        client.force_login(user)
        request = RequestFactory().get("/")
        request.user = user
        urls = [i["url"] for i in nav_items(request) if i["url"].startswith("/testing/")]
        assert PAGE in urls
        answers = {url: client.get(url).status_code for url in urls}
        assert set(answers.values()) == {200}, answers
        # a page that needs the user's own point or lab is not in the menu, and is 403
        assert "/testing/boxes/" not in urls and "/testing/lab/receive/" not in urls
        assert client.get("/testing/boxes/").status_code == 403


def test_anonymous_is_sent_to_login(world: World) -> None:
    response = Client().get(PAGE)

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
