"""API of mass testing: rounds (list, detail, create, open, close), the planner and the
pool-size advisor. Thin endpoints: selectors read (scoped), services write."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Literal

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import WithJsonSchema

from fangkong.accounts.permissions import require
from fangkong.accounts.roles import Capability
from fangkong.accounts.types import AuthedRequest
from fangkong.areas import selectors as area_selectors
from fangkong.core import jobs
from fangkong.core.api import JobOut, job_accepted
from fangkong.core.apitypes import Page, PageQuery, RowId
from fangkong.core.errors import DomainError, NotFound
from fangkong.core.http import client_address
from fangkong.core.pagination import keyset_page
from fangkong.testing import tasks_rounds
from fangkong.testing.models import Round
from fangkong.testing.rules import rounds as rules
from fangkong.testing.selectors import rounds as selectors
from fangkong.testing.services import rounds as services

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.areas.models import Zone

router = Router()


class RoundOut(Schema):
    id: int
    name: str
    jurisdiction_id: int
    jurisdiction_name: str
    jurisdiction_path: str
    ruleset_version: str
    status: str
    sealed_pooling: str
    starts_at: dt.datetime
    deadline_at: dt.datetime
    target_count: int
    opened_at: dt.datetime | None
    closed_at: dt.datetime | None

    @staticmethod
    def from_round(rnd: Round) -> RoundOut:
        return RoundOut(
            id=rnd.pk,
            name=rnd.name,
            jurisdiction_id=rnd.jurisdiction_id,
            jurisdiction_name=rnd.jurisdiction.name,
            jurisdiction_path=rnd.jurisdiction_path,
            ruleset_version=rnd.ruleset.version,
            status=rnd.status,
            sealed_pooling=rnd.sealed_pooling,
            starts_at=rnd.starts_at,
            deadline_at=rnd.deadline_at,
            # As the user may see it (selectors.with_visible_targets), never the total.
            target_count=rnd.visible_target_count,  # type: ignore[attr-defined]
            opened_at=rnd.opened_at,
            closed_at=rnd.closed_at,
        )


class RoundDetailOut(RoundOut):
    scope: list[str]


class RoundIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    jurisdiction_ids: list[RowId] = Field(default_factory=list, max_length=500)
    zone_ids: list[RowId] = Field(default_factory=list, max_length=200)
    starts_at: dt.datetime
    sealed_pooling: Literal["single", "household"] = "single"


class SupplyNeedOut(Schema):
    kind: str
    needed: int
    on_hand: int
    shortage: int


class PlannerRowOut(Schema):
    town_path: str
    town_name: str
    population: int
    by_pool_size: dict[str, int]
    by_zone_level: dict[str, int]
    samplers: int
    tubes: dict[str, int]
    swabs: int
    tables_needed: int
    points_needed: int
    points: int
    tables: int
    supplies: list[SupplyNeedOut]

    @staticmethod
    def from_row(row: selectors.PlannerRow) -> PlannerRowOut:
        return PlannerRowOut(
            town_path=row.town_path,
            town_name=str(row.town_name),
            population=row.population,
            by_pool_size={str(k): v for k, v in sorted(row.by_pool_size.items())},
            by_zone_level=dict(row.by_zone_level),
            samplers=row.samplers,
            tubes={str(k): v for k, v in sorted(row.tubes.items())},
            swabs=row.swabs,
            tables_needed=row.tables_needed,
            points_needed=row.points_needed,
            points=row.points,
            tables=row.tables,
            supplies=[
                SupplyNeedOut(kind=k, needed=n, on_hand=h, shortage=max(0, n - h))
                for k, (n, h) in row.supplies.items()
            ],
        )


class PlannerOut(Schema):
    round_id: int
    computed: bool
    hours: float
    towns: list[PlannerRowOut]
    total: PlannerRowOut


class AdviceOut(Schema):
    prevalence: float
    pool_size: int
    tests_per_person: float
    saving: float
    # Published as a pair of numbers: a tuple's `prefixItems` does not survive every
    # OpenAPI 3.1 tool (schemathesis rewrites it into a draft-4 `items` array).
    curve: list[
        Annotated[
            tuple[int, float],
            WithJsonSchema(
                {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
            ),
        ]
    ]


@router.get("/rounds", summary="List mass-testing rounds", response=Page[RoundOut])
def round_list(
    request: AuthedRequest,
    paging: Query[PageQuery],
    status: Literal["planned", "open", "closed"] | None = None,
) -> Page[RoundOut]:
    """The rounds owned by or covering the user's jurisdiction, newest first."""
    page = keyset_page(
        selectors.rounds(user=request.user, status=status),
        cursor=paging.cursor,
        size=paging.size,
        order=selectors.ROUND_ORDER,
    )
    return Page[RoundOut].of(page, RoundOut.from_round)


