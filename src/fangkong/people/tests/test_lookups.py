"""Exact lookups by a full number: POST only, audited, budgeted per role, alerting.

The review recovered a resident's ID number as the hotline operator (no reveal right)
by searching the ~33 candidates that the mask, the birth year and the check digit leave,
and a phone by its 10,000. These tests replay that attack and the other oracles.
"""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.test import Client
from django.urls import reverse

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.roles import Role
from fangkong.core.errors import Conflict, DomainError
from fangkong.people import services
from fangkong.people.lookups import (
    DEFAULT_LOOKUP_BUDGETS,
    LookupAsked,
    LookupHit,
    lookup_answer_many,
    lookup_record_hits,
)
from fangkong.people.models import Person
from fangkong.people.rules import ric_checksum
from fangkong.people.tests.conftest import make_ric
from fangkong.people.tests.test_scoping import login

LOOKUP = "/api/people/persons/lookup"
MISS_ALERT = django_settings.FANGKONG_LOOKUP_MISS_ALERT  # settings.py: 10 by default


def lookup(client: Client, number: str) -> Any:
    return client.post(LOOKUP, data=json.dumps({"number": number}), content_type="application/json")


def ric_candidates(id_masked: str, birth_year: int) -> list[str]:
    """What an attacker derives from the mask and the birth year: every checksum-valid
    ID number of that year with that region and tail."""
    region, tail = id_masked[:6], id_masked[-4:]
    out, day = [], dt.date(birth_year, 1, 1)
    while day.year == birth_year:
        body = f"{region}{day:%Y%m%d}{tail[:3]}"
        if ric_checksum(body) == tail[3]:
            out.append(body + tail[3])
        day += dt.timedelta(days=1)
    return out


@pytest.fixture
def hotline(tree: Any, make_user: Any) -> Any:
    return make_user(Role.HOTLINE, tree.city, "hotline")


@pytest.fixture
def admin(tree: Any, make_user: Any) -> Any:
    return make_user(Role.ADMIN, tree.city, "admin")


def test_a_full_number_by_get_is_refused_everywhere(
    client: Client, people: Any, town_a_user: Any
) -> None:
    login(client, town_a_user)
    for q in (people.a_id, people.a_phone, "E12345678"):
        api = client.get("/api/people/persons", {"q": q})
        assert (api.status_code, api.json()["code"]) == (400, "lookup_needs_post")
        page = client.get(reverse("people:list"), {"q": q})
        assert page.status_code == 400
        # The refusal is all the page says: no "no matching person" that reads as a miss.
        assert "没有符合条件的人员" not in page.content.decode()
    assert not AuditEvent.objects.filter(action="person.lookup").exists()
    # Names, initials and ID tails stay plain searches by GET.
    assert client.get("/api/people/persons", {"q": people.a_id[-4:]}).status_code == 200


def test_each_lookup_is_audited_with_the_keyed_hash_never_the_value(
    client: Client, people: Any, town_a_user: Any
) -> None:
    login(client, town_a_user)
    hit = lookup(client, people.a_id)
    assert [p["id"] for p in hit.json()["items"]] == [people.a.pk]
    assert [p["id"] for p in lookup(client, people.a_phone).json()["items"]] == [people.a.pk]
    # Town B's person is outside the scope: a miss like an absent one.
    assert lookup(client, people.b_id).json()["items"] == []
    page = client.post(reverse("people:list"), {"q": people.a_id})
    assert page.status_code == 200 and "张*" in page.content.decode()
    events = list(AuditEvent.objects.filter(action="person.lookup").order_by("pk"))
    assert [(e.detail["kind"], e.detail["outcome"]) for e in events] == [
        ("ric", "hit"),
        ("phone", "hit"),
        ("ric", "miss"),
        ("ric", "hit"),
    ]
    assert events[0].detail["hash"] == services.id_lookup_hash("ric", people.a_id)
    assert events[1].detail["hash"] == services.phone_lookup_hash(people.a_phone)
    assert events[0].object_id == str(people.a.pk) and events[0].actor == town_a_user
    every = str([(e.detail, e.object_label, e.field) for e in AuditEvent.objects.all()])
    for value in (people.a_id, people.a_phone, people.b_id):
        assert value not in every


