"""Every read of the areas domain.

Jurisdictions, places and zones are public information within a city: any user with
area.view (zone.view for zones) sees the whole city their account belongs to (the first
6 digits of their scope path), never another city's. Managing is checked in services.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import has_capability, in_scope, require, scope_path, scope_q
from fangkong.accounts.roles import Capability
from fangkong.areas.choices import PlaceKind
from fangkong.areas.models import (
    Jurisdiction,
    Level,
    Place,
    Zone,
    ZoneLevel,
    ZoneMember,
    ZoneState,
    ZoneTransition,
)
from fangkong.core.errors import DomainError, NotFound
from fangkong.core.pagination import Page, keyset_page
from fangkong.core.paths import city_of, is_under, level_prefixes, path_upper_bound, under
from fangkong.core.search import SearchHit
from fangkong.protocol import rules as protocol_rules

if TYPE_CHECKING:
    from fangkong.accounts.models import User


def city_path(user: User) -> str:
    """The city a user belongs to: what they may see of the public area data."""
    path = scope_path(user)
    return city_of(path)


def _city_q(user: User, field: str) -> Q:
    city = city_path(user)
    if not city:
        return Q(pk__in=[])
    return under(field, city)


def can_manage_zone(user: User, zone: Zone) -> bool:
    return has_capability(user, Capability.ZONE_MANAGE) and in_scope(user, zone.jurisdiction_path)


# --- Jurisdictions --------------------------------------------------------------------


JURISDICTION_ORDER = ("path", "pk")


def jurisdictions(
    *, user: User, parent: Jurisdiction | int | None = None, level: str | None = None
) -> QuerySet[Jurisdiction]:
    """Jurisdictions of the user's city, optionally the children of `parent` or one level."""
    require(user, Capability.AREA_VIEW)
    qs = Jurisdiction.objects.filter(_city_q(user, "path"))
    if parent is not None:
        qs = qs.filter(parent_id=parent if isinstance(parent, int) else parent.pk)
    if level is not None:
        if level not in Level.values:
            raise DomainError("level_invalid", _("层级无效"), level=level)
        qs = qs.filter(level=level)
    return qs.order_by(*JURISDICTION_ORDER)


def jurisdiction_children(*, user: User, parent: Jurisdiction) -> list[Jurisdiction]:
    return list(jurisdictions(user=user, parent=parent))


def jurisdiction_get(*, user: User, pk: int) -> Jurisdiction:
    """One jurisdiction with its parent and geometry; 404 outside the user's city."""
    require(user, Capability.AREA_VIEW)
    node = (
        Jurisdiction.objects.filter(_city_q(user, "path"), pk=pk)
        .select_related("parent", "geometry")
        .first()
    )
    if node is None:
        raise NotFound("not_found", _("未找到该辖区"), object="jurisdiction")
    return node


def jurisdiction_by_path(*, user: User, path: str) -> Jurisdiction:
    require(user, Capability.AREA_VIEW)
    node = Jurisdiction.objects.filter(_city_q(user, "path"), path=path).first()
    if node is None:
        raise NotFound("not_found", _("未找到该辖区"), object="jurisdiction")
    return node


def jurisdiction_resolve(*, user: User, pk: int | None) -> Jurisdiction | None:
    """A jurisdiction named by id in input; an unknown id is bad input (400), not a 404."""
    if pk is None:
        return None
    try:
        return jurisdiction_get(user=user, pk=pk)
    except NotFound as exc:
        raise DomainError("unknown_jurisdiction", _("辖区不存在"), id=pk) from exc


def jurisdictions_under(*, user: User, root: Jurisdiction) -> list[Jurisdiction]:
    """`root` and every jurisdiction below it (e.g. the choices of a zone's members)."""
    require(user, Capability.AREA_VIEW)
    return list(
        Jurisdiction.objects.filter(_city_q(user, "path"), under("path", root.path)).order_by(
            "path"
        )
    )


@dataclass
class TreeRow:
    node: Jurisdiction
    places: int
    indent: int


