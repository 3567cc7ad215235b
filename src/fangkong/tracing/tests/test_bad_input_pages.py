"""Odd input to every form of the tracing pages is a 4xx (or the page's own refusal,
flashed after a redirect), never a 500, and writes nothing; the refusals keep their codes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fangkong.accounts.roles import Role
from fangkong.people import services as people_services
from fangkong.testkit.people import ric
from fangkong.tracing.models import Case, CaseLink, Cluster, Contact, ItineraryStop
from fangkong.tracing.services import cases as case_services

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
BAD = ["²", "\x00", "-1", "9" * 40, "abc", "１２", "2022-13-45T25:61", "x" * 5000]


@pytest.fixture
def world(tree: Any, make_user: Any, command_user: Any) -> Any:
    investigator = make_user(Role.INVESTIGATOR, tree.city, "investigator")
    person = people_services.person_create(
        actor=command_user,
        name="张三",
        id_kind="ric",
        id_number=ric(901),
        jurisdiction=tree.community_a,
    )
    case = case_services.case_create(
        actor=investigator,
        person=person,
        kind="asymptomatic",
        first_positive_sampled_on=timezone.localdate() - dt.timedelta(days=2),
    )
    client = Client()
    client.force_login(investigator)
    admin = make_user(Role.ADMIN, tree.city, "admin")

    class World:
        pass

    w = World()
    w.client, w.case, w.person, w.tree = client, case, person, tree  # type: ignore[attr-defined]
    w.admin = admin  # type: ignore[attr-defined]
    return w


def _counts() -> tuple[int, ...]:
    return (
        Case.objects.count(),
        Contact.objects.count(),
        ItineraryStop.objects.count(),
        CaseLink.objects.count(),
        Cluster.objects.count(),
    )


def _forms(w: Any) -> list[tuple[str, dict[str, str], list[str]]]:
    """(url, valid-looking base data, the fields to spoil) of every form-backed POST."""
    pk = w.case.pk
    day = timezone.localdate().isoformat()
    return [
        (
            reverse("tracing:case_create"),
            {"person": str(w.person.pk), "kind": "asymptomatic", "first_positive_sampled_on": day},
            ["person", "first_positive_sampled_on", "onset_date", "kind", "origin"],
        ),
        (reverse("tracing:case_person_search"), {"q": "张"}, ["q"]),
        (
            reverse("tracing:case_stop_add", args=[pk]),
            {"address": "家中", "start": f"{day}T09:00", "end": f"{day}T10:00"},
            ["start", "end", "venue_code"],
        ),
        (reverse("tracing:case_find_contacts", args=[pk]), {}, ["tolerance_minutes"]),
        (
            reverse("tracing:case_add_contact", args=[pk]),
            {
                "name": "李四",
                "id_number": ric(902),
                "jurisdiction": str(w.tree.community_a.pk),
                "exposed_on": day,
            },
            ["jurisdiction", "exposed_on", "id_kind", "classification"],
        ),
        (reverse("tracing:case_chain_action", args=[pk, "unlink"]), {}, ["link"]),
        (reverse("tracing:case_chain_action", args=[pk, "cluster"]), {}, ["cluster"]),
        (reverse("tracing:case_chain_action", args=[pk, "link"]), {}, ["infector"]),
        (reverse("tracing:case_core_facts", args=[pk]), {}, ["symptoms"]),
        (reverse("tracing:cluster_list"), {}, ["name"]),
    ]


def test_no_form_of_the_tracing_pages_fails_on_odd_input(world: Any) -> None:
    for url, base, fields in _forms(world):
        for field in fields:
            for value in BAD:
                for headers in ({}, HX):
                    response = world.client.post(url, {**base, field: value}, **headers)
                    assert response.status_code < 500, (url, field, value, headers)


@pytest.mark.parametrize(
    ("url_name", "data", "code"),
    [
        ("tracing:case_create", {"person": "²"}, "person_required"),
        ("tracing:case_create", {"first_positive_sampled_on": ""}, "date_required"),
        ("tracing:case_create", {"first_positive_sampled_on": "2022-13-45"}, "date_invalid"),
        ("tracing:case_create", {"onset_date": "yesterday"}, "date_invalid"),
        ("tracing:case_stop_add", {"start": "nine"}, "datetime_invalid"),
        ("tracing:case_stop_add", {"end": ""}, "datetime_invalid"),
    ],
)
def test_bad_values_are_400_with_their_code_and_write_nothing(
    world: Any, url_name: str, data: dict[str, str], code: str
) -> None:
    day = timezone.localdate().isoformat()
    base = {
        "tracing:case_create": {
            "person": str(world.person.pk),
            "kind": "symptomatic",
            "first_positive_sampled_on": day,
        },
        "tracing:case_stop_add": {
            "address": "家中",
            "start": f"{day}T09:00",
            "end": f"{day}T10:00",
        },
    }[url_name]
    args = [] if url_name == "tracing:case_create" else [world.case.pk]
    before = _counts()
    response = world.client.post(reverse(url_name, args=args), {**base, **data}, **HX)
    assert response.status_code == 400
    assert f'data-code="{code}"' in response.content.decode()
    assert _counts() == before


def test_contact_form_refusals_keep_their_codes_in_the_fragment(world: Any) -> None:
    url = reverse("tracing:case_add_contact", args=[world.case.pk])
    before = _counts()
    for data in (
        {"jurisdiction": "²", "exposed_on": "2022-04-01"},
        {"jurisdiction": "", "exposed_on": "x"},
    ):
        response = world.client.post(url, {"name": "李四", **data}, **HX)
        assert response.status_code == 400
    tolerance = world.client.post(
        reverse("tracing:case_find_contacts", args=[world.case.pk]),
        {"tolerance_minutes": "abc"},
        **HX,
    )
    assert tolerance.status_code == 400
    assert "1440" in tolerance.content.decode()
    assert _counts() == before


def test_list_filters_that_are_not_understood_are_ignored_or_refused_never_a_500(
    world: Any,
) -> None:
    for url in (
        reverse("tracing:case_list"),
        reverse("tracing:contact_list"),
        reverse("tracing:push_list"),
        reverse("tracing:chain_graph"),
        reverse("tracing:contact_detail", args=[1]),
    ):
        for value in BAD:
            for key in ("status", "town", "since", "overdue", "case", "cluster", "found", "cursor"):
                assert world.client.get(url, {key: value}).status_code < 500, (url, key, value)
    admin = Client()
    admin.force_login(world.admin)
    for value in BAD:  # "²".isdigit() is True, int("²") fails
        assert admin.get(reverse("tracing:scan_import"), {"job": value}).status_code < 500
    since = world.client.get(reverse("tracing:case_list"), {"since": "2022-13-45"})
    assert since.status_code == 400
