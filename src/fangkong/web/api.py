"""HTTP API of the shell: the header's search (core.search) for devices and scripts.

`GET /api/search?q=` answers names, initials, ID tails, case numbers, venue codes and
barcodes; a full ID number or phone by GET is 400 `lookup_needs_post` (never in a URL),
and `POST /api/search {"q"}` answers it as an audited, budgeted lookup. The answer is
bounded (at most `limit` hits per kind), not a list to page through.
"""

from __future__ import annotations

from ninja import Field, Query, Router, Schema

from fangkong.accounts.permissions import has_capability
from fangkong.accounts.types import AuthedRequest
from fangkong.core import search as core_search

router = Router(tags=["search"])


class SearchHitOut(Schema):
    kind: str
    key: str
    title: str
    url: str
    detail: str
    exact: bool


class SearchGroupOut(Schema):
    kind: str
    label: str
    hits: list[SearchHitOut]
    error_code: str | None = None
    error_message: str | None = None


class SearchOut(Schema):
    q: str
    groups: list[SearchGroupOut]
    exact: SearchHitOut | None = None


class SearchQuery(Schema):
    q: str = Field("", max_length=2000)
    limit: int = Field(core_search.LIMIT_DEFAULT, ge=1, le=core_search.LIMIT_MAX)


def _hit(hit: core_search.SearchHit) -> SearchHitOut:
    return SearchHitOut(
        kind=hit.kind,
        key=hit.key,
        title=hit.title,
        url=hit.url,
        detail=hit.detail,
        exact=hit.exact,
    )


def _answer(request: AuthedRequest, params: SearchQuery, *, post: bool) -> SearchOut:
    user = request.user
    q = core_search.clean_query(params.q)
    groups = core_search.search(
        user,
        q,
        has_capability=lambda c: has_capability(user, c),
        post=post,
        limit=params.limit,
    )
    exact = core_search.exact_hit(groups)
    return SearchOut(
        q=q,
        groups=[
            SearchGroupOut(
                kind=g.searcher.code,
                label=str(g.searcher.label),
                hits=[_hit(h) for h in g.hits],
                error_code=g.error.code if g.error else None,
                error_message=g.error.message if g.error else None,
            )
            for g in groups
        ],
        exact=_hit(exact) if exact else None,
    )


@router.get(
    "",
    response=SearchOut,
    summary="Find persons, cases, places, tubes and tasks by number, ID tail or name initials",
)
def search_get(request: AuthedRequest, params: Query[SearchQuery]) -> SearchOut:
    return _answer(request, params, post=False)


@router.post(
    "",
    response=SearchOut,
    summary="The same search, where a full ID number or phone is an audited, budgeted lookup",
)
def search_post(request: AuthedRequest, body: SearchQuery) -> SearchOut:
    return _answer(request, body, post=True)
