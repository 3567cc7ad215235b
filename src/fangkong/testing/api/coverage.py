"""API of mass testing: coverage (应检尽检 / 愿检尽检).

Thin endpoints over `selectors.coverage` (scoped to the user: a community worker counts
and lists only her community, a town's staff only their town) and
`services.coverage` (the audited Excel export). Persons are masked.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from fangkong.accounts.types import AuthedRequest
from fangkong.core.api import JobOut, export_api_answer
from fangkong.core.apitypes import Page, PageQuery
from fangkong.core.errors import DomainError
from fangkong.core.http import client_address
from fangkong.core.pagination import sequence_page
from fangkong.core.paths import COMMUNITY_WIDTH, TOWN_WIDTH, path_pattern
from fangkong.people.rules import mask_name
from fangkong.testing import tasks_coverage
from fangkong.testing.models import RoundTarget
from fangkong.testing.selectors import coverage as selectors

router = Router()

PATH_PATTERN = path_pattern(TOWN_WIDTH, COMMUNITY_WIDTH)


class CoverageCountsOut(Schema):
    target: int
    sampled: int
    resulted: int
    positive: int
    held: int
    walk_ins: int
    untested: int
    percent: float

    @staticmethod
    def from_counts(c: selectors.Counts) -> CoverageCountsOut:
        return CoverageCountsOut(**c.as_dict())


class CoverageRowOut(Schema):
    path: str
    name: str
    counts: CoverageCountsOut


class CoverageOut(Schema):
    round_id: int
    round_name: str
    by: str
    totals: CoverageCountsOut
    rows: list[CoverageRowOut]


class HourOut(Schema):
    hour: dt.datetime
    samples: int
    cumulative: int


class UntestedPersonOut(Schema):
    target_id: int
    person_id: int
    name: str
    id_masked: str
    phone_masked: str
    address: str
    grid: str

    @staticmethod
    def from_target(t: RoundTarget) -> UntestedPersonOut:
        person = t.person
        return UntestedPersonOut(
            target_id=t.pk,
            person_id=person.pk,
            name=mask_name(person.name),
            id_masked=person.id_masked,
            phone_masked=person.phone_masked,
            address=person.household.address if person.household else "",
            grid=person.jurisdiction.name,
        )


class UntestedPage(Page[UntestedPersonOut]):
    """A page of the untested list, with the community it is of."""

    community: str


@router.get(
    "/rounds/{int:round_id}/coverage",
    summary="Get a round's coverage per town or community",
    response=CoverageOut,
)
def round_coverage(
    request: AuthedRequest,
    round_id: int,
    by: Literal["town", "community"] = "town",
    within: str | None = Query(None, pattern=PATH_PATTERN),
) -> CoverageOut:
    """Target, sampled, resulted, positive, walk-ins and untested per town or community
    of the round, in the user's jurisdiction (optionally within a town or community)."""
    rnd = selectors.coverage_round_get(user=request.user, pk=round_id)
    coverage = selectors.round_coverage(user=request.user, rnd=rnd, by=by, within=within)
    return CoverageOut(
        round_id=rnd.pk,
        round_name=rnd.name,
        by=by,
        totals=CoverageCountsOut.from_counts(coverage.totals),
        rows=[
            CoverageRowOut(path=r.path, name=r.name, counts=CoverageCountsOut.from_counts(r.counts))
            for r in coverage.rows
        ],
    )


@router.get(
    "/rounds/{int:round_id}/coverage/hours",
    summary="List a round's samples per hour",
    response=Page[HourOut],
)
def round_coverage_hours(
    request: AuthedRequest, round_id: int, paging: Query[PageQuery]
) -> Page[HourOut]:
    """Samples per hour of the round (Asia/Shanghai hours) with the running total, the
    earliest hour first."""
    rnd = selectors.coverage_round_get(user=request.user, pk=round_id)
    page = sequence_page(
        selectors.samples_by_hour(user=request.user, rnd=rnd),
        key=lambda p: (int(p.hour.timestamp()),),
        cursor=paging.cursor,
        size=paging.size,
    )
    return Page[HourOut].of(
        page, lambda p: HourOut(hour=p.hour, samples=p.samples, cumulative=p.cumulative)
    )


@router.get(
    "/rounds/{int:round_id}/coverage/communities/{community}/untested",
    summary="List a community's untested persons in a round",
    response=UntestedPage,
)
def untested_list(
    request: AuthedRequest,
    round_id: int,
    community: str,
    paging: Query[PageQuery],
) -> UntestedPage:
    """The community's target persons with no sample in the round (masked, keyset)."""
    rnd = selectors.coverage_round_get(user=request.user, pk=round_id)
    page = selectors.untested_page(
        user=request.user,
        rnd=rnd,
        community_path=community,
        cursor=paging.cursor,
        size=paging.size,
    )
    return UntestedPage(
        community=community,
        items=[UntestedPersonOut.from_target(t) for t in page.items],
        next_cursor=page.next_cursor,
    )


def _untested_export(
    request: AuthedRequest, round_id: int, community: str, *, reveal: bool
) -> HttpResponse | Status[JobOut]:
    """Written by a background job: the file when it has finished, else 202 and the job
    (then GET /api/jobs/{id}/file)."""
    job = tasks_coverage.untested_export_start(
        actor=request.user,
        round_id=round_id,
        community=community,
        reveal=reveal,
        ip=client_address(request),
    )
    return export_api_answer(job)


class UntestedExportIn(Schema):
    """The body of a POSTed export: `reveal` asks for names, ID numbers and phones in
    clear (person.reveal)."""

    reveal: bool = False


@router.get(
    "/rounds/{int:round_id}/coverage/communities/{community}/untested.xlsx",
    summary="Export a community's untested persons (Excel, masked)",
    response={200: None, 202: JobOut},
)
def untested_export(
    request: AuthedRequest, round_id: int, community: str
) -> HttpResponse | Status[JobOut]:
    """The untested list as Excel, masked; every export audited and watermarked.
    Revealing is a POST: a GET asking for it is refused (`reveal_requires_post`), not
    silently masked, and writes no audit row."""
    if request.GET.get("reveal", "").lower() not in ("", "0", "false"):
        raise DomainError("reveal_requires_post", _("明文导出须以 POST 请求提交"), method="POST")
    return _untested_export(request, round_id, community, reveal=False)


@router.post(
    "/rounds/{int:round_id}/coverage/communities/{community}/untested.xlsx",
    summary="Export a community's untested persons (Excel, optionally revealed)",
    response={200: None, 202: JobOut},
)
def untested_export_post(
    request: AuthedRequest, round_id: int, community: str, payload: UntestedExportIn
) -> HttpResponse | Status[JobOut]:
    """The untested list as Excel; `{"reveal": true}` in the body shows names, ID
    numbers and phones in clear (person.reveal). Only by POST: a link from elsewhere (a
    GET carrying the session) can never make a browser download a clear list. Audited
    and watermarked."""
    return _untested_export(request, round_id, community, reveal=payload.reveal)