def test_a_name_is_not_a_lookup(client: Client, people: Any, town_a_user: Any) -> None:
    response = lookup(login(client, town_a_user), "张三")
    assert (response.status_code, response.json()["code"]) == (400, "lookup_not_exact")


def test_beyond_the_budget_the_answer_is_429_and_audited(
    client: Client, people: Any, town_a_user: Any, settings: Any
) -> None:
    settings.FANGKONG_LOOKUP_BUDGETS = {"town_staff": 3}
    login(client, town_a_user)
    for _ in range(3):
        assert lookup(client, people.a_id).status_code == 200
    refused = lookup(client, people.a_id)
    assert (refused.status_code, refused.json()["code"]) == (429, "lookup_budget_exhausted")
    assert refused.json()["detail"]["budget"] == 3
    page = client.post(reverse("people:list"), {"q": people.a_phone})
    assert page.status_code == 429 and "张*" not in page.content.decode()
    assert AuditEvent.objects.filter(action="person.lookup").count() == 3
    rows = AuditEvent.objects.filter(action="person.lookup_refused", actor=town_a_user)
    assert [r.detail["code"] for r in rows] == ["lookup_budget_exhausted"] * 2
    # Another user's budget is their own.
    other = Client()
    login(
        other,
        town_a_user.__class__.objects.create_user(
            username="town-a-2",
            password="pw-Fangkong-2022",
            role=Role.TOWN_STAFF,
            jurisdiction=town_a_user.jurisdiction,
            scope_path=town_a_user.scope_path,
        ),
    )
    assert lookup(other, people.a_id).status_code == 200


def test_the_hotline_cannot_turn_search_into_reveal_of_an_id_number(
    client: Client, people: Any, hotline: Any, admin: Any
) -> None:
    # The attacker knows the mask and the birth year (a dump, the caller, a guess) and
    # tries every candidate, the true number last.
    person = Person.objects.get(pk=people.a.pk)
    found = ric_candidates(person.id_masked, 1985)
    assert people.a_id in found and 25 < len(found) < 45
    found.remove(people.a_id)
    attack = [*found, people.a_id]
    login(client, hotline)
    answers = [lookup(client, number) for number in attack]

    statuses = [r.status_code for r in answers]
    assert statuses[:MISS_ALERT] == [200] * MISS_ALERT
    assert set(statuses[MISS_ALERT:]) == {429}
    assert answers[-1].json()["code"] == "lookup_suspended"
    assert all(r.json().get("items", []) == [] for r in answers)  # never found
    assert people.a_id not in str([r.content for r in answers])

    lookups = AuditEvent.objects.filter(actor=hotline, action="person.lookup")
    assert lookups.count() == MISS_ALERT
    assert {e.detail["outcome"] for e in lookups} == {"miss"}
    alert = AuditEvent.objects.get(action="person.lookup_alert")
    assert (alert.actor, alert.detail["misses"]) == (hotline, MISS_ALERT)
    refused = AuditEvent.objects.filter(actor=hotline, action="person.lookup_refused")
    assert refused.count() == len(attack) - MISS_ALERT
    assert refused.last().detail["hash"] == services.id_lookup_hash("ric", people.a_id)

    # The administrator sees the alert; the hotline's birth year is not in the API.
    admin_client = login(Client(), admin)
    page = admin_client.get(reverse("people:lookup_alerts"))
    assert page.status_code == 200 and "hotline" in page.content.decode()
    assert reverse("people:lookup_alerts") in admin_client.get("/").content.decode()
    assert client.get(reverse("people:lookup_alerts")).status_code == 403
    assert client.get(f"/api/people/persons/{people.a.pk}").json()["birth_year"] is None