def jurisdiction_tree(*, user: User, max_depth: int = 2) -> list[TreeRow]:
    """The city's tree down to `max_depth` (0 city, 1 town, 2 community, 3 grid), in path
    order, with the number of places in each subtree. Two queries whatever the size."""
    require(user, Capability.AREA_VIEW)
    nodes = list(
        Jurisdiction.objects.filter(_city_q(user, "path"), depth__lte=max_depth).order_by("path")
    )
    counts: dict[str, int] = defaultdict(int)
    per_path = (
        Place.objects.filter(_city_q(user, "jurisdiction_path"))
        .values_list("jurisdiction_path")
        .order_by()
        .annotate(n=Count("pk"))
    )
    for path, n in per_path:
        # Roll the count up to every ancestor (the prefixes at level boundaries).
        for prefix in level_prefixes(path):
            counts[prefix] += n
    return [TreeRow(node=n, places=counts.get(n.path, 0), indent=n.depth) for n in nodes]


# --- Places ---------------------------------------------------------------------------


def places(
    *,
    user: User,
    kind: str | None = None,
    jurisdiction: Jurisdiction | None = None,
    q: str | None = None,
    cursor: str | None = None,
    size: int = 50,
    with_total: bool = False,
) -> Page[Place]:
    """One keyset page of the city's places (newest first), filtered by kind, by the
    subtree of a jurisdiction, and by a search on name or venue code."""
    require(user, Capability.AREA_VIEW)
    qs = Place.objects.filter(_city_q(user, "jurisdiction_path")).select_related("jurisdiction")
    if kind:
        qs = qs.filter(kind=kind)
    if jurisdiction is not None:
        qs = qs.filter(under("jurisdiction_path", jurisdiction.path))
    term = (q or "").strip()
    if term:
        if len(term) > 100:
            raise DomainError("query_too_long", _("搜索词过长"))
        qs = qs.filter(Q(name__icontains=term) | Q(venue_code__startswith=term))
    return keyset_page(qs, cursor=cursor, size=size, with_total=with_total)


def place_get(*, user: User, pk: int) -> Place:
    require(user, Capability.AREA_VIEW)
    place = (
        Place.objects.filter(_city_q(user, "jurisdiction_path"), pk=pk)
        .select_related("jurisdiction")
        .first()
    )
    if place is None:
        raise NotFound("not_found", _("未找到该场所"), object="place")
    return place


def places_resolve(*, user: User, pks: list[int]) -> list[Place]:
    """Places named by id in input; any unknown id is bad input (400)."""
    if not pks:
        return []
    require(user, Capability.AREA_VIEW)
    found = list(Place.objects.filter(_city_q(user, "jurisdiction_path"), pk__in=set(pks)))
    missing = sorted(set(pks) - {p.pk for p in found})
    if missing:
        raise DomainError("unknown_place", _("场所不存在"), ids=missing)
    return found


def jurisdictions_resolve(*, user: User, pks: list[int]) -> list[Jurisdiction]:
    if not pks:
        return []
    require(user, Capability.AREA_VIEW)
    found = list(Jurisdiction.objects.filter(_city_q(user, "path"), pk__in=set(pks)))
    missing = sorted(set(pks) - {j.pk for j in found})
    if missing:
        raise DomainError("unknown_jurisdiction", _("辖区不存在"), ids=missing)
    return found


# --- Zones ----------------------------------------------------------------------------


# Active first, most severe first, then newest; the primary key last (a unique order,
# which keyset pages need).
ZONE_ORDER = ("state", "level", "-started_on", "-pk")


def zones(
    *, user: User, level: str | None = None, state: str | None = None, town: str | None = None
) -> QuerySet[Zone]:
    """The city's zones: active first, most severe first, then newest; `town` keeps
    those drawn under that town's path (what a town's dashboard counts)."""
    require(user, Capability.ZONE_VIEW)
    qs = Zone.objects.filter(_city_q(user, "jurisdiction_path")).select_related(
        "jurisdiction", "ruleset", "parent"
    )
    if town:
        qs = qs.filter(under("jurisdiction_path", town))
    if level:
        if level not in ZoneLevel.values:
            raise DomainError("zone_level_invalid", _("风险区等级无效"), level=level)
        qs = qs.filter(level=level)
    if state:
        if state not in ZoneState.values:
            raise DomainError("zone_state_invalid", _("风险区状态无效"), state=state)
        qs = qs.filter(state=state)
    return qs.order_by(*ZONE_ORDER)


