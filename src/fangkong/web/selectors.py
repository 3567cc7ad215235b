"""Reads for the page shell: the command dashboard's figures and the landing page's facts.

Every figure is scoped to the acting user's jurisdiction (accounts.permissions.scope_q)
and cached per scope for DASHBOARD_CACHE_SECONDS, so that a dashboard left open on a
wall screen never counts a million-row table on each refresh: the whole set costs about
eight aggregate queries per scope per minute, whoever asks.

Documented exception to "cross domains through selectors": the people and areas apps
have no aggregate selectors for these counts, so the read-only aggregates below query
their models (Person, Household, Jurisdiction, Place, Zone) directly. They only COUNT and
GROUP BY within the user's scope; they never return rows, never write, and never reveal
a person. When those apps grow such selectors, these queries move there.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models import Count
from django.db.models.functions import Substr
from django.utils import timezone

from fangkong.accounts.permissions import require, scope_path, scope_q
from fangkong.accounts.roles import Capability
from fangkong.areas.models import Jurisdiction, Level, Place, PlaceKind, Zone, ZoneLevel, ZoneState
from fangkong.people.models import Household, Person

DASHBOARD_CACHE_SECONDS = 60
# Bump when the cached shape changes, so that a deploy never reads an old shape.
_CACHE_VERSION = 1

ZONE_LEVELS: tuple[str, ...] = (ZoneLevel.SEALED, ZoneLevel.CONTROLLED, ZoneLevel.PRECAUTION)


def dashboard_cache_key(scope: str) -> str:
    return f"fangkong:web:dashboard:v{_CACHE_VERSION}:{scope}"


def _empty_figures(scope: str) -> dict[str, Any]:
    return {
        "scope_path": scope,
        "scope_name": "",
        "scope_level": "",
        "persons": 0,
        "households": 0,
        "population": 0,
        "jurisdictions": {level.value: 0 for level in Level},
        "places_total": 0,
        "places_by_kind": [],
        "zones": dict.fromkeys(ZONE_LEVELS, 0),
        "zones_total": 0,
        "child_level": "",
        "persons_by_area": [],
        "computed_at": timezone.now(),
    }


def _compute_figures(user: Any, scope: str) -> dict[str, Any]:
    """One pass of aggregate queries over the user's jurisdiction subtree."""
    figures = _empty_figures(scope)
    node = Jurisdiction.objects.filter(path=scope).only("name", "level", "population").first()
    if node is not None:
        figures["scope_name"] = node.name
        figures["scope_level"] = node.level

    # Jurisdictions under the scope, per level (the scope node itself included).
    for level_row in (
        Jurisdiction.objects.filter(scope_q(user, "path"))
        .values("level")
        .annotate(n=Count("id"))
        .order_by()
    ):
        figures["jurisdictions"][level_row["level"]] = level_row["n"]

    # Persons per child jurisdiction in one grouped scan of the person scope index;
    # the total is their sum (persons bound to the scope node itself included).
    width = len(scope) + 3
    persons_by_prefix: dict[str, int] = {}
    for row in (
        Person.objects.filter(scope_q(user, "jurisdiction_path"))
        .annotate(prefix=Substr("jurisdiction_path", 1, width))
        .values("prefix")
        .annotate(n=Count("id"))
        .order_by()
    ):
        persons_by_prefix[row["prefix"]] = row["n"]
    figures["persons"] = sum(persons_by_prefix.values())

    children = list(
        Jurisdiction.objects.filter(parent__path=scope)
        .order_by("path")
        .values("path", "name", "level", "population")
    )
    figures["child_level"] = children[0]["level"] if children else ""
    figures["persons_by_area"] = [
        {
            "path": child["path"],
            "name": child["name"],
            "persons": persons_by_prefix.get(child["path"], 0),
            "population": child["population"],
        }
        for child in children
    ]
    population = node.population if node is not None else 0
    if not population:
        population = sum(child["population"] for child in children)
    figures["population"] = population

    figures["households"] = Household.objects.filter(scope_q(user, "jurisdiction_path")).count()

    kind_labels = dict(PlaceKind.choices)
    places = [
        (row["kind"], row["n"])
        for row in Place.objects.filter(scope_q(user, "jurisdiction_path"), active=True)
        .values("kind")
        .annotate(n=Count("id"))
        .order_by()
    ]
    order = list(kind_labels)
    places.sort(key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
    figures["places_by_kind"] = [{"kind": kind, "count": n} for kind, n in places]
    figures["places_total"] = sum(n for _, n in places)

    for zone_row in (
        Zone.objects.filter(scope_q(user, "jurisdiction_path"), state=ZoneState.ACTIVE)
        .values("level")
        .annotate(n=Count("id"))
        .order_by()
    ):
        if zone_row["level"] in figures["zones"]:
            figures["zones"][zone_row["level"]] = zone_row["n"]
    figures["zones_total"] = sum(figures["zones"].values())
    return figures


def dashboard_figures(*, user: Any) -> dict[str, Any]:
    """The command dashboard's figures for the user's jurisdiction (cached 60 s per scope).

    Raises PermissionDenied (403) for a role without dashboard.view. Labels are not part
    of the cached value: the page translates codes at render time, so one cache entry
    serves every language.
    """
    require(user, Capability.DASHBOARD_VIEW)
    scope = scope_path(user)
    if not scope:
        return _empty_figures(scope)
    key = dashboard_cache_key(scope)
    figures = cache.get(key)
    if figures is None:
        figures = _compute_figures(user, scope)
        cache.set(key, figures, DASHBOARD_CACHE_SECONDS)
    return figures


def dashboard_cache_clear(*, scope: str) -> None:
    """Forget one scope's cached figures (tests; an operator forcing a refresh)."""
    cache.delete(dashboard_cache_key(scope))


def jurisdiction_chain(*, user: Any) -> list[dict[str, str]]:
    """The user's own jurisdiction and its ancestors, root first: [{path, name, level}].

    Ancestors are the prefixes of the path (core/paths.py), so this is one indexed
    lookup. Only the user's own chain is read: nothing outside what the account is bound to.
    """
    own = scope_path(user)
    if not own:
        return []
    prefixes = [own[:n] for n in range(6, len(own) + 1, 3)]
    rows = Jurisdiction.objects.filter(path__in=prefixes).order_by("path")
    return [{"path": j.path, "name": j.name, "level": j.level} for j in rows]
