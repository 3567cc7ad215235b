"""Round pages: list (scoped), create form, detail with planner and advisor, open/close."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from fangkong.accounts.roles import Role
from fangkong.testing.models import Round, RoundStatus
from fangkong.testing.services import rounds as services
from fangkong.testkit.clock import at
from fangkong.testkit.worlds.rounds import World, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree: Any, make_user: Any) -> World:
    return build_world(tree, make_user)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_create_form_then_detail_with_planner_then_open(world: World) -> None:
    client = _client(world.town_a_user)
    form = client.get("/testing/rounds/new/").content.decode()

    response = client.post(
        "/testing/rounds/new/",
        {
            "name": "乌镇镇全员核酸",
            "starts_at": "2022-07-10T06:00",
            "jurisdictions": [str(world.tree.town_a.pk)],
            "sealed_pooling": "single",
        },
    )
    rnd = Round.objects.get(name="乌镇镇全员核酸")
    detail = client.get(response["Location"]).content.decode()
    opened = client.post(f"/testing/rounds/{rnd.pk}/open/", follow=True).content.decode()

    assert 'data-name="乌镇镇"' in form and 'data-name="濮院镇"' not in form
    assert response.status_code == 302
    assert rnd.starts_at == at(10, 6)
    assert 'data-testid="planner-row" data-town="乌镇镇"' in detail
    assert 'data-testid="best-k">11<' in detail
    assert 'data-status="open"' in opened
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.OPEN and rnd.target_count == 15


def test_create_form_shows_errors_inline(world: World) -> None:
    response = _client(world.town_a_user).post(
        "/testing/rounds/new/", {"name": "空", "starts_at": "2022-07-10T06:00"}
    )
    assert response.status_code == 400
    assert 'data-code="round_scope_empty"' in response.content.decode()
    assert not Round.objects.exists()


def test_advice_fragment(world: World) -> None:
    client = _client(world.town_a_user)

    ok = client.get("/testing/rounds/advice/?prevalence=1", HTTP_HX_REQUEST="true")
    two = client.get("/testing/rounds/advice/?prevalence=2", HTTP_HX_REQUEST="true")
    bad = client.get("/testing/rounds/advice/?prevalence=abc", HTTP_HX_REQUEST="true")

    assert 'data-testid="best-k">11<' in ok.content.decode()
    assert 'data-testid="best-k">8<' in two.content.decode()
    assert bad.status_code == 400


def test_list_is_scoped_and_other_town_gets_404(world: World) -> None:
    rnd = services.round_create(
        actor=world.town_a_user,
        name="乌镇专属",
        jurisdictions=[world.tree.town_a],
        starts_at=at(10, 6),
    )
    a_page = _client(world.town_a_user).get("/testing/rounds/").content.decode()
    b = _client(world.town_b_user)

    assert "乌镇专属" in a_page
    assert "乌镇专属" not in b.get("/testing/rounds/").content.decode()
    assert b.get(f"/testing/rounds/{rnd.pk}/").status_code == 404
    assert b.post(f"/testing/rounds/{rnd.pk}/open/").status_code == 404
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.PLANNED


def test_wrong_role_cannot_open_the_create_form(world: World, make_user: Any) -> None:
    worker = _client(make_user(Role.COMMUNITY_WORKER, world.tree.community_a))
    lab = _client(make_user(Role.LAB, world.tree.town_a))

    assert worker.get("/testing/rounds/new/").status_code == 403
    assert worker.get("/testing/rounds/").status_code == 200
    assert lab.get("/testing/rounds/").status_code == 403


def test_create_form_names_every_refused_field_and_keeps_the_values(world: World) -> None:
    """An empty start time is "请填写开始时间" (not "format invalid"); a bad scope and a bad
    time are both named; the alert uses the shared style; what was typed comes back."""
    client = _client(world.town_a_user)

    empty = client.post(
        "/testing/rounds/new/",
        {"name": "第二轮", "starts_at": "", "jurisdictions": [str(world.tree.town_a.pk)]},
    )
    both = client.post(
        "/testing/rounds/new/",
        {"name": "第三轮", "starts_at": "tomorrow", "jurisdictions": ["²"]},
    )

    page = empty.content.decode()
    assert empty.status_code == 400
    assert 'data-code="datetime_required"' in page and "请填写开始时间" in page
    assert "时间格式无效" not in page
    assert 'class="flash flash-error"' in page and "error-message" not in page
    assert 'value="第二轮"' in page
    town = f'value="{world.tree.town_a.pk}" data-testid="scope-town" data-name="乌镇镇" checked'
    assert town in page
    page = both.content.decode()
    assert both.status_code == 400
    assert "选择无效" in page and "开始时间格式无效，应为 YYYY-MM-DD HH:MM" in page
    assert 'value="tomorrow"' in page
    assert not Round.objects.exists()


def test_the_advice_refusal_uses_the_shared_alert_style(world: World) -> None:
    bad = _client(world.town_a_user).get(
        "/testing/rounds/advice/?prevalence=abc", HTTP_HX_REQUEST="true"
    )
    assert 'class="flash flash-error" role="alert"' in bad.content.decode()