def zones_proposed(*, user: User) -> list[Zone]:
    """The city's zones with a downgrade proposal waiting for command, oldest first."""
    require(user, Capability.ZONE_VIEW)
    return list(
        Zone.objects.filter(
            _city_q(user, "jurisdiction_path"),
            state=ZoneState.ACTIVE,
            downgrade_proposed_on__isnull=False,
        )
        .select_related("jurisdiction", "ruleset")
        .order_by("downgrade_proposed_at", "pk")[:ZONE_PROPOSALS_MAX]
    )


ZONE_PROPOSALS_MAX = 200


def zone_markers(*, user: User) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the city's ACTIVE zones as points (the mean of
    their member jurisdictions' centroids and member places' coordinates), with the
    level, the day counter against the days the rule set needs and the waiting
    proposal: what the zones map draws over `map_features`. Two queries."""
    require(user, Capability.ZONE_VIEW)
    zones_by_pk = {
        z.pk: z
        for z in Zone.objects.filter(_city_q(user, "jurisdiction_path"), state=ZoneState.ACTIVE)
        .select_related("ruleset")
        .order_by("pk")
    }
    points: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for zone_id, lat, lon, place_lat, place_lon in ZoneMember.objects.filter(
        zone_id__in=list(zones_by_pk)
    ).values_list(
        "zone_id",
        "jurisdiction__geometry__centroid_lat",
        "jurisdiction__geometry__centroid_lon",
        "place__lat",
        "place__lon",
    ):
        if lat is not None and lon is not None:
            points[zone_id].append((lat, lon))
        elif place_lat is not None and place_lon is not None:
            points[zone_id].append((place_lat, place_lon))
    features = []
    for pk, zone in zones_by_pk.items():
        if not points[pk]:
            continue
        lat = sum(p[0] for p in points[pk]) / len(points[pk])
        lon = sum(p[1] for p in points[pk]) / len(points[pk])
        progress = zone_progress(zone)
        features.append(
            {
                "type": "Feature",
                "id": pk,
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    "id": pk,
                    "name": zone.name,
                    "level": zone.level,
                    "no_case_days": zone.no_case_days,
                    "required_days": progress.required_days,
                    "proposed_on": (
                        zone.downgrade_proposed_on.isoformat()
                        if zone.downgrade_proposed_on
                        else None
                    ),
                    "url": reverse("areas:zone_detail", args=[pk]),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def zone_get(*, user: User, pk: int) -> Zone:
    require(user, Capability.ZONE_VIEW)
    zone = (
        Zone.objects.filter(_city_q(user, "jurisdiction_path"), pk=pk)
        .select_related("jurisdiction", "ruleset")
        .first()
    )
    if zone is None:
        raise NotFound("not_found", _("未找到该风险区"), object="zone")
    return zone


def zone_resolve(*, user: User, pk: int | None) -> Zone | None:
    if pk is None:
        return None
    try:
        return zone_get(user=user, pk=pk)
    except NotFound as exc:
        raise DomainError("unknown_zone", _("上级风险区不存在"), id=pk) from exc


def zone_detail(*, user: User, pk: int) -> Zone:
    """A zone with everything its page shows, in a fixed number of queries (5): the zone
    (with jurisdiction, rule set, parent), members, children, transitions (with actor
    and rule set)."""
    require(user, Capability.ZONE_VIEW)
    zone = (
        Zone.objects.filter(_city_q(user, "jurisdiction_path"), pk=pk)
        .select_related("jurisdiction", "ruleset", "parent")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=ZoneMember.objects.select_related("jurisdiction", "place").order_by("pk"),
            ),
            Prefetch("children", queryset=Zone.objects.order_by("pk")),
            Prefetch(
                "transitions",
                queryset=ZoneTransition.objects.select_related("actor", "ruleset").order_by(
                    "at", "pk"
                ),
            ),
        )
        .first()
    )
    if zone is None:
        raise NotFound("not_found", _("未找到该风险区"), object="zone")
    return zone


def zones_active_parents(*, user: User) -> list[Zone]:
    """Active zones a new zone may be drawn inside (the choices for `parent`)."""
    return list(zones(user=user, state=ZoneState.ACTIVE).select_related(None).order_by("name"))


@dataclass(frozen=True)
class ZoneProgress:
    required_days: int
    no_case_days: int
    next_level: str | None
    screening_required: bool

    @property
    def days_reached(self) -> bool:
        return self.no_case_days >= self.required_days


def zone_progress(zone: Zone) -> ZoneProgress:
    """What the zone's counter stands at against the days its rule set needs."""
    from_sealed = zone.downgraded_from_sealed
    return ZoneProgress(
        required_days=protocol_rules.zone_downgrade_days(
            zone.ruleset, zone.level, downgraded_from_sealed=from_sealed
        ),
        no_case_days=zone.no_case_days,
        next_level=protocol_rules.next_lower_level(zone.level),
        screening_required=protocol_rules.zone_screening_required(
            zone.ruleset, zone.level, downgraded_from_sealed=from_sealed
        ),
    )


