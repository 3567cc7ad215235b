"""Every read of the people domain, scoped to the acting user's jurisdiction.

Scoping is one indexed range on the denormalized `jurisdiction_path`
(accounts.permissions.scope_q); a person outside the user's jurisdiction is a 404, and
never appears in a list, a search or an export. Lists are keyset pages by id (newest
first): nothing counts or offsets millions of rows per request.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require, require_in_scope, scope_q
from fangkong.accounts.roles import Capability
from fangkong.accounts.selectors import audit_events
from fangkong.areas import selectors as area_selectors
from fangkong.core.errors import DomainError, NotFound
from fangkong.core.pagination import Page, keyset_page
from fangkong.core.paths import city_of, under
from fangkong.core.sql import json_param, pg_any, statement_cursor
from fangkong.people import rules
from fangkong.people.lookups import LOOKUP_ALERT_ACTION
from fangkong.people.models import Household, Person
from fangkong.people.services import PERSON_LEVELS

if TYPE_CHECKING:
    from fangkong.accounts.models import AuditEvent, User
    from fangkong.areas.models import Jurisdiction, Place

EXPORT_BATCH = 2000
DEFAULT_EXPORT_MAX_ROWS = 100_000
JURISDICTION_CHOICES_MAX = 5000


def export_max_rows() -> int:
    return int(getattr(settings, "FANGKONG_PERSON_EXPORT_MAX_ROWS", DEFAULT_EXPORT_MAX_ROWS))


def _search_q(q: str) -> Q:
    """The one indexed condition a search box entry becomes (rules.search_key).

    A full ID number, document number or phone is not a search but a lookup: refused
    here (400 `lookup_needs_post`); services.person_lookup answers it, by POST, audited
    and budgeted.
    """
    key = rules.search_key(q)
    if key.kind == "all":
        return Q()
    if key.exact:
        raise DomainError(
            "lookup_needs_post",
            _("完整的证件号码或手机号码须通过精确查询提交（POST），不能放在网址中"),
            kind=key.kind,
        )
    if key.kind == "tail":
        return Q(id_tail=key.value)
    if key.kind == "initials":
        return Q(name_initials__startswith=key.value) | Q(name__startswith=q.strip())
    return Q(name__startswith=key.value)


def persons_in_scope(
    *, user: User, q: str = "", jurisdiction: Jurisdiction | None = None
) -> QuerySet[Person]:
    """The persons `user` may see, filtered by a search entry and a jurisdiction subtree."""
    require(user, Capability.PERSON_VIEW)
    qs = Person.objects.filter(scope_q(user, "jurisdiction_path"))
    if jurisdiction is not None:
        qs = qs.filter(under("jurisdiction_path", jurisdiction.path))
    return qs.filter(_search_q(q))


def person_search(
    *,
    user: User,
    q: str = "",
    jurisdiction: Jurisdiction | None = None,
    cursor: str | None = None,
    size: int = 50,
    with_total: bool = False,
) -> Page[Person]:
    """One keyset page (id descending) of the persons `user` may see matching `q`
    (`with_total`: with the list's capped total, core.pagination)."""
    qs = persons_in_scope(user=user, q=q, jurisdiction=jurisdiction).select_related("jurisdiction")
    return keyset_page(qs, cursor=cursor, size=size, with_total=with_total)


def person_export_rows(
    *, user: User, q: str = "", jurisdiction: Jurisdiction | None = None, limit: int
) -> Iterator[Person]:
    """Persons for an export, newest first, fetched in keyset batches (never OFFSET),
    at most `limit` rows."""
    require(user, Capability.PERSON_EXPORT)
    qs = persons_in_scope(user=user, q=q, jurisdiction=jurisdiction).select_related("jurisdiction")
    sent = 0
    last: int | None = None
    while sent < limit:
        batch_qs = qs if last is None else qs.filter(pk__lt=last)
        batch = list(batch_qs.order_by("-pk")[: min(EXPORT_BATCH, limit - sent)])
        if not batch:
            return
        yield from batch
        sent += len(batch)
        last = batch[-1].pk


def person_export_size(
    *, user: User, q: str = "", jurisdiction: Jurisdiction | None = None, limit: int
) -> int:
    """How many rows an export will hold, counting at most limit + 1 rows (bounded)."""
    require(user, Capability.PERSON_EXPORT)
    qs = persons_in_scope(user=user, q=q, jurisdiction=jurisdiction)
    return len(qs.order_by().values_list("pk", flat=True)[: limit + 1])


def person_get(*, user: User, pk: int) -> Person:
    """One person the user may see; NotFound (404) when absent or outside the scope."""
    require(user, Capability.PERSON_VIEW)
    person = (
        Person.objects.filter(scope_q(user, "jurisdiction_path"), pk=pk)
        .select_related("jurisdiction", "household", "workplace")
        .first()
    )
    if person is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="person")
    return person


