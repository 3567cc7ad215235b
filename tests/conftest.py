"""The API tests' world: a small drill city with its outbreak played, one account per role.

Built through the product's own services (the drill plays the outbreak through them):
cases, contacts, pushes, rounds, tubes, boxes, rechecks, supplies, sampling points.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone

TOKEN_USERS = ("command", "town-wuzhen", "sampler", "lab")


@dataclass
class ApiWorld:
    users: dict[str, Any]
    tokens: dict[str, str]  # username -> bearer token
    ids: dict[str, list[Any]]  # path parameter name -> real values


@pytest.fixture(scope="module")
def _api_world_built(django_db_setup: None, django_db_blocker: Any) -> Iterator[ApiWorld]:
    """The world, built once per test module inside a transaction rolled back when the
    module ends (as Django's TestCase.setUpTestData does): each test still runs in its own
    savepoint, so what a test writes is gone before the next one. Building it per test cost
    a drill city and its outbreak for each of some thirty tests."""
    from django.db import transaction
    from django.test import override_settings

    from fangkong.testkit.command import departments_ensure
    from fangkong.testkit.fixtures import shipped_rule_sets_ensure
    from fangkong.testkit.quarantine_inspections import shipped_checklist_ensure

    # The function-scoped autouse settings of conftest.py are not in force at module scope.
    quick = override_settings(
        TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}},
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    )
    with django_db_blocker.unblock(), quick:
        outer = transaction.atomic()
        outer.__enter__()
        try:
            shipped_rule_sets_ensure()
            shipped_checklist_ensure()
            departments_ensure()
            yield _api_world_build()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def api_world(_api_world_built: ApiWorld, db: None) -> ApiWorld:
    from fangkong.accounts.models import User

    # Fresh instances: a test may change a user it was handed.
    users = {
        u.username: u
        for u in User.objects.filter(pk__in=[u.pk for u in _api_world_built.users.values()])
    }
    return ApiWorld(users=users, tokens=_api_world_built.tokens, ids=_api_world_built.ids)


def _api_world_build() -> ApiWorld:
    from fangkong.accounts.models import AccessToken, User
    from fangkong.accounts.services import token_create
    from fangkong.areas.models import Jurisdiction, Zone
    from fangkong.command.models import Assignment, Task, TownReport, TownReportProblem
    from fangkong.drill.city import drill_city_build
    from fangkong.drill.outbreak import drill_outbreak
    from fangkong.notices.models import Notification
    from fangkong.people.models import Household, Person
    from fangkong.protocol.models import RuleSet
    from fangkong.testing.models import (
        Recheck,
        Round,
        SamplingPoint,
        SupplyStock,
        TransportBox,
        Tube,
    )
    from fangkong.testing.services.rounds import round_create, round_open
    from fangkong.tracing.models import (
        AssistRequest,
        Case,
        CaseLink,
        Cluster,
        Contact,
        ItineraryStop,
        PushItem,
        VerificationPush,
    )

    drill_city_build(population=300, days=2, seed=7)
    drill_outbreak()
    with open(os.devnull, "w") as quiet:
        call_command("demo_users", stdout=quiet)
    users = {u.username: u for u in User.objects.all()}
    admin = users["admin"]
    # A round open now over the sampler's community, so that sampling has a round to sync.
    sampler_place = users["sampler"].place
    community = Jurisdiction.objects.get(path=sampler_place.jurisdiction_path)
    open_round = round_create(
        actor=users["command"],
        name="接口测试轮次",
        starts_at=timezone.now() - dt.timedelta(hours=1),
        jurisdictions=[community],
    )
    round_open(actor=users["command"], round=open_round)
    tokens = {}
    for username in TOKEN_USERS:
        tokens[username] = token_create(actor=admin, user=users[username], name="api-tests")[1]
        # A token of the same user that a test may revoke without locking itself out.
        token_create(actor=admin, user=users[username], name="api-tests-spare")

    def ids(rows: Any, field: str = "pk") -> list[Any]:
        rows = rows.objects.all() if hasattr(rows, "objects") else rows
        return list(rows.order_by("pk").values_list(field, flat=True)[:8])

    real_ids = {
        "token_id": ids(AccessToken.objects.filter(name="api-tests-spare")),
        "jurisdiction_id": ids(Jurisdiction),
        "zone_id": ids(Zone),
        "person_id": ids(Person),
        "household_id": ids(Household),
        "ruleset_id": ids(RuleSet),
        "case_id": ids(Case),
        "stop_id": ids(ItineraryStop),
        "contact_id": ids(Contact),
        "push_id": ids(VerificationPush),
        "item_id": ids(PushItem),
        "assist_id": ids(AssistRequest),
        "link_id": ids(CaseLink),
        "cluster_id": ids(Cluster),
        "round_id": [open_round.pk, *ids(Round)],
        "barcode": ids(Tube, "barcode"),
        "box_id": ids(TransportBox),
        "recheck_id": ids(Recheck),
        "community": ids(Jurisdiction.objects.filter(level="community"), "path"),
        "stock_id": ids(SupplyStock),
        "point_id": ids(SamplingPoint),
        # command's: the drill's tasks and their parts, the towns' reports and problems
        "task_id": ids(Task),
        "part_id": ids(Assignment),
        "report_id": ids(TownReport),
        "problem_id": ids(TownReportProblem),
        "town_path": ids(Jurisdiction.objects.filter(level="town"), "path"),
        "day": sorted({str(d) for d in TownReport.objects.values_list("day", flat=True)})[:8],
        "notification_id": ids(Notification),
    }
    empty = sorted(name for name, values in real_ids.items() if not values)
    assert set(empty) <= {
        "link_id",
        "assist_id",
        "cluster_id",
        "recheck_id",
        "notification_id",
    }, empty
    return ApiWorld(users=users, tokens=tokens, ids=real_ids)


@pytest.fixture
def in_process_requests() -> Iterator[None]:
    """WSGI requests share the test's connection and transaction, as Django's test client's
    do (Django would otherwise close the connection at the end of each request)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
