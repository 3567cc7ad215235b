"""Shared fixtures: a small city tree and one user per role.

Test data is built through the product's own services where they exist; these fixtures
only lay the reference data (jurisdictions) that every test needs.
"""

from __future__ import annotations

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(
                pytest.mark.skip(reason="needs PostgreSQL: runs in `make test`'s PostgreSQL pass")
            )


pytest_plugins = ["fangkong.testkit.fixtures"]


@pytest.fixture(autouse=True)
def _jobs_in_process(settings: object) -> None:
    """Background jobs run inside the request in tests (the immediate backend); the
    product's default is the database backend and a `fangkong db_worker` process."""
    settings.TASKS = {  # type: ignore[attr-defined]
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}
    }


@pytest.fixture(autouse=True)
def _fresh_cache() -> object:
    """Every test starts (and ends) with an empty cache: pages keep rendered parts in it
    (the dashboard's figures, the menus), keyed by what a test may well repeat (the same
    city path, day and frozen time)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: object) -> None:
    """Tests create many users; production hashing (PBKDF2) would cost minutes per run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _shipped_rule_sets(request: pytest.FixtureRequest) -> None:
    """Keep the rule sets that migrations ship (v8, v9) present in every database test.

    A transactional test (browser tests, concurrency tests) ends by flushing every table,
    which also removes rows that data migrations created; later tests would then find no
    rule set in force. Re-installing them costs one query when they are present.
    """
    names = set(request.fixturenames)
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & names
    )
    if marker is None and not ({"db", "transactional_db", "live_server"} & names):
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    from fangkong.testkit.command import departments_ensure
    from fangkong.testkit.fixtures import shipped_rule_sets_ensure
    from fangkong.testkit.quarantine_inspections import shipped_checklist_ensure

    shipped_rule_sets_ensure()
    shipped_checklist_ensure()
    departments_ensure()
