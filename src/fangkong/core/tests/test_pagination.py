"""Keyset pages: by primary key, by an order of several fields, and over a computed list."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models import QuerySet
from django.utils import timezone

from fangkong.accounts.models import AccessToken
from fangkong.accounts.services import token_create
from fangkong.areas.models import Jurisdiction
from fangkong.core.errors import DomainError
from fangkong.core.pagination import encode_values, keyset_page, sequence_page


def _walk(qs: QuerySet[Any], size: int, **kwargs: Any) -> list[int]:
    seen: list[int] = []
    cursor = None
    for _ in range(100):
        page = keyset_page(qs, cursor=cursor, size=size, **kwargs)
        seen += [row.pk for row in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("the pages never ended")


@pytest.mark.parametrize("size", [1, 2, 3, 200])
@pytest.mark.parametrize(
    "order", [("level", "-pk"), ("-level", "path", "pk"), ("-path", "-pk"), ("name", "pk")]
)
def test_pages_in_an_order_of_fields_walk_every_row_once_in_that_order(
    tree: Any, size: int, order: tuple[str, ...]
) -> None:
    qs = Jurisdiction.objects.all()
    expected = list(qs.order_by(*order).values_list("pk", flat=True))

    assert len(expected) > 3
    assert _walk(qs, size, order=order) == expected


@pytest.mark.parametrize("size", [1, 2, 5])
def test_pages_by_a_time_walk_rows_with_equal_and_close_times(
    make_user: Any, tree: Any, size: int
) -> None:
    """Times to the microsecond survive the cursor, and ties fall back to the key."""
    from fangkong.accounts.roles import Role

    user = make_user(Role.COMMAND, tree.city, "pager")
    for n in range(7):
        token_create(actor=user, user=user, name=f"t{n}")
    same = timezone.now().replace(microsecond=123456)
    AccessToken.objects.filter(name__in=["t1", "t2", "t3"]).update(created_at=same)
    AccessToken.objects.filter(name="t4").update(created_at=same + dt.timedelta(microseconds=1))
    qs = AccessToken.objects.filter(user=user)
    order = ("-created_at", "-pk")

    assert _walk(qs, size, order=order) == list(qs.order_by(*order).values_list("pk", flat=True))


def test_the_last_page_has_no_cursor_and_an_empty_list_one_page(tree: Any) -> None:
    qs = Jurisdiction.objects.all()
    everything = keyset_page(qs, cursor=None, size=200, order=("path", "pk"))
    nothing = keyset_page(qs.none(), cursor=None, size=5, order=("path", "pk"))

    assert everything.next_cursor is None and len(everything.items) == qs.count()
    assert (nothing.items, nothing.next_cursor) == ([], None)


@pytest.mark.parametrize(
    "cursor",
    [
        "!!",
        encode_values(["town"]),  # one value where the order has two
        encode_values(["town", "x"]),  # not a key
        encode_values([1.5, 2]),
        "bm90IGpzb24",  # "not json"
    ],
)
def test_a_bad_cursor_is_invalid_cursor(tree: Any, cursor: str) -> None:
    with pytest.raises(DomainError) as refused:
        keyset_page(Jurisdiction.objects.all(), cursor=cursor, size=5, order=("level", "pk"))

    assert refused.value.code == "invalid_cursor"


def test_a_bad_time_in_a_cursor_is_invalid_cursor(db: None) -> None:
    with pytest.raises(DomainError) as refused:
        keyset_page(
            AccessToken.objects.all(),
            cursor=encode_values(["yesterday", 1]),
            size=5,
            order=("-created_at", "-pk"),
        )

    assert refused.value.code == "invalid_cursor"


def test_an_order_must_end_with_the_key_and_refuses_nullable_fields(db: None) -> None:
    with pytest.raises(ValueError, match="primary key"):
        keyset_page(Jurisdiction.objects.all(), cursor=None, order=("path",))
    with pytest.raises(ValueError, match="NULL"):
        keyset_page(AccessToken.objects.all(), cursor=None, order=("-expires_at", "-pk"))


@pytest.mark.parametrize("size", [1, 2, 4, 10])
def test_a_computed_list_pages_by_its_key(size: int) -> None:
    rows = [(lab, rnd) for lab in (1, 2, 3) for rnd in (5, 9)]
    seen: list[tuple[int, int]] = []
    cursor = None
    while True:
        page = sequence_page(rows, key=lambda r: r, cursor=cursor, size=size)
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == rows


@pytest.mark.parametrize("cursor", ["!!", encode_values([1]), encode_values(["a", "b"])])
def test_a_computed_lists_bad_cursor_is_invalid_cursor(cursor: str) -> None:
    with pytest.raises(DomainError) as refused:
        sequence_page([(1, 2), (3, 4)], key=lambda r: r, cursor=cursor, size=1)

    assert refused.value.code == "invalid_cursor"


def test_page_size_is_bounded(db: None) -> None:
    for size in (0, 201):
        with pytest.raises(DomainError) as refused:
            keyset_page(Jurisdiction.objects.all(), cursor=None, size=size, order=("path", "pk"))
        assert refused.value.code == "invalid_page_size"