def _detail(request: AuthedRequest, rnd: Round) -> RoundDetailOut:
    return RoundDetailOut(
        **RoundOut.from_round(rnd).dict(), scope=selectors.round_scope_labels(rnd=rnd)
    )


@router.get("/rounds/{int:round_id}", summary="Get a mass-testing round", response=RoundDetailOut)
def round_detail(request: AuthedRequest, round_id: int) -> RoundDetailOut:
    return _detail(request, selectors.round_get(user=request.user, pk=round_id))


def _zone(user: User, pk: int) -> Zone:
    try:
        return area_selectors.zone_get(user=user, pk=pk)
    except NotFound as exc:
        raise DomainError("unknown_zone", _("风险区不存在"), id=pk) from exc


@router.post("/rounds", summary="Plan a mass-testing round", response={201: RoundDetailOut})
def round_create(request: AuthedRequest, payload: RoundIn) -> Status[RoundDetailOut]:
    user = request.user
    jurisdictions = area_selectors.jurisdictions_resolve(user=user, pks=payload.jurisdiction_ids)
    zones = [_zone(user, pk) for pk in dict.fromkeys(payload.zone_ids)]
    rnd = services.round_create(
        actor=user,
        name=payload.name,
        jurisdictions=jurisdictions,
        zones=zones,
        starts_at=payload.starts_at,
        sealed_pooling=payload.sealed_pooling,
        ip=client_address(request),
    )
    return Status(201, _detail(request, selectors.round_get(user=user, pk=rnd.pk)))


@router.post(
    "/rounds/{int:round_id}/open",
    summary="Open a mass-testing round (a background job)",
    response={200: RoundOut, 202: JobOut},
)
def round_open(request: AuthedRequest, round_id: int) -> RoundOut | Status[JobOut]:
    """Open the round (its target population computed set-based) by a background job:
    the opened round when the job has finished, else 202 and the job (poll GET
    /api/jobs/{id}). 409 `round_not_planned` at once if it is not planned."""
    job = tasks_rounds.round_open_start(
        actor=request.user, round_id=round_id, ip=client_address(request)
    )
    jobs.raise_if_failed(job)
    if job.state != jobs.JobState.DONE:
        return job_accepted(job)
    return RoundOut.from_round(selectors.round_get(user=request.user, pk=round_id))


@router.post(
    "/rounds/{int:round_id}/close", summary="Close a mass-testing round", response=RoundOut
)
def round_close(request: AuthedRequest, round_id: int) -> RoundOut:
    rnd = selectors.round_get(user=request.user, pk=round_id)
    services.round_close(actor=request.user, round=rnd, ip=client_address(request))
    return RoundOut.from_round(selectors.round_get(user=request.user, pk=round_id))


@router.get(
    "/rounds/{int:round_id}/planner",
    summary="Plan a round's sampling per town",
    response=PlannerOut,
)
def round_planner(request: AuthedRequest, round_id: int) -> PlannerOut:
    """Per town of the user's jurisdiction: targets by pool size, samplers, tubes, swabs,
    tables and points, and each supply's demand against stock."""
    rnd = selectors.round_get(user=request.user, pk=round_id)
    plan = selectors.planner(user=request.user, rnd=rnd)
    return PlannerOut(
        round_id=rnd.pk,
        computed=plan.computed,
        hours=plan.hours,
        towns=[PlannerRowOut.from_row(r) for r in plan.rows],
        total=PlannerRowOut.from_row(plan.total),
    )


@router.get("/pool-advice", summary="Advise a pool size for a prevalence", response=AdviceOut)
def pool_advice(request: AuthedRequest, prevalence: float = Query(..., ge=0, le=1)) -> AdviceOut:
    """Dorfman's pool-size advice: the k in 1..50 minimising 1/k + 1 − (1−p)^k."""
    require(request.user, Capability.ROUND_VIEW)
    advice = rules.best_pool_size(prevalence)
    return AdviceOut(
        prevalence=advice.prevalence,
        pool_size=advice.pool_size,
        tests_per_person=advice.tests_per_person,
        saving=advice.saving,
        curve=rules.advice_curve(prevalence),
    )
