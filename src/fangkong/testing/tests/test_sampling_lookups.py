"""The sync's scans sent without a name are exact lookups by full ID number.

An item with an ID number and no name is answered `person_not_found` when the number is
not registered, so without limits the sync is a free yes/no check on any number: the
mask and the birth year leave about 33 candidates, and one batch can carry them all.
These tests play that attack as a sampler's phone and check that normal syncs keep
working, at a fixed number of queries per batch.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.services import token_create
from fangkong.people.models import Person
from fangkong.people.services import id_lookup_hash, person_create
from fangkong.people.tests.test_lookups import ric_candidates
from fangkong.testing.models import Sample
from fangkong.testing.services.sampling import sampling_sync, tube_close
from fangkong.testing.tests.test_sampling_api import payload
from fangkong.testkit.worlds.sampling import World, build_world, new_ric

pytestmark = pytest.mark.django_db

SYNC = "/api/testing/sampling/sync"
MISS_ALERT = django_settings.FANGKONG_LOOKUP_MISS_ALERT  # settings.py: 10 by default


@pytest.fixture
def world(tree: Any) -> World:
    return build_world(tree, persons=12)


def _phone(world: World) -> Any:
    """A sampler's phone: posts batches with its bearer token, answers the JSON."""
    _, plaintext = token_create(actor=world.admin, user=world.sampler, name="采样手机")
    client = Client()

    def send(tubes: list[Any]) -> dict[str, Any]:
        response = client.post(
            SYNC,
            json.dumps(payload(tubes)),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {plaintext}",
        )
        assert response.status_code == 200, response.content
        return response.json()

    return send


def _codes(answer: dict[str, Any]) -> list[str]:
    return [s["code"] or s["status"] for s in answer["samples"]]


def test_a_sampler_playing_the_33_candidate_attack_through_the_sync_is_stopped(
    world: World, client: Client
) -> None:
    # Given a registered resident whose mask and birth year the sampler knows, and every
    # checksum-valid candidate number, the true one last, sent without a name in one batch
    target = world.persons[0]
    true_number = world.rics[target.pk]
    stored = Person.objects.get(pk=target.pk)
    candidates = ric_candidates(stored.id_masked, int(stored.birth_year or 0))
    assert true_number in candidates and 25 < len(candidates) < 45
    candidates.remove(true_number)
    attack = [*candidates, true_number]
    samples = [world.sample(ric=number, minute=n % 50) for n, number in enumerate(attack)]
    tubes = [world.tube(samples[i : i + 10]) for i in range(0, len(samples), 10)]
    send = _phone(world)

    # When the phone sends the batch, then the true number alone in another batch
    answer = send(tubes)
    again = send([world.tube([world.sample(ric=true_number, minute=55)])])

    # Then the first misses are answered, and everything after the alert is refused, the
    # true number included: it is never told apart from the others
    codes = _codes(answer)
    assert codes[:MISS_ALERT] == ["person_not_found"] * MISS_ALERT
    assert set(codes[MISS_ALERT:]) == {"lookup_suspended"}
    assert _codes(again) == ["lookup_suspended"]
    assert not Sample.objects.filter(person=target).exists()

    # Each miss and each refusal is on record with the number's keyed hash, never the number
    misses = AuditEvent.objects.filter(actor=world.sampler, action="person.lookup")
    assert misses.count() == MISS_ALERT
    assert {(e.detail["outcome"], e.detail["via"]) for e in misses} == {("miss", "sync")}
    assert [e.detail["hash"] for e in misses.order_by("pk")] == [
        id_lookup_hash("ric", n) for n in attack[:MISS_ALERT]
    ]
    refused = AuditEvent.objects.filter(actor=world.sampler, action="person.lookup_refused")
    assert refused.count() == len(attack) - MISS_ALERT + 1
    assert refused.order_by("pk").last().detail == {
        "kind": "ric",
        "via": "sync",
        "hash": id_lookup_hash("ric", true_number),
        "code": "lookup_suspended",
    }
    every = str([(e.detail, e.object_label, e.object_id) for e in AuditEvent.objects.all()])
    assert not any(number in every for number in attack)

    # And the administrator is alerted
    alert = AuditEvent.objects.get(action="person.lookup_alert")
    assert (alert.actor, alert.detail["misses"]) == (world.sampler, MISS_ALERT)
    client.force_login(world.admin)
    page = client.get(reverse("people:lookup_alerts"))
    assert page.status_code == 200 and world.sampler.username in page.content.decode()


