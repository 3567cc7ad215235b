"""The scoping matrix: a town's staff never see another town's people, anywhere.

For every person-bearing page and endpoint: a town-A user gets 404 for a town-B person,
town B's people never appear in town A's lists, searches or exports, and roles without
the capability get 403. Each search also has a positive control (town B's own user finds
the person), so that an empty result proves the scope and not a broken search.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.roles import Role
from fangkong.people import services
from fangkong.people.rules import search_key


def login(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def api_ids(client: Client, q: str = "") -> list[int]:
    """A search, or for a full ID number or phone the POST lookup (a GET is refused)."""
    if search_key(q).exact:
        assert client.get("/api/people/persons", {"q": q}).json()["code"] == "lookup_needs_post"
        response = client.post(
            "/api/people/persons/lookup",
            data=json.dumps({"number": q}),
            content_type="application/json",
        )
    else:
        response = client.get("/api/people/persons", {"q": q})
    assert response.status_code == 200
    return [item["id"] for item in response.json()["items"]]


def page_html(client: Client, q: str = "") -> str:
    if search_key(q).exact:
        assert client.get(reverse("people:list"), {"q": q}).status_code == 400
        response = client.post(reverse("people:list"), {"q": q})
    else:
        response = client.get(reverse("people:list"), {"q": q})
    assert response.status_code == 200
    return response.content.decode()


def export_ids(client: Client, q: str = "") -> list[str]:
    response = client.post(reverse("people:export"), {"q": q})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return [row[0] for row in csv.reader(io.StringIO(text))][2:]  # watermark, header


def queries(people: Any) -> dict[str, str]:
    """Every way to search for town B's person 李四."""
    return {
        "name": "李四",
        "name_prefix": "李",
        "initials": "ls",
        "phone": people.b_phone,
        "id_tail": people.b_id[-4:],
        "id_number": people.b_id,
        "all": "",
    }


SEARCHES = ["name", "name_prefix", "initials", "phone", "id_tail", "id_number", "all"]


@pytest.mark.parametrize("search", SEARCHES)
def test_api_search_never_shows_other_town(
    client: Client, people: Any, town_a_user: Any, town_b_user: Any, search: str
) -> None:
    q = queries(people)[search]
    assert people.b.pk in api_ids(login(Client(), town_b_user), q)  # positive control
    assert people.b.pk not in api_ids(login(client, town_a_user), q)


@pytest.mark.parametrize("search", SEARCHES)
def test_list_page_search_never_shows_other_town(
    client: Client, people: Any, town_a_user: Any, town_b_user: Any, search: str
) -> None:
    q = queries(people)[search]
    assert "李*" in page_html(login(Client(), town_b_user), q)  # positive control
    html = page_html(login(client, town_a_user), q)
    assert "李*" not in html and people.b.id_masked not in html
    assert reverse("people:detail", args=[people.b.pk]) not in html


@pytest.mark.parametrize("search", [s for s in SEARCHES if s not in {"phone", "id_number"}])
def test_export_never_contains_other_town(
    client: Client, people: Any, town_a_user: Any, town_b_user: Any, search: str
) -> None:
    q = queries(people)[search]
    assert str(people.b.pk) in export_ids(login(Client(), town_b_user), q)  # positive control
    assert str(people.b.pk) not in export_ids(login(client, town_a_user), q)
    event = AuditEvent.objects.filter(action="person.export", actor=town_a_user).latest("pk")
    assert event.detail["rows"] == (1 if search == "all" else 0)


def test_own_town_person_is_found_by_every_key(
    client: Client, people: Any, town_a_user: Any
) -> None:
    login(client, town_a_user)
    for q in (
        "张三",
        "张",
        "zs",
        people.a_phone,
        people.a_id[-4:],
        people.a_id,
        people.a_id.lower(),
    ):
        assert api_ids(client, q) == [people.a.pk], q


def test_detail_pages_of_other_town_are_404(
    client: Client, people: Any, town_a_user: Any, tree: Any, command_user: Any
) -> None:
    login(client, town_a_user)
    household = services.household_create(
        actor=town_a_user, address="虹桥村1号", community=tree.community_a
    )
    b_household = services.household_create(
        actor=command_user,
        address="永越村1号",
        community=tree.community_b,
    )
    assert client.get(reverse("people:detail", args=[people.a.pk])).status_code == 200
    assert client.get(reverse("people:detail", args=[people.b.pk])).status_code == 404
    assert client.get(reverse("people:household", args=[household.pk])).status_code == 200
    assert client.get(reverse("people:household", args=[b_household.pk])).status_code == 404
    assert client.get(f"/api/people/persons/{people.b.pk}").status_code == 404
    assert client.get(f"/api/people/households/{b_household.pk}").status_code == 404
    listing = client.get("/api/people/households").json()
    assert [h["id"] for h in listing["items"]] == [household.pk]
    member = client.post(
        f"/api/people/households/{household.pk}/members",
        data=json.dumps({"person_id": people.b.pk}),
        content_type="application/json",
    )
    assert member.status_code == 404