def active_zone_member_paths(zone_ids: Any) -> list[str]:
    """The paths of the member jurisdictions of those of `zone_ids` (ids, or a values
    queryset of ids to compose in one query) that are active."""
    return list(
        ZoneMember.objects.filter(
            zone_id__in=zone_ids, zone__state=ZoneState.ACTIVE, jurisdiction__isnull=False
        ).values_list("jurisdiction__path", flat=True)
    )


@dataclass(frozen=True)
class ZoneResidence:
    """An active zone and the paths of its member jurisdictions (where its people live),
    for testing to count a round's results of the zone."""

    pk: int
    name: str
    started_on: dt.date
    paths: tuple[str, ...]


def active_zones_within(prefixes: Sequence[str]) -> list[ZoneResidence]:
    """Active zones whose member jurisdictions all lie under one of `prefixes` (a round's
    scope): their people are all targets of it. Zones with place members only hold no
    residents and are left out. One query over the members of the active zones."""
    rows = (
        ZoneMember.objects.filter(zone__state=ZoneState.ACTIVE, jurisdiction__isnull=False)
        .values_list("zone_id", "zone__name", "zone__started_on", "jurisdiction__path")
        .order_by("zone_id")
    )
    zones: dict[int, tuple[str, dt.date, list[str]]] = {}
    for pk, name, started_on, path in rows:
        zones.setdefault(pk, (name, started_on, []))[2].append(path)
    return [
        ZoneResidence(pk, name, started_on, tuple(sorted(paths)))
        for pk, (name, started_on, paths) in zones.items()
        if all(any(is_under(path, prefix) for prefix in prefixes) for path in paths)
    ]


