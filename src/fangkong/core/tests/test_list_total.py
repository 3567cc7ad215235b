"""A list's total (core.pagination): exact up to a cap, counted in one bounded query,
and known without a query when the first page is the whole list."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.areas.models import Jurisdiction
from fangkong.core.pagination import ListTotal, keyset_page, list_total, shown_total


def test_a_total_is_exact_under_the_cap_and_capped_above(tree: Any) -> None:
    qs = Jurisdiction.objects.all()  # the tree's 6 jurisdictions

    assert list_total(qs) == ListTotal(count=6)
    assert list_total(qs, cap=6) == ListTotal(count=6)
    capped = list_total(qs, cap=4)
    assert capped == ListTotal(count=4, capped=True)
    assert capped.display == "4+" and ListTotal(count=12345).display == "12,345"


def test_the_count_is_bounded_by_the_cap(tree: Any) -> None:
    with CaptureQueriesContext(connection) as queries:
        list_total(Jurisdiction.objects.all(), cap=4)

    assert len(queries) == 1
    assert "LIMIT 5" in queries[0]["sql"]


def test_a_page_knows_its_lists_total(tree: Any) -> None:
    qs = Jurisdiction.objects.all()
    with CaptureQueriesContext(connection) as whole:
        one_page = keyset_page(qs, cursor=None, size=10, with_total=True)
    first = keyset_page(qs, cursor=None, size=4, with_total=True)
    second = keyset_page(qs, cursor=first.next_cursor, size=4, with_total=True)

    assert one_page.total == ListTotal(count=6)
    assert len(whole) == 2  # keys and rows: a first page that is the whole list counts nothing
    assert first.total == second.total == ListTotal(count=6)  # the list's, not the page's
    assert keyset_page(qs, cursor=None, size=4).total is None


def test_a_list_shown_up_to_a_limit_counts_only_past_it(tree: Any) -> None:
    qs = Jurisdiction.objects.all()
    rows = list(qs[:3])

    with CaptureQueriesContext(connection) as queries:
        assert shown_total(rows, limit=5, qs=qs) == ListTotal(count=3)
    assert not queries
    assert shown_total(rows, limit=3, qs=qs) == ListTotal(count=6)
