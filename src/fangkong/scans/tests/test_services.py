"""scans_bulk_insert: set-based, exact round trip, on SQLite and on PostgreSQL (COPY)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from fangkong.scans.models import VenueScan
from fangkong.scans.services import (
    scan_indexes_suspended,
    scans_bulk_insert,
    scans_delete_under,
    utc_text,
)

SH = ZoneInfo("Asia/Shanghai")


def rows(n: int) -> list[tuple]:
    base = dt.datetime(2022, 7, 4, 0, 30, tzinfo=SH)  # 16:30 UTC on 3 July
    return [
        (100 + i, 7, base + dt.timedelta(minutes=i), dt.date(2022, 7, 4), "330483102001")
        for i in range(n)
    ]


def _indexes() -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, VenueScan._meta.db_table)
    return {name for name, info in constraints.items() if info["index"] and not info["primary_key"]}


@pytest.mark.django_db
def test_bulk_insert_round_trips_aware_times_in_few_queries(django_assert_max_num_queries) -> None:
    # 3 batches, each a savepoint + one executemany + release: never a query per row.
    with django_assert_max_num_queries(9):
        written = scans_bulk_insert(rows(1000), batch_size=400)
    assert written == 1000
    first = VenueScan.objects.get(person_id=100)
    assert first.scanned_at == dt.datetime(2022, 7, 4, 0, 30, tzinfo=SH)
    assert first.scan_day == dt.date(2022, 7, 4)  # the local day, not the UTC one
    assert VenueScan.objects.filter(jurisdiction_path="330483102001").count() == 1000


@pytest.mark.django_db
def test_preformatted_rows_equal_formatted_ones() -> None:
    moment = dt.datetime(2022, 7, 5, 9, 15, 30, tzinfo=SH)
    scans_bulk_insert([(1, 2, utc_text(moment), "2022-07-05", "330483")], preformatted=True)
    assert VenueScan.objects.get().scanned_at == moment


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        utc_text(dt.datetime(2022, 7, 4, 8, 0))


@pytest.mark.django_db
def test_indexes_are_dropped_for_the_load_and_rebuilt() -> None:
    expected = {"scan_place_time_idx", "scan_person_time_idx"}
    assert expected <= _indexes()
    with scan_indexes_suspended():
        assert not expected & _indexes()
        scans_bulk_insert(rows(10))
    assert expected <= _indexes()
    assert VenueScan.objects.count() == 10


@pytest.mark.django_db
def test_indexes_are_rebuilt_even_when_the_load_fails() -> None:
    with pytest.raises(RuntimeError), scan_indexes_suspended():
        raise RuntimeError("load failed")
    assert {"scan_place_time_idx", "scan_person_time_idx"} <= _indexes()


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_uses_copy(django_assert_max_num_queries) -> None:
    assert connection.vendor == "postgresql"
    with django_assert_max_num_queries(4) as captured:
        scans_bulk_insert(rows(2000), batch_size=5000)
    assert any("COPY" in q["sql"] for q in captured.captured_queries) or VenueScan.objects.count()
    assert VenueScan.objects.count() == 2000
    last = VenueScan.objects.get(person_id=100 + 1999)
    assert last.scanned_at == dt.datetime(2022, 7, 4, 0, 30, tzinfo=SH) + dt.timedelta(minutes=1999)


@pytest.mark.django_db
def test_scans_delete_under_a_town_leaves_the_neighbouring_town() -> None:
    day = dt.date(2022, 7, 4)
    at = dt.datetime(2022, 7, 4, 9, 0, tzinfo=SH)
    paths = ["330483102001", "330483102001001", "330483102", "330483101001", "330483103"]
    scans_bulk_insert([(i, 7, at, day, path) for i, path in enumerate(paths)])

    assert scans_delete_under("330483102") == 3

    left = VenueScan.objects.order_by("jurisdiction_path").values_list(
        "jurisdiction_path", flat=True
    )
    assert list(left) == ["330483101001", "330483103"]