def test_a_normal_sync_with_walk_ins_and_a_few_unregistered_scans_still_works(
    world: World,
) -> None:
    # Given a batch of registered persons scanned, two walk-ins taken by name and phone,
    # and two unregistered cards scanned without a name
    registered = [world.sample(p) for p in world.persons[:6]]
    walk_in_numbers = [new_ric(), new_ric()]
    walk_ins = [
        world.sample(ric=walk_in_numbers[0], name="赵临时", phone="13900001111"),
        world.sample(ric=walk_in_numbers[1], name="钱临时", phone="13900002222"),
    ]
    unregistered = [world.sample(ric=new_ric()), world.sample(ric=new_ric())]

    # When it is synced
    result = sampling_sync(
        actor=world.sampler, tubes=[world.tube([*registered, *walk_ins, *unregistered])]
    )

    # Then the registered and the walk-ins are stored, the two unknown scans answered
    # person_not_found, each a recorded miss, and no alert
    assert [s.code or s.status for s in result.samples] == ["ok"] * 8 + ["person_not_found"] * 2
    assert Sample.objects.count() == 8
    lookups = AuditEvent.objects.filter(action="person.lookup")
    assert [e.detail["outcome"] for e in lookups] == ["miss", "miss"]
    assert not AuditEvent.objects.filter(action="person.lookup_alert").exists()
    # The walk-ins are registered, and their registration is on record (masked)
    created = AuditEvent.objects.filter(action="person.create", actor=world.sampler)
    assert sorted(e.object_label for e in created) == ["赵*时", "钱*时"]
    assert {e.detail["via"] for e in created} == {"bulk"}
    # A second sync of the same batch stores nothing twice and records the misses again
    again = sampling_sync(
        actor=world.sampler, tubes=[world.tube([*registered, *walk_ins, *unregistered])]
    )
    assert [s.code or s.status for s in again.samples] == (
        ["duplicate"] * 8 + ["person_not_found"] * 2
    )
    assert AuditEvent.objects.filter(action="person.create").count() == 12 + 2


def test_beyond_its_budget_a_sampler_s_scans_are_refused_registered_or_not(
    world: World, settings: Any
) -> None:
    settings.FANGKONG_LOOKUP_BUDGETS = {"sampler": 3}
    settings.FANGKONG_LOOKUP_MISS_ALERT = 100
    # Given four unregistered scans, then a registered one, then a walk-in by name
    samples = [
        *[world.sample(ric=new_ric()) for _ in range(4)],
        world.sample(world.persons[0]),
        world.sample(ric=new_ric(), name="孙临时", phone="13900003333"),
    ]

    result = sampling_sync(actor=world.sampler, tubes=[world.tube(samples)])

    # Then three misses are answered, and after them the registered person's scan is
    # refused like an unregistered one would be; the walk-in asks nothing and is stored
    assert [s.code or s.status for s in result.samples] == [
        "person_not_found",
        "person_not_found",
        "person_not_found",
        "lookup_budget_exhausted",
        "lookup_budget_exhausted",
        "ok",
    ]
    assert not Sample.objects.filter(person=world.persons[0]).exists()
    assert AuditEvent.objects.filter(action="person.lookup").count() == 3
    refused = AuditEvent.objects.filter(action="person.lookup_refused")
    assert [e.detail["code"] for e in refused] == ["lookup_budget_exhausted"] * 2
    assert not AuditEvent.objects.filter(action="person.lookup_alert").exists()