def test_jurisdiction_filter_of_other_town_is_404(
    client: Client, people: Any, town_a_user: Any, tree: Any
) -> None:
    login(client, town_a_user)
    assert (
        client.get(reverse("people:list"), {"jurisdiction": tree.community_b.pk}).status_code == 404
    )
    assert (
        client.post(reverse("people:export"), {"jurisdiction": tree.community_b.pk}).status_code
        == 404
    )
    ok = client.get(reverse("people:list"), {"jurisdiction": tree.community_a.pk})
    assert ok.status_code == 200 and "张*" in ok.content.decode()


def test_reveal_of_other_town_is_404_and_not_audited(
    client: Client, people: Any, town_a_user: Any
) -> None:
    login(client, town_a_user)
    page = client.post(reverse("people:reveal", args=[people.b.pk]), {"field": "id_number"})
    api = client.post(
        f"/api/people/persons/{people.b.pk}/reveal",
        data=json.dumps({"field": "id_number"}),
        content_type="application/json",
    )
    assert (page.status_code, api.status_code) == (404, 404)
    assert people.b_id not in page.content.decode() + api.content.decode()
    assert not AuditEvent.objects.filter(action="person.reveal").exists()


def test_community_worker_sees_only_own_community(
    client: Client, tree: Any, people: Any, person_maker: Any, make_user: Any
) -> None:
    other_community = tree.community_a.__class__.objects.create(
        level="community",
        code="330483102002",
        name="西栅村",
        parent=tree.town_a,
        path="330483102002",
        depth=2,
    )
    neighbour = person_maker(other_community, "周七")
    worker = make_user(Role.COMMUNITY_WORKER, tree.community_a)
    ids = api_ids(login(client, worker))
    assert ids == [people.a.pk]
    assert neighbour.pk not in ids
    assert client.get(f"/api/people/persons/{neighbour.pk}").status_code == 404


def _role_requests(people: Any) -> list[tuple[str, str, dict[str, Any] | None]]:
    a = people.a.pk
    return [
        ("get", reverse("people:list"), None),
        ("get", reverse("people:detail", args=[a]), None),
        ("post", reverse("people:reveal", args=[a]), {"field": "id_number"}),
        ("post", reverse("people:export"), None),
        ("get", reverse("people:create"), None),
        ("get", "/api/people/persons", None),
        ("get", f"/api/people/persons/{a}", None),
        ("api", f"/api/people/persons/{a}/reveal", {"field": "id_number"}),
        ("get", "/api/people/households", None),
    ]


@pytest.mark.parametrize("role", [Role.LAB, Role.PUBLICITY])
def test_roles_without_person_access_get_403(
    client: Client, people: Any, tree: Any, make_user: Any, role: str
) -> None:
    login(client, make_user(role, tree.town_a))
    for method, url, body in _role_requests(people):
        if method == "api":
            response = client.post(url, data=json.dumps(body), content_type="application/json")
        else:
            response = getattr(client, method)(url, body or {})
        assert response.status_code == 403, (role, url)
        assert people.a_id not in response.content.decode()
    create = client.post(
        "/api/people/persons",
        data=json.dumps(
            {"name": "赵六", "id_kind": "none", "jurisdiction_id": tree.community_a.pk}
        ),
        content_type="application/json",
    )
    assert create.status_code == 403
    assert not AuditEvent.objects.filter(action__in=["person.reveal", "person.export"]).exists()


def test_view_only_roles_cannot_reveal_or_export(
    client: Client, people: Any, tree: Any, make_user: Any
) -> None:
    login(client, make_user(Role.SITE_STAFF, tree.town_a))
    assert client.get(reverse("people:detail", args=[people.a.pk])).status_code == 200
    detail = client.get(reverse("people:detail", args=[people.a.pk])).content.decode()
    assert 'data-testid="reveal-id_number"' not in detail
    assert (
        client.post(reverse("people:reveal", args=[people.a.pk]), {"field": "phone"}).status_code
        == 403
    )
    assert client.post(reverse("people:export")).status_code == 403
    assert not AuditEvent.objects.filter(action__in=["person.reveal", "person.export"]).exists()


def test_community_worker_exports_only_her_community(
    client: Client, people: Any, tree: Any, make_user: Any
) -> None:
    # Community workers export lists (the untested list of a testing round) of their
    # own community: masked, audited, never wider than the community.
    login(client, make_user(Role.COMMUNITY_WORKER, tree.community_a))
    assert client.post(reverse("people:export")).status_code == 200
    event = AuditEvent.objects.get(action="person.export")
    assert event.jurisdiction_path.startswith(tree.community_a.path)


def test_unbound_user_sees_nothing(client: Client, people: Any, town_a_user: Any) -> None:
    town_a_user.scope_path = ""
    town_a_user.save(update_fields=["scope_path"])
    login(client, town_a_user)
    assert api_ids(client) == []
    assert client.get(f"/api/people/persons/{people.a.pk}").status_code == 404