def test_the_hotline_cannot_find_a_phone_among_its_10000_candidates(
    client: Client, people: Any, hotline: Any
) -> None:
    masked = Person.objects.get(pk=people.a.pk).phone_masked  # 138****5678
    candidates = [f"{masked[:3]}{n:04d}{masked[-4:]}" for n in range(10_000)]
    candidates.remove(people.a_phone)
    login(client, hotline)
    budget = DEFAULT_LOOKUP_BUDGETS["hotline"]
    stopped_at = None
    for n, number in enumerate([*candidates[: budget * 2], people.a_phone]):
        response = lookup(client, number)
        if response.status_code == 429:
            stopped_at = n
            break
        assert response.json()["items"] == []
    assert stopped_at == MISS_ALERT
    assert lookup(client, people.a_phone).status_code == 429  # the true one, too late
    assert AuditEvent.objects.filter(action="person.lookup_alert", actor=hotline).count() == 1


def test_registering_a_known_id_is_a_budgeted_lookup_that_names_nobody(
    tree: Any, people: Any, make_user: Any, settings: Any
) -> None:
    settings.FANGKONG_LOOKUP_BUDGETS = {"community_worker": 2}
    worker = make_user(Role.COMMUNITY_WORKER, tree.community_a)
    for _ in range(2):
        with pytest.raises(Conflict) as err:
            services.person_create(
                actor=worker,
                name="某人",
                id_kind="ric",
                id_number=people.b_id,
                jurisdiction=tree.community_a,
            )
        assert (err.value.code, err.value.detail) == ("person_exists", {})
    with pytest.raises(DomainError) as spent:
        services.person_create(
            actor=worker,
            name="某人",
            id_kind="ric",
            id_number=people.b_id,
            jurisdiction=tree.community_a,
        )
    assert (spent.value.status, spent.value.code) == (429, "lookup_budget_exhausted")
    rows = AuditEvent.objects.filter(actor=worker, action="person.lookup")
    assert [(r.detail["via"], r.detail["outcome"]) for r in rows] == [("create", "hit")] * 2
    assert AuditEvent.objects.filter(actor=worker, action="person.lookup_refused").count() == 1
    # A new registration is not a lookup miss: it is audited as the creation it is.
    settings.FANGKONG_LOOKUP_BUDGETS = {"community_worker": 60}
    created = services.person_create(
        actor=worker,
        name="新人",
        id_kind="ric",
        id_number=make_ric(555),
        jurisdiction=tree.grid_a,
    )
    assert rows.count() == 2
    assert AuditEvent.objects.filter(action="person.create", object_id=str(created.pk)).exists()


def test_registering_a_known_id_by_api_says_nothing_about_the_other_town(
    client: Client, tree: Any, people: Any, make_user: Any
) -> None:
    worker = make_user(Role.COMMUNITY_WORKER, tree.community_a)
    response = login(client, worker).post(
        "/api/people/persons",
        data=json.dumps(
            {
                "name": "某人",
                "id_kind": "ric",
                "id_number": people.b_id,
                "jurisdiction_id": tree.community_a.pk,
            }
        ),
        content_type="application/json",
    )
    assert (response.status_code, response.json()["code"]) == (409, "person_exists")
    body = response.content.decode()
    assert response.json()["detail"] == {}
    assert "永越村" not in body and "李" not in body and "1992" not in body
    assert AuditEvent.objects.filter(actor=worker, action="person.lookup").count() == 1


def test_a_worker_registering_someone_leaves_a_trace(
    client: Client, tree: Any, make_user: Any
) -> None:
    worker = make_user(Role.COMMUNITY_WORKER, tree.community_a)
    login(client, worker)
    number, phone = make_ric(321, "19770203"), "13900001111"
    household = client.post(
        "/api/people/households",
        data=json.dumps({"address": "虹桥村9组1号", "community_id": tree.community_a.pk}),
        content_type="application/json",
    )
    assert household.status_code == 201
    response = client.post(
        reverse("people:create"),
        {
            "name": "赵六",
            "id_kind": "ric",
            "id_number": number,
            "phone": phone,
            "jurisdiction": tree.grid_a.pk,
        },
    )
    assert response.status_code == 302
    person = Person.objects.get(name="赵六")
    event = AuditEvent.objects.get(action="person.create")
    assert (event.actor, event.object_id, event.jurisdiction_path) == (
        worker,
        str(person.pk),
        tree.grid_a.path,
    )
    assert event.detail["jurisdiction"] == tree.grid_a.path
    assert event.object_label == "赵*"
    made = AuditEvent.objects.get(action="household.create")
    assert (made.actor, made.object_id) == (worker, str(household.json()["id"]))
    assert made.jurisdiction_path == tree.community_a.path
    every = str([(e.detail, e.object_label) for e in AuditEvent.objects.all()])
    assert number not in every and phone not in every


