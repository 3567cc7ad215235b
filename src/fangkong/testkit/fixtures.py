"""Shared pytest fixtures: a small city tree and users bound to its jurisdictions.

city:    桐乡市 330483
  town_a:  乌镇镇 330483102 → community_a 330483102001 → grid_a 330483102001001
  town_b:  濮院镇 330483101 → community_b 330483101001
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from fangkong.accounts.roles import Role


def shipped_rule_sets_ensure() -> None:
    """Re-install the rule sets that migrations ship (v8, v9) if a flush removed them.

    A transactional test (browser tests, concurrency tests) ends by flushing every table,
    which also removes rows that data migrations created. One query when they are there."""
    from importlib import import_module

    from fangkong.protocol.models import RuleSet

    shipped = import_module("fangkong.protocol.migrations.0003_ship_versions_8_and_9").RULESETS
    updates = import_module(
        "fangkong.protocol.migrations.0005_v9_secondary_release"
    ).RULESET_UPDATES
    if RuleSet.objects.filter(version__in=list(shipped)).count() == len(shipped):
        return
    for version, values in shipped.items():
        RuleSet.objects.get_or_create(version=version, defaults={**values, **updates[version]})


@dataclass
class Tree:
    city: Any
    town_a: Any
    community_a: Any
    grid_a: Any
    town_b: Any
    community_b: Any


def _node(level: str, code: str, name: str, parent: Any = None) -> Any:
    from fangkong.areas.models import Jurisdiction

    return Jurisdiction.objects.create(
        level=level,
        code=code,
        name=name,
        parent=parent,
        path=code,
        depth=0 if parent is None else parent.depth + 1,
    )


@pytest.fixture(autouse=True)
def _kit_forgets_its_admin() -> Any:
    """The kit's admin account lives as long as the test's rows (see testkit.actors)."""
    from fangkong.testkit.actors import forget

    forget()
    yield
    forget()


@pytest.fixture
def tree(db: None) -> Tree:
    city = _node("city", "330483", "桐乡市")
    town_a = _node("town", "330483102", "乌镇镇", city)
    community_a = _node("community", "330483102001", "虹桥村", town_a)
    grid_a = _node("grid", "330483102001001", "虹桥村第一网格", community_a)
    town_b = _node("town", "330483101", "濮院镇", city)
    community_b = _node("community", "330483101001", "永越村", town_b)
    return Tree(city, town_a, community_a, grid_a, town_b, community_b)


@pytest.fixture
def make_user(db: None) -> Any:
    """make_user(role, jurisdiction, username=None, password="pw-Fangkong-2022") -> User"""
    from fangkong.accounts.models import User

    counter = {"n": 0}

    def make(
        role: str,
        jurisdiction: Any,
        username: str | None = None,
        password: str = "pw-Fangkong-2022",
    ) -> Any:
        counter["n"] += 1
        user = User.objects.create_user(
            username=username or f"{role}-{counter['n']}",
            password=password,
            role=role,
            jurisdiction=jurisdiction,
            scope_path=jurisdiction.path,
        )
        return user

    return make


@pytest.fixture
def command_user(tree: Tree, make_user: Any) -> Any:
    return make_user(Role.COMMAND, tree.city, "command")


@pytest.fixture
def town_a_user(tree: Tree, make_user: Any) -> Any:
    return make_user(Role.TOWN_STAFF, tree.town_a, "town-a")


@pytest.fixture
def town_b_user(tree: Tree, make_user: Any) -> Any:
    return make_user(Role.TOWN_STAFF, tree.town_b, "town-b")


@pytest.fixture
def investigator(tree: Tree, make_user: Any) -> Any:
    return make_user(Role.INVESTIGATOR, tree.city, "investigator")


@pytest.fixture
def department_user(tree: Tree) -> Any:
    """A 卫健局 (health department) account, a member of that department."""
    from fangkong.testkit.command import department_user as build

    return build("health", username="dept-health")


@pytest.fixture
def admin_user(tree: Tree, make_user: Any) -> Any:
    return make_user(Role.ADMIN, tree.city, "admin")


@pytest.fixture
def lab_user(tree: Tree, make_user: Any) -> Any:
    return make_user(Role.LAB, tree.city, "lab")


@pytest.fixture
def ruleset(db: None) -> Any:
    """Protocol version 9, the rule set in force from 2022-06-28 (shipped by the protocol
    app's data migration; the root conftest re-installs it after a transactional test)."""
    from fangkong.protocol.models import RuleSet

    return RuleSet.objects.get(version="v9")


BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def browser_page() -> Any:
    """A Playwright page in Debian's chromium (the project never downloads a browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(15000)
        try:
            yield page
        finally:
            context.close()
            browser.close()