def zone_levels_under_sql(prefixes: Sequence[str]) -> tuple[str, list[Any]]:
    """Zone levels for other apps to join against: raw SQL (SQLite and PostgreSQL) of
    `SELECT path, level` with one row per jurisdiction under one of `prefixes` (paths),
    `level` being that of the most severe ACTIVE zone whose member jurisdictions cover it
    (the jurisdiction or one of its ancestors is a member), '' outside every zone. Returns
    the SQL and its parameters, for a subquery or a CTE (`WITH zl AS (...)`).

    One grouped join of the zone members (a few hundred rows) with the jurisdictions of
    the scope (a few thousand), whatever the number of persons joined to it after."""
    if not prefixes:
        raise ValueError("zone levels of no prefix")
    q = connection.ops.quote_name
    jur, member, zone = (
        q(Jurisdiction._meta.db_table),
        q(ZoneMember._meta.db_table),
        q(Zone._meta.db_table),
    )
    ranked = sorted(protocol_rules.ZONE_SEVERITY.items(), key=lambda item: -item[1])
    severity = " ".join("WHEN %s THEN %s" for _ in ranked)
    level = " ".join("WHEN %s THEN %s" for _ in ranked)
    conds = " OR ".join("(j.path >= %s AND j.path < %s)" for _ in prefixes)
    params: list[Any] = []
    for name, rank in ranked:
        params += [rank, name]
    for name, rank in ranked:
        params += [name, rank]
    params.append(ZoneState.ACTIVE.value)
    for prefix in prefixes:
        params += [prefix, path_upper_bound(prefix)]
    sql = f"""
SELECT j.path AS path,
       CASE COALESCE(MAX(zl.sev), 0) {level} ELSE '' END AS level
FROM {jur} j
LEFT JOIN (
    SELECT mj.path AS zpath, MAX(CASE z.level {severity} ELSE 0 END) AS sev
    FROM {member} m
    JOIN {zone} z ON z.id = m.zone_id
    JOIN {jur} mj ON mj.id = m.jurisdiction_id
    WHERE z.state = %s
    GROUP BY mj.path
) zl ON substr(j.path, 1, length(zl.zpath)) = zl.zpath
WHERE {conds}
GROUP BY j.path"""  # noqa: S608 - quoted identifiers, values are parameters
    return sql, params


# --- Map ------------------------------------------------------------------------------


def _keep_most_severe(levels: dict[str, str], key: str, level: str) -> None:
    current = levels.get(key)
    if current is None or protocol_rules.is_more_severe(level, current):
        levels[key] = level