def household_get(*, user: User, pk: int) -> Household:
    require(user, Capability.PERSON_VIEW)
    household = (
        Household.objects.filter(scope_q(user, "jurisdiction_path"), pk=pk)
        .select_related("community")
        .first()
    )
    if household is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="household")
    return household


def household_members(*, user: User, household: Household) -> list[Person]:
    """A household's members the user may see (a household never spans two towns, but
    the filter keeps the rule in one place)."""
    require(user, Capability.PERSON_VIEW)
    return list(
        Person.objects.filter(scope_q(user, "jurisdiction_path"), household=household)
        .select_related("jurisdiction")
        .order_by("pk")[:500]
    )


def household_search(*, user: User, cursor: str | None = None, size: int = 50) -> Page[Household]:
    require(user, Capability.PERSON_VIEW)
    qs = Household.objects.filter(scope_q(user, "jurisdiction_path")).select_related("community")
    return keyset_page(qs, cursor=cursor, size=size)


def jurisdiction_for_person(*, user: User, pk: int) -> Jurisdiction:
    """A community or grid the user may register persons in (NotFound otherwise)."""
    found = area_selectors.jurisdiction_in_scope(user=user, pk=pk)
    if found is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="jurisdiction")
    return found


def jurisdiction_choices(*, user: User) -> list[Jurisdiction]:
    """Communities and grids in the user's jurisdiction (for the registration form)."""
    return area_selectors.jurisdictions_in_scope(
        user=user, levels=PERSON_LEVELS, limit=JURISDICTION_CHOICES_MAX
    )


def place_for_person(*, user: User, pk: int) -> Place:
    """A workplace or school in the user's city."""
    city = city_of(str(getattr(user, "scope_path", "")))
    found = area_selectors.place_find(pk=pk) if city else None
    if found is None or not found.jurisdiction_path.startswith(city):
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="place")
    return found


def household_for_write(*, user: User, pk: int) -> Household:
    found = Household.objects.filter(scope_q(user, "jurisdiction_path"), pk=pk).first()
    if found is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="household")
    return found


def require_person_in_scope(*, user: User, person: Person) -> None:
    require_in_scope(user, person.jurisdiction_path, what="person")


# --- Aggregates for dashboards (scoped; one grouped query each, no rows loaded) ---------


def person_counts_by_prefix(*, user: User, width: int) -> dict[str, int]:
    """Persons in the user's scope grouped by the first `width` digits of their path
    (one grouped scan of the scope index: e.g. per town when width is the town's)."""
    return {
        row["prefix"]: row["n"]
        for row in Person.objects.filter(scope_q(user, "jurisdiction_path"))
        .annotate(prefix=Substr("jurisdiction_path", 1, width))
        .values("prefix")
        .annotate(n=Count("id"))
        .order_by()
    }


def household_count(*, user: User) -> int:
    return Household.objects.filter(scope_q(user, "jurisdiction_path")).count()


# --- Lookup alerts (for administrators) -------------------------------------------------

LOOKUP_ALERTS_MAX = 200


def lookup_alerts(*, user: User) -> list[AuditEvent]:
    """The latest alerts on bursts of missed lookups that `user` may see (audit.view,
    scoped like every audit record), newest first."""
    return list(audit_events(user=user, action=LOOKUP_ALERT_ACTION)[:LOOKUP_ALERTS_MAX])


# --- For other apps' services (ids and ties, never identities) --------------------------
# Unscoped on purpose: they serve services that derive rows from rows (a case's
# contacts, a scan log's persons), whose own results are scoped; no name, ID number or
# phone leaves here (identities: services.person_identities). One query per call; the
# caller chunks long id lists.


