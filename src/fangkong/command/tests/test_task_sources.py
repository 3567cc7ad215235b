"""A task from an object starts with a de-identified summary of it and its town ticked."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from fangkong.testkit import areas as areas_kit
from fangkong.testkit import tracing as tracing_kit
from fangkong.testkit.worlds import pushes as pushes_world


def _form(user: Any, source_type: str, pk: int, label: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(
        reverse("command:task_new"),
        {"source_type": source_type, "source_id": str(pk), "source_label": label},
    )
    assert response.status_code == 200
    return response.content.decode()


def _body(page: str) -> str:
    return page.split('data-testid="task-body">')[1].split("</textarea>")[0]


def _ticked(page: str, path: str) -> bool:
    tag = page.split(f'data-testid="town-{path}"')[0].rsplit("<input", 1)[1]
    return " checked" in tag


def test_a_case_prefills_its_summary_and_town(tree: Any, command_user: Any) -> None:
    case = tracing_kit.case_in(tree.community_a, name="王小五")
    page = _form(command_user, "case", case.pk, case.number)
    body = _body(page)
    assert case.number in body and tree.town_a.name in body
    assert case.get_kind_display() in body and "报告日期" in body
    assert "王小五" not in page  # never a person's name
    assert _ticked(page, tree.town_a.path) and not _ticked(page, tree.town_b.path)


def test_a_push_prefills_its_town(tree: Any, make_user: Any) -> None:
    from fangkong.tracing.services.pushes import pushes_create_for_case

    world = pushes_world.build_world(tree, make_user)
    pushed = pushes_create_for_case(actor=world.command, case=world.case)
    push = next(p for p in pushed if p.jurisdiction_path == tree.town_b.path)
    page = _form(world.command, "verification_push", push.pk, push.number)
    body = _body(page)
    assert push.number in body and world.case.number in body and tree.town_b.name in body
    assert _ticked(page, tree.town_b.path) and not _ticked(page, tree.town_a.path)


def test_a_zone_prefills_its_town(tree: Any, command_user: Any) -> None:
    zone = areas_kit.zone(tree.community_b, "sealed", name="永越村封控区")
    page = _form(command_user, "zone", zone.pk, zone.name)
    body = _body(page)
    assert "永越村封控区" in body and tree.town_b.name in body and "封控区" in body
    assert _ticked(page, tree.town_b.path) and not _ticked(page, tree.town_a.path)


def test_an_object_out_of_view_or_unknown_starts_blank(tree: Any, command_user: Any) -> None:
    page = _form(command_user, "case", 987654, "X")
    assert _body(page) == ""
    page = _form(command_user, "zone", 0, "abc")
    assert _body(page) == "" and ' checked data-testid="town-' not in page