def test_a_registered_scan_refused_for_its_tube_is_recorded_as_a_hit(
    world: World, tree: Any
) -> None:
    # Given a closed tube, and a person of another town the sampler may not see
    first = world.tube([world.sample(world.persons[0])])
    sampling_sync(actor=world.sampler, tubes=[first])
    tube_close(actor=world.sampler, barcode=first.barcode)
    outsider_number = new_ric()
    outsider = person_create(
        actor=world.admin,
        name="外镇人",
        id_kind="ric",
        id_number=outsider_number,
        jurisdiction=tree.community_b,
    )
    late = world.tube(
        [
            world.sample(world.persons[1], minute=10),
            world.sample(ric=outsider_number, minute=11),
            world.sample(ric=new_ric(), minute=12),
        ],
        barcode=first.barcode,
    )

    # When registered and unregistered persons are scanned into it
    result = sampling_sync(actor=world.sampler, tubes=[late])

    # Then the answers still tell them apart (tube_closed / person_not_found), so each
    # is on record: the hits as hits, the outsider without their id
    assert [s.code for s in result.samples] == ["tube_closed", "tube_closed", "person_not_found"]
    rows = AuditEvent.objects.filter(action="person.lookup").order_by("pk")
    assert sorted((e.detail["outcome"], e.object_id) for e in rows) == [
        ("hit", ""),
        ("hit", str(world.persons[1].pk)),
        ("miss", ""),
    ]
    assert not rows.filter(object_id=str(outsider.pk)).exists()


def test_the_lookups_cost_the_same_queries_for_n_or_10n_scans(world: World, settings: Any) -> None:
    settings.FANGKONG_LOOKUP_MISS_ALERT = 1000
    settings.FANGKONG_LOOKUP_BUDGETS = {"sampler": 1000}

    def batch(n: int) -> list[Any]:
        # Tubes of 3 under a pool size of 10: none fills, so no batch closes a tube
        samples = [
            *[world.sample(ric=new_ric()) for _ in range(n)],  # misses
            *[world.sample(ric=new_ric(), name="临时", phone="13900004444") for _ in range(n)],
            *[world.sample(p) for p in world.persons[:n]],  # hits
        ]
        return [world.tube(samples[i : i + 3]) for i in range(0, len(samples), 3)]

    small, large = batch(1), batch(10)
    with CaptureQueriesContext(connection) as few:
        sampling_sync(actor=world.sampler, tubes=small)
    with CaptureQueriesContext(connection) as many:
        sampling_sync(actor=world.sampler, tubes=large)

    assert AuditEvent.objects.filter(action="person.lookup").count() == 11
    assert AuditEvent.objects.filter(action="person.create", detail__via="bulk").count() == 11
    assert len(many.captured_queries) == len(few.captured_queries)
    lookups = [q["sql"] for q in many.captured_queries if "accounts_auditevent" in q["sql"]]
    assert len(lookups) == 3  # the window's counts, the misses, the walk-ins' registrations


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_syncs_of_one_sampler_cannot_overrun_the_miss_alert(tree: Any) -> None:
    """A phone (or a script with its token) sending batches in parallel: the sampler's
    row is locked while its misses are counted, so the syncs are counted one at a time
    and exactly MISS_ALERT misses are answered, whatever the interleaving."""
    from fangkong.testkit.concurrency import race

    world = build_world(tree, persons=2)
    batches = [[world.tube([world.sample(ric=new_ric()) for _ in range(5)])] for _ in range(4)]

    results, errors = race(
        *[lambda b=b: sampling_sync(actor=world.sampler, tubes=b) for b in batches]
    )

    assert errors == []
    codes = sorted(s.code for r in results for s in r.samples)
    assert codes.count("person_not_found") == MISS_ALERT
    assert codes.count("lookup_suspended") == 20 - MISS_ALERT
    assert AuditEvent.objects.filter(action="person.lookup").count() == MISS_ALERT
    assert AuditEvent.objects.filter(action="person.lookup_alert").count() == 1
