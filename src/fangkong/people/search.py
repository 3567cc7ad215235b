"""People in the header's search (core.search): by ID tail, name initials or name, and
by a full ID number or mobile number as an exact lookup (POST only, audited, budgeted:
people.lookups).

A passport or other document number is not looked up from the header: its shape (5+
letters and digits) is also that of a venue code or a tube barcode, and every such
search would spend the user's lookup budget and count as a miss towards a lookup alert.
The people page's search box looks those up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse

from fangkong.core.search import SearchHit
from fangkong.people import rules, selectors, services

if TYPE_CHECKING:
    from fangkong.accounts.models import User

HEADER_LOOKUP_KINDS = frozenset({"ric", "phone"})
HEADER_SEARCH_KINDS = frozenset({"tail", "initials", "name"})


def person_query_needs_post(q: str) -> bool:
    """A full ID number or mobile number: an audited lookup, sent only in a POST body."""
    return rules.search_key(q).kind in HEADER_LOOKUP_KINDS


def person_find(*, user: User, q: str, limit: int) -> list[SearchHit]:
    """The persons `user` may see for `q`, masked: a lookup's hits (exact) or a search's
    first page (`selectors.person_search`, newest first). Out of scope is a miss like an
    absent person, and says nothing more."""
    kind = rules.search_key(q).kind
    if kind in HEADER_LOOKUP_KINDS:
        persons = services.person_lookup(actor=user, query=q, limit=limit)
    elif kind in HEADER_SEARCH_KINDS:
        persons = selectors.person_search(user=user, q=q, size=limit).items
    else:
        return []
    identities = services.person_identities(user, persons)
    return [
        SearchHit(
            kind="people.person",
            key=str(person.pk),
            title=identity.name,
            url=reverse("people:detail", args=[person.pk]),
            detail=" · ".join(
                part for part in (identity.id_number, person.jurisdiction.name) if part
            ),
            exact=kind in HEADER_LOOKUP_KINDS,
        )
        for person, identity in zip(persons, identities, strict=True)
    ]
