"""Concurrent imports of the same results by one lab (PostgreSQL): every tube resulted
once, its pool held once — the second import waits for the first and finds its rows
unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.testing.models import Hold, Recheck, ResultImport, TubeResult
from fangkong.testing.services import results as result_services
from fangkong.testkit.concurrency import race
from fangkong.testkit.worlds.labs import build_world, received_tube, results_csv


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_imports_of_the_same_results(tree: Any, make_user: Any) -> None:
    world = build_world(tree, make_user)
    received_tube(world, world.persons_a, barcode="TAPOS")
    received_tube(world, world.persons_b, barcode="TBNEG")
    rows = [
        ("TAPOS", "阳性", 28, 29, "2022-07-10 14:00"),
        ("TBNEG", "阴性", "", "", "2022-07-10 14:00"),
    ]
    first, second = results_csv(rows), results_csv(rows) + b"\n"  # two files, same rows

    results, errors = race(
        lambda: result_services.results_import_file(
            actor=world.lab_user, data=first, filename="a.csv"
        ),
        lambda: result_services.results_import_file(
            actor=world.lab_user, data=second, filename="b.csv"
        ),
    )

    assert errors == []
    assert sorted(r.applied for r in results) == [0, 2]
    assert sorted(r.unchanged for r in results) == [0, 2]
    assert TubeResult.objects.count() == 2 and ResultImport.objects.count() == 2
    assert Hold.objects.count() == 10 and Recheck.objects.count() == 10