def person_ids_by_id_hash(*, user: User, hashes: Iterable[str]) -> dict[str, int]:
    """keyed ID hash → person id, for the persons in the user's scope with those hashes."""
    rows = Person.objects.filter(scope_q(user), id_hmac__in=list(hashes)).values_list(
        "id_hmac", "pk"
    )
    return {str(h): pk for h, pk in rows}


def person_paths(*, ids: Iterable[int]) -> dict[int, str]:
    """person id → jurisdiction path."""
    return dict(Person.objects.filter(pk__in=list(ids)).values_list("pk", "jurisdiction_path"))


def person_ties(*, pk: int) -> tuple[int | None, int | None]:
    """The person's household id and workplace id (Person.DoesNotExist if none)."""
    person = Person.objects.only("pk", "household_id", "workplace_id").get(pk=pk)
    return person.household_id, person.workplace_id


def person_households(*, ids: Iterable[int]) -> dict[int, int | None]:
    """person id → household id (None: no household)."""
    return dict(Person.objects.filter(pk__in=list(ids)).values_list("pk", "household_id"))


def members_of_households(*, household_ids: Iterable[int]) -> list[tuple[int, int]]:
    """(person id, household id) of every member of these households."""
    rows = Person.objects.filter(household_id__in=list(household_ids)).values_list(
        "pk", "household_id"
    )
    return [(pk, int(hid)) for pk, hid in rows]


def workplace_members(*, workplace_id: int) -> list[int]:
    """The ids of the persons working at the place."""
    return list(Person.objects.filter(workplace_id=workplace_id).values_list("pk", flat=True))


def person_homes_sql() -> str:
    """Raw SQL (SQLite and PostgreSQL) of `SELECT id, jurisdiction_path, household_id`
    over every person: where people live, for another app's set-based join by path (a
    round's target population joins it to areas' zone levels). No parameters; a simple
    projection, which both databases fold into the enclosing query."""
    q = connection.ops.quote_name
    table = q(Person._meta.db_table)
    return f"SELECT id, jurisdiction_path, household_id FROM {table}"  # noqa: S608


PG_PERSONS_BY_ID_HASH = (
    "SELECT id_hmac, id, jurisdiction_path FROM people_person WHERE id_hmac = "  # noqa: S608
    + pg_any("varchar")
)
ID_HASH_CHUNK = 1000  # SQLite's bound parameters per statement


def persons_by_id_hash(*, hashes: Sequence[str]) -> dict[str, tuple[int, str]]:
    """keyed ID hash → (person id, jurisdiction path), for the hashes that are
    registered, wherever the persons live (a sampler meets walk-ins from other towns).
    On PostgreSQL one prepared statement (core.sql: the sampling sync's batches ask
    this for every batch), elsewhere one query per chunk of hashes."""
    known: dict[str, tuple[int, str]] = {}
    if not hashes:
        return known
    if connection.vendor == "postgresql":
        with statement_cursor() as cursor:
            cursor.execute(PG_PERSONS_BY_ID_HASH, [json_param(list(hashes))])
            return {h: (pk, path) for h, pk, path in cursor.fetchall()}
    for start in range(0, len(hashes), ID_HASH_CHUNK):
        chunk = hashes[start : start + ID_HASH_CHUNK]
        for h, pk, path in Person.objects.filter(id_hmac__in=chunk).values_list(
            "id_hmac", "pk", "jurisdiction_path"
        ):
            known[str(h)] = (pk, path)
    return known


def persons_named(*, user: User, names: Iterable[str], limit: int = 20) -> dict[str, list[int]]:
    """name → ids of the persons in the user's scope with exactly that name (at most
    `limit` each): how a name typed elsewhere (a stop's companions) is matched to the
    registry. One query; the caller checks its own capability."""
    wanted = sorted({n for n in names if n})
    if not wanted:
        return {}
    found: dict[str, list[int]] = {}
    rows = Person.objects.filter(scope_q(user, "jurisdiction_path"), name__in=wanted)
    for pk, name in rows.order_by("pk").values_list("pk", "name"):
        ids = found.setdefault(name, [])
        if len(ids) < limit:
            ids.append(pk)
    return found
