"""schemathesis over the whole published OpenAPI schema, against the app in-process (WSGI).

The world is a small drill city with its outbreak played through the last day (cases,
contacts, pushes, rounds, tubes, boxes, supplies) and one account per role. Every
operation of `/api/openapi.json` is fuzzed with valid and invalid input (schemathesis'
coverage cases, then a bounded number of random ones), with path ids drawn half from the
world's real rows, as the command user (the widest role) and as a town's staff. Each
answer must be below 500 and conform to the schema: a documented status code, a
documented content type, a body that matches its declared schema.

Bounded: FANGKONG_FUZZ_EXAMPLES random cases per operation and mode (default 6),
derandomized so that a run is reproducible; raise it for a deeper run
(`FANGKONG_FUZZ_EXAMPLES=200 pytest -m fuzz`). Marked `fuzz`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis.checks import CHECKS
from schemathesis.core.errors import InvalidSchema
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.generation.hypothesis.builder import (
    HypothesisTestConfig,
    HypothesisTestMode,
    create_test,
)

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

EXAMPLES = int(os.environ.get("FANGKONG_FUZZ_EXAMPLES", "6"))

# What "conforms" means here: the answers' side of schemathesis' checks. The checks on
# the generator's side (negative data accepted, positive data refused) are left out: an
# id that exists nowhere is valid by the schema and rightly refused with a 404.
CHECK_NAMES = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)

# Path parameter → the world's real values for it, filled in by the `world` fixture.
REAL_IDS: dict[str, list[Any]] = {}


def _load_schema() -> Any:
    from fangkong.api import api
    from fangkong.wsgi import application

    schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
    schema.app = application
    schema.config.generation.update(
        modes=["positive", "negative"], max_examples=EXAMPLES, deterministic=True
    )

    @schema.hook
    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
        """Half of the ids point at real rows, so the operations get past their 404s."""
        if not path_parameters:
            return st.just(path_parameters)
        choices = {
            name: st.sampled_from(REAL_IDS[name]) for name in path_parameters if REAL_IDS.get(name)
        }
        if not choices:
            return st.just(path_parameters)
        real = st.fixed_dictionaries(choices).map(lambda ids: {**path_parameters, **ids})
        return st.one_of(st.just(path_parameters), real)

    return schema


SCHEMA = _load_schema()


def _operations() -> Iterator[Any]:
    for result in SCHEMA.get_all_operations():
        assert isinstance(result, Ok), result
        yield result.ok()


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    from fangkong.accounts.models import AccessToken, User
    from fangkong.accounts.services import token_create
    from fangkong.areas.models import Jurisdiction, Place, Zone
    from fangkong.drill.outbreak import drill_outbreak
    from fangkong.drill.services import drill_city_build
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
    call_command("demo_users", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    users = {u.username: u for u in User.objects.all()}
    tokens = {}
    for username in ("command", "town-wuzhen"):
        user = users[username]
        admin = users["admin"]
        tokens[username] = token_create(actor=admin, user=user, name="fuzz")[1]
        # A token of the same user that the fuzzer may revoke without locking itself out.
        token_create(actor=admin, user=user, name="fuzz-spare")

    def ids(model: Any, field: str = "pk", limit: int = 8) -> list[Any]:
        return list(model.objects.order_by("pk").values_list(field, flat=True)[:limit])

    REAL_IDS.clear()
    REAL_IDS.update(
        token_id=list(AccessToken.objects.filter(name="fuzz-spare").values_list("pk", flat=True)),
        jurisdiction_id=ids(Jurisdiction),
        zone_id=ids(Zone),
        person_id=ids(Person),
        household_id=ids(Household),
        ruleset_id=ids(RuleSet),
        case_id=ids(Case),
        stop_id=ids(ItineraryStop),
        contact_id=ids(Contact),
        push_id=ids(VerificationPush),
        item_id=ids(PushItem),
        assist_id=ids(AssistRequest),
        link_id=ids(CaseLink),
        cluster_id=ids(Cluster),
        round_id=ids(Round),
        barcode=ids(Tube, "barcode"),
        box_id=ids(TransportBox),
        recheck_id=ids(Recheck),
        community=list(
            Jurisdiction.objects.filter(level="community")
            .order_by("pk")
            .values_list("path", flat=True)[:8]
        ),
        stock_id=ids(SupplyStock),
        point_id=ids(SamplingPoint),
    )
    assert Place.objects.exists() and REAL_IDS["case_id"] and REAL_IDS["round_id"]
    return {"tokens": tokens}


@pytest.fixture
def in_process_requests() -> Iterator[None]:
    """Requests share the test's connection and transaction, as Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _fuzz(operation: Any, token: str, failures: list[str]) -> int:
    checks = [check for check in CHECKS.get_all() if check.__name__ in CHECK_NAMES]
    assert len(checks) == len(CHECK_NAMES)
    seen: set[str] = set()
    count = 0

    def one(case: Any) -> None:
        nonlocal count
        count += 1
        headers = {"Authorization": f"Bearer {token}"}
        savepoint = transaction.savepoint()
        try:
            response = case.call(headers=headers)
            case.validate_response(response, checks=checks, headers=headers)
        except FailureGroup as group:
            key = f"{operation.label}: {group.exceptions[0].title}"
            if key not in seen:
                seen.add(key)
                failures.append(f"{key}\n{group}")
        finally:
            transaction.savepoint_rollback(savepoint)

    config = HypothesisTestConfig(
        project=SCHEMA.config,
        modes=[
            HypothesisTestMode.EXAMPLES,
            HypothesisTestMode.COVERAGE,
            HypothesisTestMode.FUZZING,
        ],
        settings=hypothesis.settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        ),
    )
    try:
        create_test(operation=operation, test_func=one, config=config)()
    except InvalidSchema as error:
        failures.append(f"{operation.label}: its published schema is invalid\n{error}")
    return count


@pytest.mark.parametrize("username", ["command", "town-wuzhen"])
def test_every_operation_answers_below_500_and_as_published(
    world: dict[str, Any], in_process_requests: None, username: str
) -> None:
    failures: list[str] = []
    counts: dict[str, tuple[int, float]] = {}
    for operation in _operations():
        started = time.perf_counter()
        n = _fuzz(operation, world["tokens"][username], failures)
        counts[operation.label] = (n, time.perf_counter() - started)
    slow = sorted(counts.items(), key=lambda kv: -kv[1][1])[:8]
    print("\nslowest:", *(f"{k} {n} cases {s:.1f}s" for k, (n, s) in slow), sep="\n  ")
    print("cases:", sum(n for n, _ in counts.values()), "operations:", len(counts))
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures)