def test_birth_year_is_shown_only_to_roles_that_may_reveal(
    client: Client, people: Any, town_a_user: Any, hotline: Any
) -> None:
    url = f"/api/people/persons/{people.a.pk}"
    assert login(client, town_a_user).get(url).json()["birth_year"] == 1985
    assert login(Client(), hotline).get(url).json()["birth_year"] is None
    listing = login(Client(), hotline).get("/api/people/persons").json()["items"]
    assert {p["birth_year"] for p in listing} == {None}
    detail = login(Client(), hotline).get(reverse("people:detail", args=[people.a.pk]))
    assert "1985" not in detail.content.decode()


def test_export_is_a_post_with_a_watermark_and_no_formula(
    client: Client, tree: Any, person_maker: Any, town_a_user: Any
) -> None:
    person_maker(tree.community_a, '=HYPERLINK("http://x","y")')
    person_maker(tree.community_a, "@SUM(1)")
    login(client, town_a_user)
    assert client.get(reverse("people:export")).status_code == 405
    assert not AuditEvent.objects.filter(action="person.export").exists()
    response = client.post(reverse("people:export"))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("内部资料 · 导出人：town-a")
    cells = [c for line in lines for c in line.split(",")]
    assert not any(c.lstrip('"').startswith(("=", "+", "-", "@")) for c in cells)
    assert "'=*" in text and "'@*" in text  # masked, and escaped
    assert AuditEvent.objects.filter(action="person.export").count() == 1
    full = client.post(reverse("people:export"), {"q": make_ric(101)})
    assert full.status_code == 400  # a full number is a lookup, not an export filter


def test_a_registration_lookup_names_only_a_person_the_actor_may_see(
    tree: Any, people: Any, make_user: Any
) -> None:
    # Given a worker of town A meeting, on registration, a person of town B, then one of
    # their own community
    worker = make_user(Role.COMMUNITY_WORKER, tree.community_a)
    with pytest.raises(Conflict):
        services.person_create(
            actor=worker,
            name="某人",
            id_kind="ric",
            id_number=people.b_id,
            jurisdiction=tree.community_a,
        )
    found, created = services.person_get_or_create(
        actor=worker,
        name="张三",
        id_kind="ric",
        id_number=people.a_id,
        jurisdiction=tree.community_a,
    )
    assert (found.pk, created) == (people.a.pk, False)

    # Then both are recorded hits, and only the visible one names its person
    rows = AuditEvent.objects.filter(actor=worker, action="person.lookup").order_by("pk")
    assert [(r.detail["outcome"], r.object_id) for r in rows] == [
        ("hit", ""),
        ("hit", str(people.a.pk)),
    ]


