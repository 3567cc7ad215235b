"""Reads for the page shell: the command dashboard's figures and the landing page's facts.

Every figure is scoped to the acting user's jurisdiction (accounts.permissions.scope_q)
and cached per scope for DASHBOARD_CACHE_SECONDS, so that a dashboard left open on a
wall screen never counts a million-row table on each refresh: the whole set costs about
eight aggregate queries per scope per minute, whoever asks.

The counts come from the aggregate selectors of the apps that own the tables
(people.selectors, areas.selectors), each scoped by the acting user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.utils import timezone

from fangkong.accounts.permissions import require, scope_path
from fangkong.accounts.roles import Capability
from fangkong.areas import selectors as area_selectors
from fangkong.areas.choices import Level, PlaceKind, ZoneLevel
from fangkong.core.paths import LEVEL_STEP
from fangkong.people import selectors as people_selectors

if TYPE_CHECKING:
    from fangkong.accounts.models import User

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


def _compute_figures(user: User, scope: str) -> dict[str, Any]:
    """One pass of aggregate queries over the user's jurisdiction subtree, each through
    the selectors of the app that owns the table."""
    figures = _empty_figures(scope)
    node = area_selectors.jurisdiction_summary(path=scope)
    if node is not None:
        figures["scope_name"] = node["name"]
        figures["scope_level"] = node["level"]

    # Jurisdictions under the scope, per level (the scope node itself included).
    figures["jurisdictions"].update(area_selectors.jurisdiction_counts_by_level(user=user))

    # Persons per child jurisdiction in one grouped scan of the person scope index;
    # the total is their sum (persons bound to the scope node itself included).
    persons_by_prefix = people_selectors.person_counts_by_prefix(
        user=user, width=len(scope) + LEVEL_STEP
    )
    figures["persons"] = sum(persons_by_prefix.values())

    children = area_selectors.jurisdiction_child_rows(path=scope)
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
    population = node["population"] if node is not None else 0
    if not population:
        population = sum(child["population"] for child in children)
    figures["population"] = population

    figures["households"] = people_selectors.household_count(user=user)

    order = [kind for kind, _label in PlaceKind.choices]
    places = sorted(
        area_selectors.place_counts_by_kind(user=user).items(),
        key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order),
    )
    figures["places_by_kind"] = [{"kind": kind, "count": n} for kind, n in places]
    figures["places_total"] = sum(n for _, n in places)

    for level, n in area_selectors.active_zone_counts_by_level(user=user).items():
        if level in figures["zones"]:
            figures["zones"][level] = n
    figures["zones_total"] = sum(figures["zones"].values())
    return figures


def dashboard_figures(*, user: User) -> dict[str, Any]:
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


def jurisdiction_chain(*, user: User) -> list[dict[str, str]]:
    """The user's own jurisdiction and its ancestors, root first: [{path, name, level}].

    Ancestors are the prefixes of the path (core/paths.py), so this is one indexed
    lookup. Only the user's own chain is read: nothing outside what the account is bound to.
    """
    own = scope_path(user)
    if not own:
        return []
    return area_selectors.jurisdiction_ancestry(path=own)
