"""API of mass testing: sampling (采样) from samplers' phones.

`POST /api/testing/sampling/sync` takes a batch of tubes with their samples and answers
per item (ok / duplicate / error with a code); a retried batch adds nothing.
`GET /api/testing/sampling/tubes/{barcode}` gives a tube of the point as the server
holds it (the phone asks when it opens a tube, so its count includes other phones').
`GET /api/testing/sampling/context` gives the sampler's point, the rounds open there and
the pool sizes a tube may have. Devices authenticate with a bearer token, the sampler
page with its session and CSRF token (accounts.auth.api_auth, the API's default).
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from fangkong.accounts.types import AuthedRequest
from fangkong.core.apitypes import RowId
from fangkong.testing.selectors import sampling as selectors
from fangkong.testing.services import sampling as services

router = Router()


class SampleSyncIn(Schema):
    client_uuid: uuid.UUID
    id_number: str = Field(max_length=64)
    id_kind: str = Field("ric", max_length=16)
    sampled_at: dt.datetime
    name: str = Field("", max_length=64)
    phone: str = Field("", max_length=32)


class TubeSyncIn(Schema):
    barcode: str = Field(max_length=200)
    round: RowId
    pool_size: int = Field(ge=1, le=50)
    opened_at: dt.datetime
    closed_at: dt.datetime | None = None
    samples: list[SampleSyncIn] = Field(default_factory=list)


class SyncIn(Schema):
    point: RowId | None = None
    tubes: list[TubeSyncIn]


class ItemOut(Schema):
    key: str
    status: str
    code: str = ""
    message: str = ""


class TubeItemOut(ItemOut):
    state: str = ""
    samples: int = 0


class SyncOut(Schema):
    tubes: list[TubeItemOut]
    samples: list[ItemOut]
    stored: int
    duplicates: int
    errors: int


class RoundChoiceOut(Schema):
    id: int
    name: str
    deadline_at: dt.datetime
    pool_sizes: list[int]
    default_pool_size: int


class SamplingPointOut(Schema):
    id: int
    name: str
    jurisdiction_path: str


class TotalsOut(Schema):
    tubes: int
    tubes_open: int
    samples: int


class ContextOut(Schema):
    point: SamplingPointOut
    rounds: list[RoundChoiceOut]
    totals: TotalsOut


class ContextQuery(Schema):
    point: RowId | None = None


def _aware(value: dt.datetime) -> dt.datetime:
    """A phone that sent no offset meant its own (Asia/Shanghai) wall clock."""
    return value if value.tzinfo else timezone.make_aware(value)


@router.post(
    "/sampling/sync",
    response=SyncOut,
    url_name="sampling_sync",
    summary="Sync a batch of tubes and samples (idempotent, answered item by item)",
)
def sampling_sync(request: AuthedRequest, payload: SyncIn) -> HttpResponse:
    tubes = [
        services.TubeIn(
            barcode=t.barcode,
            round_id=t.round,
            pool_size=t.pool_size,
            opened_at=_aware(t.opened_at),
            closed_at=_aware(t.closed_at) if t.closed_at else None,
            samples=tuple(
                services.SampleIn(
                    client_uuid=s.client_uuid,
                    id_number=s.id_number,
                    id_kind=s.id_kind,
                    sampled_at=_aware(s.sampled_at),
                    name=s.name,
                    phone=s.phone,
                )
                for s in t.samples
            ),
        )
        for t in payload.tubes
    ]
    result = services.sampling_sync(actor=request.user, tubes=tubes, point_id=payload.point)
    # The answer is built as plain JSON, in SyncOut's shape (the schema documents it):
    # validating a hundred per-item answers through pydantic again cost about a sixth
    # of a sync request, the hottest path of the system.
    return JsonResponse(
        {
            "tubes": [
                {
                    "key": t.key,
                    "status": t.status,
                    "code": t.code,
                    "message": str(t.message),
                    "state": t.state,
                    "samples": t.samples,
                }
                for t in result.tubes
            ],
            "samples": [
                {"key": x.key, "status": x.status, "code": x.code, "message": str(x.message)}
                for x in result.samples
            ],
            "stored": result.count(services.OK),
            "duplicates": result.count(services.DUPLICATE),
            "errors": result.count(services.ERROR),
        },
        json_dumps_params={"ensure_ascii": False},
    )


@router.get(
    "/sampling/context",
    response=ContextOut,
    summary="Get a sampler's point, open rounds and pool sizes",
)
def sampling_context(request: AuthedRequest, query: Query[ContextQuery]) -> ContextOut:
    point = selectors.point_for_sampler(user=request.user, point_id=query.point)
    rounds = selectors.open_rounds_for_point(user=request.user, point=point)
    totals = selectors.point_totals(user=request.user, point=point)
    return ContextOut(
        point=SamplingPointOut(
            id=point.pk, name=point.place.name, jurisdiction_path=point.jurisdiction_path
        ),
        rounds=[
            RoundChoiceOut(
                id=r.id,
                name=r.name,
                deadline_at=r.deadline_at,
                pool_sizes=list(r.pool_sizes),
                default_pool_size=r.default_pool_size,
            )
            for r in rounds
        ],
        totals=TotalsOut(**totals),
    )


class TubeStatusOut(Schema):
    barcode: str
    known: bool
    round: int | None = None
    pool_size: int | None = None
    state: str = ""
    samples: int = 0


@router.get(
    "/sampling/tubes/{barcode}",
    response=TubeStatusOut,
    url_name="sampling_tube",
    summary="Get a tube of the sampler's point as the server holds it (state, count)",
)
def tube_status(request: AuthedRequest, barcode: str, query: Query[ContextQuery]) -> TubeStatusOut:
    """`known: false` for a barcode the point has not used (unknown, or another point's:
    the answer is the same), so that opening a new tube is not a failed request."""
    point = selectors.point_for_sampler(user=request.user, point_id=query.point)
    tube = selectors.tube_status(user=request.user, point=point, barcode=barcode)
    if tube is None:
        return TubeStatusOut(barcode=barcode.strip().upper(), known=False)
    return TubeStatusOut(
        barcode=tube.barcode,
        known=True,
        round=tube.round_id,
        pool_size=tube.pool_size,
        state=tube.state,
        samples=tube.samples,
    )


class CloseOut(Schema):
    barcode: str
    state: str
    closed_at: dt.datetime | None


class CloseIn(Schema):
    point: RowId | None = None


@router.post("/sampling/tubes/{barcode}/close", response=CloseOut, summary="Close a tube by hand")
def tube_close(request: AuthedRequest, barcode: str, payload: CloseIn) -> CloseOut:
    tube = services.tube_close(actor=request.user, barcode=barcode, point_id=payload.point)
    return CloseOut(barcode=tube.barcode, state=tube.state, closed_at=tube.closed_at)
