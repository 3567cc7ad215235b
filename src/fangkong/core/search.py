"""The search registry: what the header's search box finds, and who may find it.

An app whose objects have a number or a name people look for (a person by ID number or
name initials, a case by its number, a place by its venue code or name, a tube by its
barcode, a task ...) registers one `Searcher` in its `AppConfig.ready()`:

    register(Searcher(
        code="tracing.case", label=_("病例"), capability="case.view",
        find=case_find,                    # (actor, q, limit) -> list[SearchHit]
    ))

`find` lives in the owning app's selectors and is scoped exactly like that app's lists:
it answers only what the actor may see, at most `limit` hits, best first, and marks a
hit `exact` when the query is that object's number (the search page then goes straight
to it). A hit is de-identified: a number, a place's name, a masked person's name
(through `people.services.person_identities`), never a clear name or ID number.

A query that a searcher answers by an audited, budgeted lookup (a full ID number or
phone: people.lookups) must come in a POST body, never a URL: such a searcher says so
with `needs_post(q)`, and `search(..., post=False)` refuses the whole query with
400 `lookup_needs_post` before any searcher runs.

Core sits below every app: it knows a user only as an object, and leaves the capability
check to the caller (`has_capability=`), as `core.deadlines` does.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _

from fangkong.core.errors import DomainError, InvalidInput

QUERY_MIN = 2  # characters: one letter or one Chinese character finds too much
QUERY_MAX = 64  # the longest number anyone types (a tube barcode is at most 64)
LIMIT_DEFAULT = 10  # hits per kind
LIMIT_MAX = 50


@dataclass(frozen=True)
class SearchHit:
    kind: str  # the Searcher's code
    key: str  # unique within the kind (usually the object's id)
    title: str  # the number or code, or a place's name
    url: str  # the object's page
    detail: str = ""  # one short line: a masked name, a jurisdiction, a state
    exact: bool = False  # the query is this object's number


@dataclass(frozen=True)
class Searcher:
    code: str
    label: str | Promise
    capability: str  # who may find objects of this kind (accounts.roles.Capability)
    find: Callable[[Any, str, int], list[SearchHit]]
    order: int = 100  # the results page's order of kinds
    needs_post: Callable[[str], bool] | None = None  # this query is a lookup: POST only
    hint: str | Promise = ""  # what to type to find one (the search page says it)


@dataclass
class SearchGroup:
    """One kind's answer: its hits, or the refusal it gave (a spent lookup budget)."""

    searcher: Searcher
    hits: list[SearchHit] = field(default_factory=list)
    error: DomainError | None = None


_SEARCHERS: dict[str, Searcher] = {}


def register(searcher: Searcher) -> None:
    """Register (or replace, on a re-import) one kind of search."""
    _SEARCHERS[searcher.code] = searcher


def searchers() -> list[Searcher]:
    return sorted(_SEARCHERS.values(), key=lambda s: (s.order, s.code))


def searchers_for(*, has_capability: Callable[[str], bool]) -> list[Searcher]:
    """The registered searchers whose capability the caller says the actor holds."""
    return [s for s in searchers() if has_capability(s.capability)]


def clean_query(q: str | None) -> str:
    """The query as searched: NFKC (full-width digits and letters become ASCII), spaces
    trimmed. Empty is "". Too short or too long is 400 `query_too_short` /
    `query_too_long` with the bounds."""
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", q or "")).strip()
    if not text:
        return ""
    if len(text) < QUERY_MIN:
        raise InvalidInput(
            "query_too_short",
            _("请至少输入%(min)d个字符：编号、证件号码后四位或姓名首字母") % {"min": QUERY_MIN},
            min=QUERY_MIN,
        )
    if len(text) > QUERY_MAX:
        raise InvalidInput(
            "query_too_long",
            _("搜索内容不能超过%(max)d个字符") % {"max": QUERY_MAX},
            max=QUERY_MAX,
        )
    return text


def needs_post(q: str, *, has_capability: Callable[[str], bool]) -> bool:
    """Whether a searcher the actor may use answers `q` by an audited lookup."""
    return any(
        s.needs_post is not None and s.needs_post(q)
        for s in searchers_for(has_capability=has_capability)
    )


def search(
    actor: Any,
    q: str,
    *,
    has_capability: Callable[[str], bool],
    post: bool,
    limit: int = LIMIT_DEFAULT,
) -> list[SearchGroup]:
    """Every kind the actor may find, asked for `q` (already `clean_query`'d), in order;
    kinds without hits are left out. A lookup-shaped query by GET (`post=False`) is 400
    `lookup_needs_post` before anything runs. A kind's own refusal (a spent lookup budget,
    429) is kept on its group; the other kinds still answer."""
    if not q:
        return []
    limit = max(1, min(limit, LIMIT_MAX))
    allowed = searchers_for(has_capability=has_capability)
    if not post and any(s.needs_post is not None and s.needs_post(q) for s in allowed):
        raise DomainError(
            "lookup_needs_post",
            _("完整的证件号码或手机号码须通过精确查询提交（POST），不能放在网址中"),
        )
    groups = []
    for searcher in allowed:
        try:
            hits = searcher.find(actor, q, limit)[:limit]
        except DomainError as exc:
            if exc.status not in (400, 429):
                raise
            groups.append(SearchGroup(searcher, [], exc))
            continue
        if hits:
            groups.append(SearchGroup(searcher, hits))
    return groups


def exact_hit(groups: list[SearchGroup]) -> SearchHit | None:
    """The one hit whose number the query is, when there is exactly one over all kinds."""
    exact = [hit for group in groups for hit in group.hits if hit.exact]
    return exact[0] if len(exact) == 1 else None
