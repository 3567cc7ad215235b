"""Odd input on the mass-testing pages is a 4xx or an ignored filter, never a 500:
digits that are not ASCII ("²".isdigit() is True, int("²") fails), slashes in barcodes."""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.accounts.roles import Role
from fangkong.testkit import testing

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/testing/points/?jurisdiction=²",
        "/testing/sampling/?point=²",
        "/testing/rounds/new/?jurisdictions=²",
        "/testing/coverage/",
    ],
)
def test_non_ascii_digits_never_fail(client: Any, command_user: Any, url: str) -> None:
    client.force_login(command_user)
    assert client.get(url).status_code < 500


def test_lab_and_tube_lookups_never_fail(client: Any, tree: Any, make_user: Any) -> None:
    point = testing.point(tree.community_a)
    sampler = make_user(Role.SAMPLER, tree.community_a)
    sampler.place = point.place
    sampler.save(update_fields=["place"])
    lab = testing.lab(tree.town_a)
    lab_user = make_user(Role.LAB, tree.town_a)
    lab_user.place = lab
    lab_user.save(update_fields=["place"])

    client.force_login(sampler)
    response = client.post("/testing/boxes/", {"lab": "abc", "barcode": "BOX1"})
    assert response.status_code in (200, 400, 404)
    client.force_login(lab_user)
    assert client.get("/testing/lab/results/?tube=a/b").status_code == 200


BAD = ["²", "\x00", "-1", "9" * 40, "abc", "１２", "2022-13-45T25:61", "x" * 5000]


def test_no_form_of_the_testing_pages_fails_on_odd_input(
    client: Any, tree: Any, command_user: Any, make_user: Any
) -> None:
    """Every form-backed POST of the mass-testing pages, each field spoilt in turn: a 4xx,
    or the page's refusal flashed after a redirect, never a 500; nothing is written."""
    from fangkong.testing.models import Round, SamplingPoint, SupplyStock

    point = testing.point(tree.community_a)
    stock_place = testing.point(tree.community_a, name="仓库点").place
    client.force_login(command_user)
    client.post(
        "/testing/supplies/new/",
        {"place": str(stock_place.pk), "kind": "swab", "quantity": "10"},
    )
    stock = SupplyStock.objects.first()
    assert stock is not None
    forms: list[tuple[str, dict[str, str], list[str]]] = [
        (
            "/testing/points/new/",
            {"place": str(point.place.pk), "tables": "2", "samplers": "4"},
            ["place", "tables", "samplers", "opens_at", "closes_at"],
        ),
        (
            f"/testing/points/{point.pk}/edit/",
            {"tables": "2", "samplers": "4"},
            ["tables", "samplers", "opens_at", "closes_at"],
        ),
        (f"/testing/points/{point.pk}/queue/", {"status": "normal"}, ["length", "status"]),
        (
            "/testing/supplies/new/",
            {"place": str(stock_place.pk), "kind": "swab"},
            ["place", "quantity", "low_threshold", "kind"],
        ),
        (f"/testing/supplies/{stock.pk}/receive/", {"quantity": "1"}, ["quantity", "reason"]),
        (
            f"/testing/supplies/{stock.pk}/transfer/",
            {"quantity": "1", "to_place": str(point.place.pk)},
            ["quantity", "to_place"],
        ),
        (
            "/testing/rounds/new/",
            {
                "name": "第一轮",
                "starts_at": "2022-07-01T08:00",
                "jurisdictions": str(tree.town_a.pk),
            },
            ["jurisdictions", "zones", "starts_at", "sealed_pooling"],
        ),
        ("/testing/rechecks/1/sample/", {"barcode": "R1"}, ["lab", "barcode"]),
    ]
    before = (Round.objects.count(), SamplingPoint.objects.count(), SupplyStock.objects.count())
    for url, base, fields in forms:
        for field in fields:
            for value in BAD:
                for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
                    response = client.post(url, {**base, field: value}, **headers)
                    assert response.status_code < 500, (url, field, value, headers)
    assert Round.objects.count() == before[0]
    assert SamplingPoint.objects.count() == before[1]


@pytest.mark.parametrize(
    ("url", "data", "code"),
    [
        ("/testing/points/new/", {"tables": "１２"}, "point_value_invalid"),
        ("/testing/points/new/", {"place": "²"}, "point_value_invalid"),
        ("/testing/points/new/", {"opens_at": "25:00"}, "time_invalid"),
        ("/testing/rounds/new/", {"jurisdictions": "²"}, "id_invalid"),
        ("/testing/rounds/new/", {"starts_at": "tomorrow"}, "datetime_invalid"),
    ],
)
def test_bad_values_are_400_with_their_code(
    client: Any, tree: Any, command_user: Any, url: str, data: dict[str, str], code: str
) -> None:
    point = testing.point(tree.community_a)
    base = {
        "/testing/points/new/": {"place": str(point.place.pk), "tables": "2", "samplers": "4"},
        "/testing/rounds/new/": {
            "name": "第一轮",
            "starts_at": "2022-07-01T08:00",
            "jurisdictions": str(tree.town_a.pk),
        },
    }[url]
    client.force_login(command_user)
    response = client.post(url, {**base, **data})
    assert response.status_code == 400
    assert f'data-code="{code}"' in response.content.decode()


def test_filters_and_advice_never_fail(client: Any, command_user: Any) -> None:
    client.force_login(command_user)
    for url, key in (
        ("/testing/points/", "queue"),
        ("/testing/supplies/", "low"),
        ("/testing/rounds/", "status"),
        ("/testing/rechecks/", "overdue"),
        ("/testing/holds/", "state"),
        ("/testing/coverage/", "cursor"),
        ("/testing/rounds/advice/", "prevalence"),
    ):
        for value in BAD:
            assert client.get(url, {key: value}).status_code < 500, (url, key, value)
    advice = client.get("/testing/rounds/advice/", {"prevalence": "nan"})
    assert advice.status_code == 400


def test_the_results_page_query_never_fails(client: Any, tree: Any, make_user: Any) -> None:
    lab = testing.lab(tree.town_a)
    lab_user = make_user(Role.LAB, tree.town_a)
    lab_user.place = lab
    lab_user.save(update_fields=["place"])
    client.force_login(lab_user)
    for value in BAD:  # "²".isdigit() is True, int("²") fails
        for key in ("job", "tube"):
            response = client.get("/testing/lab/results/", {key: value})
            assert response.status_code < 500, (key, value)
    assert client.get("/testing/lab/results/", {"job": "²"}).status_code == 200