def test_bulk_registration_audits_each_person_it_inserted_and_only_those(
    tree: Any, people: Any, make_user: Any
) -> None:
    # Given a sampler registering walk-ins in bulk: two new persons (one named twice),
    # one already registered in another town, one refused by validation
    sampler = make_user(Role.SAMPLER, tree.community_a)
    new_a, new_b = make_ric(601, "19700101"), make_ric(602, "19710101")
    entries = [
        services.PersonEntry(name="赵临时", id_kind="ric", id_number=new_a, phone="13900001111"),
        services.PersonEntry(name="钱临时", id_kind="ric", id_number=new_b),
        services.PersonEntry(name="赵临时", id_kind="ric", id_number=new_a),
        services.PersonEntry(name="李四", id_kind="ric", id_number=people.b_id),
        services.PersonEntry(name="坏号", id_kind="ric", id_number=new_a[:-1] + "Y"),
    ]
    before = AuditEvent.objects.filter(action="person.create").count()

    answers = services.person_bulk_get_or_create(
        actor=sampler, entries=entries, jurisdiction=tree.community_a
    )

    # Then exactly the two inserted persons have a person.create record, in the
    # sampler's name, with the jurisdiction and the masked name, and no number or phone
    assert isinstance(answers[4], DomainError)
    made = Person.objects.filter(name__in=["赵临时", "钱临时"])
    assert made.count() == 2
    rows = AuditEvent.objects.filter(action="person.create").order_by("pk")[before:]
    assert sorted((r.object_id, r.object_label, r.actor_id) for r in rows) == sorted(
        (str(p.pk), p.name[0] + "*" + p.name[-1], sampler.pk) for p in made
    )
    assert {r.jurisdiction_path for r in rows} == {tree.community_a.path}
    assert {r.detail["jurisdiction"] for r in rows} == {tree.community_a.path}
    every = str([(r.detail, r.object_label) for r in AuditEvent.objects.all()])
    for value in (new_a, new_b, people.b_id, "13900001111"):
        assert value not in every
    # The same entries again insert nothing and record nothing
    services.person_bulk_get_or_create(
        actor=sampler, entries=entries, jurisdiction=tree.community_a
    )
    assert AuditEvent.objects.filter(action="person.create").count() == before + 2


def test_a_lookup_refuses_to_run_inside_a_caller_s_transaction(
    people: Any, town_a_user: Any, tree: Any
) -> None:
    # A caller's rollback would take back the record of an answer already given (and the
    # budget's counter): the lookup must run in its own transaction, never inside one.
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        services.person_lookup(actor=town_a_user, query=people.a_id)
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        services.person_get_or_create(
            actor=town_a_user,
            name="张三",
            id_kind="ric",
            id_number=people.a_id,
            jurisdiction=tree.community_a,
        )
    assert not AuditEvent.objects.filter(action="person.lookup").exists()


def test_the_bulk_lookup_runs_only_inside_the_request_s_transaction() -> None:
    # No database here: outside any transaction the bulk entry refuses before a query
    # (its lock would end at once, and its records would not go with its answers).
    sampler = SimpleNamespace(pk=1, role="sampler", is_authenticated=True, scope_path="330483")
    asked = [LookupAsked(kind="ric", value_hash="0" * 64, hit=False)]
    with pytest.raises(RuntimeError, match="inside the transaction"):
        lookup_answer_many(actor=sampler, asked=asked)
    hits = [LookupHit(kind="ric", value_hash="0" * 64, person_id=1, person_path="330483")]
    with pytest.raises(RuntimeError, match="inside the transaction"):
        lookup_record_hits(actor=sampler, hits=hits)


def test_a_phone_lookup_finds_one_person_in_scope_and_is_recorded(
    tree: Any, people: Any, town_a_user: Any, settings: Any
) -> None:
    assert services.person_find_by_phone(actor=town_a_user, phone="138 1234 5678") == people.a
    # Town B's person is no one to town A's staff (no record of a miss: the caller
    # registers the person, audited as a creation)
    assert services.person_find_by_phone(actor=town_a_user, phone=people.b_phone) is None
    rows = AuditEvent.objects.filter(actor=town_a_user, action="person.lookup")
    assert [(r.detail["kind"], r.detail["outcome"], r.object_id) for r in rows] == [
        ("phone", "hit", str(people.a.pk))
    ]
    assert rows.get().detail["hash"] == services.phone_lookup_hash(people.a_phone)
    # It is budgeted like every lookup
    settings.FANGKONG_LOOKUP_BUDGETS = {"town_staff": 1}
    with pytest.raises(DomainError) as err:
        services.person_find_by_phone(actor=town_a_user, phone=people.a_phone)
    assert (err.value.status, err.value.code) == (429, "lookup_budget_exhausted")
