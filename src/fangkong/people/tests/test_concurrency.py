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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_lookups_cannot_overrun_the_budget(
    tree: Any, town_a_user: Any, settings: Any
) -> None:
    """A burst of parallel lookups by one user is counted one at a time (the user's row
    is locked while the audit records are counted): exactly the budget is answered."""
    from fangkong.accounts.models import AuditEvent
    from fangkong.core.errors import DomainError
    from fangkong.testkit.concurrency import race

    settings.FANGKONG_LOOKUP_BUDGETS = {"town_staff": 3}
    number = make_ric(44)

    def one() -> int:
        return len(services.person_lookup(actor=town_a_user, query=number))

    results, errors = race(*[one] * 8)

    assert len(results) == 3
    assert [e.code for e in errors if isinstance(e, DomainError)] == ["lookup_budget_exhausted"] * 5
    assert AuditEvent.objects.filter(action="person.lookup").count() == 3
    assert AuditEvent.objects.filter(action="person.lookup_refused").count() == 5