def map_features(*, user: User, level: str) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the city's jurisdictions at `level` that have a
    geometry, each with `zone_level`: the most severe ACTIVE zone level that covers it.

    A jurisdiction is covered by a zone when it or an ancestor is a member of the zone,
    and it is marked too when it CONTAINS a member (a town containing a sealed community
    is drawn sealed on the town map; a community containing a sealed place likewise).
    Two queries whatever the number of jurisdictions and zones.
    """
    require(user, Capability.AREA_VIEW)
    if level not in (Level.TOWN, Level.COMMUNITY):
        raise DomainError("level_invalid", _("地图层级须为镇街或村社"), level=level)
    nodes = list(
        Jurisdiction.objects.filter(_city_q(user, "path"), level=level, geometry__isnull=False)
        .select_related("geometry")
        .order_by("path")
    )
    members = ZoneMember.objects.filter(
        _city_q(user, "zone__jurisdiction_path"), zone__state=ZoneState.ACTIVE
    ).values_list("zone__level", "jurisdiction__path", "place__jurisdiction_path")
    covering: dict[str, str] = {}  # member jurisdiction path -> most severe level
    contained: dict[str, str] = {}  # ancestor-or-self of a member -> most severe level
    for zone_level, member_path, place_path in members:
        if member_path:
            _keep_most_severe(covering, member_path, zone_level)
        path = member_path or place_path or ""
        for prefix in level_prefixes(path):
            _keep_most_severe(contained, prefix, zone_level)
    features = []
    for node in nodes:
        candidates = [
            covering[prefix] for prefix in level_prefixes(node.path) if prefix in covering
        ]
        if node.path in contained:
            candidates.append(contained[node.path])
        geometry = node.geometry  # type: ignore[attr-defined]
        features.append(
            {
                "type": "Feature",
                "id": node.pk,
                "geometry": geometry.geojson,
                "properties": {
                    "id": node.pk,
                    "code": node.code,
                    "name": node.name,
                    "level": node.level,
                    "path": node.path,
                    "zone_level": protocol_rules.most_severe(candidates),
                    "centroid": [geometry.centroid_lat, geometry.centroid_lon],
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


# --- Aggregates for dashboards (scoped to the user's subtree; one grouped query each) ----


def jurisdiction_counts_by_level(*, user: User) -> dict[str, int]:
    return {
        row["level"]: row["n"]
        for row in Jurisdiction.objects.filter(scope_q(user, "path"))
        .values("level")
        .annotate(n=Count("id"))
        .order_by()
    }


def place_counts_by_kind(*, user: User) -> dict[str, int]:
    return {
        row["kind"]: row["n"]
        for row in Place.objects.filter(scope_q(user, "jurisdiction_path"), active=True)
        .values("kind")
        .annotate(n=Count("id"))
        .order_by()
    }


def active_zone_counts_by_level(*, user: User) -> dict[str, int]:
    return {
        row["level"]: row["n"]
        for row in Zone.objects.filter(scope_q(user, "jurisdiction_path"), state=ZoneState.ACTIVE)
        .values("level")
        .annotate(n=Count("id"))
        .order_by()
    }


def jurisdiction_summary(*, path: str) -> dict[str, Any] | None:
    """Name, level and population of the jurisdiction at `path` (reference data)."""
    row = Jurisdiction.objects.filter(path=path).values("name", "level", "population").first()
    return dict(row) if row is not None else None


def jurisdiction_child_rows(*, path: str) -> list[dict[str, Any]]:
    """The direct children of the jurisdiction at `path`, in path order (reference data)."""
    rows = Jurisdiction.objects.filter(parent__path=path).order_by("path")
    return [dict(row) for row in rows.values("path", "name", "level", "population")]


def jurisdiction_rows_at_level(*, level: str) -> list[dict[str, Any]]:
    """Every jurisdiction of `level` (all cities), in path order, as {path, name}
    (reference data: a system job's round over the towns)."""
    rows = Jurisdiction.objects.filter(level=level).order_by("path")
    return [dict(row) for row in rows.values("path", "name")]


def jurisdiction_ancestry(*, path: str) -> list[dict[str, str]]:
    """The jurisdiction at `path` and its ancestors, root first: [{path, name, level}].

    Ancestors are the prefixes of the path (core/paths.py), so this is one indexed lookup.
    """
    prefixes = level_prefixes(path)
    rows = Jurisdiction.objects.filter(path__in=prefixes).order_by("path")
    return [
        {"path": r["path"], "name": r["name"], "level": r["level"]}
        for r in rows.values("path", "name", "level")
    ]


# --- For other apps (reference data they ask for instead of reading areas' tables) ------


def jurisdiction_names(*, paths: Iterable[str]) -> dict[str, str]:
    """path → name of the jurisdictions at `paths` (reference data, like
    `jurisdiction_summary`); an unknown path is left out."""
    wanted = sorted(set(paths))
    if not wanted:
        return {}
    return dict(Jurisdiction.objects.filter(path__in=wanted).values_list("path", "name"))


def jurisdictions_at(*, paths: Iterable[str], level: str | None = None) -> dict[str, Jurisdiction]:
    """path → the jurisdiction at each of `paths` (of `level` if given); unknown paths are
    left out. One query."""
    qs = Jurisdiction.objects.filter(path__in=sorted(set(paths)))
    if level is not None:
        qs = qs.filter(level=level)
    return {j.path: j for j in qs}


def places_under(*, path: str, kind: str) -> list[Place]:
    """The places of `kind` under the jurisdiction at `path`, by name (a city's labs)."""
    return list(Place.objects.filter(under("jurisdiction_path", path), kind=kind).order_by("name"))


def venues_by_code(*, user: User, codes: Iterable[str]) -> dict[str, tuple[int, str]]:
    """venue code → (place id, jurisdiction path) of the places in the user's scope with
    these codes (a scan log's venues). One query; unknown codes are left out."""
    rows = Place.objects.filter(scope_q(user), venue_code__in=sorted(set(codes))).values_list(
        "venue_code", "pk", "jurisdiction_path"
    )
    return {code: (pk, path) for code, pk, path in rows if code is not None}


def jurisdiction_in_scope(*, user: User, pk: int) -> Jurisdiction | None:
    """The jurisdiction `pk` if it lies in the user's own scope (not merely their city),
    else None: the caller says what is not found."""
    return Jurisdiction.objects.filter(scope_q(user, "path"), pk=pk).first()


def jurisdictions_in_scope(*, user: User, levels: Iterable[str], limit: int) -> list[Jurisdiction]:
    """The jurisdictions of `levels` in the user's own scope, by path, at most `limit`."""
    qs = Jurisdiction.objects.filter(scope_q(user, "path"), level__in=list(levels))
    return list(qs.order_by("path")[:limit])


def place_find(*, pk: int) -> Place | None:
    """The place `pk`, or None (the caller checks it is the user's to use)."""
    return Place.objects.filter(pk=pk).first()


def place_rows_under(*, path: str, kind: str) -> list[tuple[int, str]]:
    """(id, jurisdiction path) of the places of `kind` under `path`, by id (a build
    step's set of places: the drill city's sampling points). One query."""
    qs = Place.objects.filter(under("jurisdiction_path", path), kind=kind).order_by("pk")
    return list(qs.values_list("pk", "jurisdiction_path"))


def place_ids_existing(*, pks: Iterable[int]) -> set[int]:
    """Which of these place ids exist (proposals from scans may name deleted places)."""
    return set(Place.objects.filter(pk__in=set(pks)).values_list("pk", flat=True))


def place_lock(*, pk: int) -> None:
    """Lock the place's row until the transaction ends: work that must run one at a time
    per place (a lab's result imports) takes it first."""
    list(Place.objects.select_for_update().filter(pk=pk).values_list("pk", flat=True))


def place_names(*, pks: Iterable[int]) -> dict[int, str]:
    """The names of these places by id (a place's name is not personal data): one
    query, for pages that show evidence naming places."""
    ids = {pk for pk in pks if isinstance(pk, int)}
    if not ids:
        return {}
    return dict(Place.objects.filter(pk__in=ids).values_list("pk", "name"))


def place_venue_kinds(*, pks: Iterable[int]) -> dict[int, str]:
    """The venue kind (VenueKind value, "" when not set) of these places by id, in
    chunks of 2,000 ids: contact finding classifies co-presence by it (a venue kind
    is not personal data)."""
    ids = sorted({pk for pk in pks if isinstance(pk, int)})
    out: dict[int, str] = {}
    for i in range(0, len(ids), 2000):
        chunk = ids[i : i + 2000]
        out.update(Place.objects.filter(pk__in=chunk).values_list("pk", "venue_kind"))
    return out


# --- The header's search (core.search) --------------------------------------------------


def place_search(*, user: User, q: str, limit: int) -> list[SearchHit]:
    """The city's places (as the place list shows them) whose venue code is `q` (exact,
    any case) or starts with it, or whose name holds it; the exact code first. A hit
    leads to the place list filtered to it (places have no page of their own)."""
    require(user, Capability.AREA_VIEW)
    term = q.strip()
    code = term.upper()
    rows = list(
        Place.objects.filter(_city_q(user, "jurisdiction_path"))
        .filter(
            Q(venue_code__iexact=code) | Q(venue_code__istartswith=code) | Q(name__icontains=term)
        )
        .select_related("jurisdiction")
        .order_by("name", "pk")[:limit]
    )
    rows.sort(key=lambda p: (p.venue_code or "").upper() != code)
    kinds = dict(PlaceKind.choices)
    base = reverse("areas:place_list")
    return [
        SearchHit(
            kind="areas.place",
            key=str(place.pk),
            title=place.name,
            url=f"{base}?{urlencode({'q': place.venue_code or place.name})}",
            detail=" · ".join(
                str(part)
                for part in (kinds.get(place.kind), place.venue_code, place.jurisdiction.name)
                if part
            ),
            exact=bool(place.venue_code) and (place.venue_code or "").upper() == code,
        )
        for place in rows
    ]


def zone_search(*, user: User, q: str, limit: int) -> list[SearchHit]:
    """The city's zones (public within the city, as the zone list shows them) whose name
    holds `q`; active first, most severe first, then newest (the list's order). A name
    that is `q` exactly is the exact hit. A hit leads to the zone's page."""
    require(user, Capability.ZONE_VIEW)
    term = q.strip()
    rows = list(
        Zone.objects.filter(_city_q(user, "jurisdiction_path"), name__icontains=term)
        .select_related("jurisdiction")
        .order_by(*ZONE_ORDER)[:limit]
    )
    rows.sort(key=lambda z: z.name != term)  # the exact one first, order kept
    levels = dict(ZoneLevel.choices)
    states = dict(ZoneState.choices)
    return [
        SearchHit(
            kind="areas.zone",
            key=str(zone.pk),
            title=zone.name,
            url=reverse("areas:zone_detail", args=[zone.pk]),
            detail=" · ".join(
                str(part)
                for part in (
                    levels.get(zone.level),
                    states.get(zone.state),
                    zone.jurisdiction.name,
                )
                if part
            ),
            exact=zone.name == term,
        )
        for zone in rows
    ]


SEARCHABLE_LEVELS = (Level.TOWN, Level.COMMUNITY)


def jurisdiction_search(*, user: User, q: str, limit: int) -> list[SearchHit]:
    """The city's towns and communities (as the jurisdiction tree shows them) whose name
    holds `q` or whose code is `q`; towns first, then by path. A name or code that is `q`
    exactly is the exact hit. A hit leads to its row in the jurisdiction tree (shown down
    to its level); jurisdictions have no page of their own."""
    require(user, Capability.AREA_VIEW)
    term = q.strip()
    rows = list(
        Jurisdiction.objects.filter(_city_q(user, "path"), level__in=SEARCHABLE_LEVELS)
        .filter(Q(name__icontains=term) | Q(code=term))
        .select_related("parent")
        .order_by("depth", "path")[:limit]
    )
    rows.sort(key=lambda j: term not in (j.name, j.code))
    levels = dict(Level.choices)
    base = reverse("areas:jurisdiction_list")
    return [
        SearchHit(
            kind="areas.jurisdiction",
            key=str(node.pk),
            title=node.name,
            url=f"{base}?{urlencode({'depth': node.depth})}#j{node.path}",
            detail=" · ".join(
                str(part)
                for part in (
                    levels.get(node.level),
                    node.parent.name if node.parent else "",
                    node.code,
                )
                if part
            ),
            exact=term in (node.name, node.code),
        )
        for node in rows
    ]


def zones_active_under(*, within: str, limit: int = 500) -> list[dict[str, Any]]:
    """The active zones under the city path `within` for command's figures (the figures
    job scopes what it shows): [{id, name, level, path, started_on, no_case_days}],
    sealed first, then by start date."""
    order: dict[str, int] = {ZoneLevel.SEALED: 0, ZoneLevel.CONTROLLED: 1, ZoneLevel.PRECAUTION: 2}
    qs: Any = (
        Zone.objects.filter(under("jurisdiction_path", within), state=ZoneState.ACTIVE)
        .order_by("started_on", "pk")
        .values("id", "name", "level", "jurisdiction_path", "started_on", "no_case_days")
    )
    rows: list[dict[str, Any]] = list(qs[:limit])
    rows.sort(key=lambda r: order.get(r["level"], 9))
    return rows


def zones_changed_between(
    *, within: str, start: Any, end: Any, limit: int = 100
) -> list[dict[str, Any]]:
    """Zones drawn or lifted on the days [start, end) (dates) under `within`, for the day's
    key events: [{id, name, level, path, started_on, lifted_on}]."""
    qs: Any = (
        Zone.objects.filter(under("jurisdiction_path", within))
        .filter(
            Q(started_on__gte=start, started_on__lt=end)
            | Q(lifted_on__gte=start, lifted_on__lt=end)
        )
        .order_by("pk")
        .values("id", "name", "level", "jurisdiction_path", "started_on", "lifted_on")
    )
    return list(qs[:limit])


def city_rows() -> list[dict[str, Any]]:
    """Every city (reference data): [{path, name}] in path order."""
    rows = Jurisdiction.objects.filter(level=Level.CITY).order_by("path")
    return [dict(row) for row in rows.values("path", "name")]
