"""Two concurrent registrations of the same ID number yield one person (PostgreSQL)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from fangkong.core.errors import Conflict
from fangkong.people import services
from fangkong.people.models import Person

from .conftest import make_ric


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_get_or_create_yields_one_person(tree: Any, town_a_user: Any) -> None:
    number = make_ric(42)
    barrier = threading.Barrier(2, timeout=10)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def register() -> None:
        try:
            barrier.wait()
            person, created = services.person_get_or_create(
                actor=town_a_user,
                name="张三",
                id_kind="ric",
                id_number=number,
                jurisdiction=tree.community_a,
            )
            results.append((person.pk, created))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=register) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len(results) == 2
    assert results[0][0] == results[1][0]
    assert sorted(created for _, created in results) == [False, True]
    assert Person.objects.filter(name="张三").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_create_refuses_the_second(tree: Any, town_a_user: Any) -> None:
    number = make_ric(43)
    barrier = threading.Barrier(2, timeout=10)
    outcomes: list[str] = []

    def register() -> None:
        try:
            barrier.wait()
            services.person_create(
                actor=town_a_user,
                name="李四",
                id_kind="ric",
                id_number=number,
                jurisdiction=tree.community_a,
            )
            outcomes.append("created")
        except Conflict as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=register) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["created", "person_exists"]
    assert Person.objects.filter(name="李四").count() == 1
