"""Reads of rounds: the list and detail a user may see, and the planner's figures.

A user sees the rounds OWNED in their jurisdiction (owner path under theirs) and the
rounds COVERING it (a scope jurisdiction or a scope zone's jurisdiction that is above,
at or below theirs): a town's staff see their town's rounds and the city-wide rounds,
never a round of another town only. Figures inside a round (planner, targets) are always
limited to the user's own jurisdiction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require, scope_path, scope_q
from fangkong.accounts.roles import Capability
from fangkong.areas import selectors as area_selectors
from fangkong.areas.choices import PlaceKind
from fangkong.core.errors import NotFound
from fangkong.core.paths import TOWN_WIDTH, level_prefix_expr, level_prefixes, town_of, under
from fangkong.protocol.rules import Protocol, samplers_needed
from fangkong.testing.models import Round, RoundPurpose, RoundStatus, RoundTarget, SamplingPoint
from fangkong.testing.rules import rounds as rules
from fangkong.testing.selectors import supplies as supply_selectors
from fangkong.testing.services.rounds import targets_preview

if TYPE_CHECKING:
    from fangkong.accounts.models import User


def _ancestors(path: str) -> list[str]:
    return level_prefixes(path)


def rounds_visible_q(user: User) -> Q:
    own = scope_path(user)
    if not own:
        return Q(pk__in=[])
    related = _ancestors(own)
    # A zone counts by what it covers (its member jurisdictions and places), never by
    # who drew it: a zone drawn by command is owned by the city yet covers one town.
    # The standing quarantine rounds (隔离点检测) are no mass testing: never listed.
    return Q(purpose=RoundPurpose.SCREENING) & (
        under("jurisdiction_path", own)
        | Q(scopes__jurisdiction__path__in=related)
        | under("scopes__jurisdiction__path", own)
        | Q(scopes__zone__members__jurisdiction__path__in=related)
        | under("scopes__zone__members__jurisdiction__path", own)
        | Q(scopes__zone__members__place__jurisdiction_path__in=related)
        | under("scopes__zone__members__place__jurisdiction_path", own)
    )


def with_visible_targets(user: User, qs: QuerySet[Round]) -> QuerySet[Round]:
    """Annotate `visible_target_count`: the whole round's target population when the
    user's jurisdiction holds the round, else only the targets living in the user's
    jurisdiction (a town seeing a city round never learns another town's figure, nor
    the total it could subtract from). Lists, pages and the API show this, never
    `target_count`."""
    own = scope_path(user)
    if not own:
        return qs.annotate(visible_target_count=Value(0))
    mine = (
        RoundTarget.objects.filter(scope_q(user), round=OuterRef("pk"))
        .order_by()
        .values("round")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return qs.annotate(
        visible_target_count=Case(
            When(under("jurisdiction_path", own), then=F("target_count")),
            default=Coalesce(Subquery(mine), Value(0)),
            output_field=IntegerField(),
        )
    )


# The newest start first; the primary key last (a unique order, for keyset pages).
ROUND_ORDER = ("-starts_at", "-pk")


def rounds(*, user: User, status: str | None = None) -> QuerySet[Round]:
    """The rounds the user may see, newest start first."""
    require(user, Capability.ROUND_VIEW)
    ids = Round.objects.filter(rounds_visible_q(user)).values("pk")
    qs = with_visible_targets(
        user, Round.objects.filter(pk__in=ids).select_related("jurisdiction", "ruleset")
    )
    if status and status in RoundStatus.values:
        qs = qs.filter(status=status)
    return qs.order_by(*ROUND_ORDER)


def round_get(*, user: User, pk: int) -> Round:
    require(user, Capability.ROUND_VIEW)
    ids = Round.objects.filter(rounds_visible_q(user), pk=pk).values("pk")
    found = with_visible_targets(
        user, Round.objects.filter(pk__in=ids).select_related("jurisdiction", "ruleset")
    ).first()
    if found is None:
        raise NotFound("not_found", _("未找到该轮次或不在您的辖区内"), object="round")
    return found


def round_scope_labels(*, rnd: Round) -> list[str]:
    """The names of the round's scope (towns, communities and zones)."""
    labels = []
    for scope in rnd.scopes.select_related("jurisdiction", "zone").order_by("pk"):
        if scope.jurisdiction is not None:
            labels.append(scope.jurisdiction.name)
        elif scope.zone is not None:
            labels.append(f"{scope.zone.name}({scope.zone.get_level_display()})")
    return labels


# --- the planner ---------------------------------------------------------------------


@dataclass
class PlannerRow:
    town_path: str
    town_name: str
    population: int = 0
    by_pool_size: dict[int, int] = field(default_factory=dict)
    by_zone_level: dict[str, int] = field(default_factory=dict)
    samplers: int = 0
    tubes: dict[int, int] = field(default_factory=dict)
    swabs: int = 0
    tables_needed: int = 0
    points_needed: int = 0
    points: int = 0
    tables: int = 0
    samplers_on_points: int = 0
    # supply kind -> (needed, on hand)
    supplies: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def shortages(self) -> dict[str, int]:
        return {k: need - have for k, (need, have) in self.supplies.items() if have < need}


@dataclass
class Planner:
    rows: list[PlannerRow]
    total: PlannerRow
    hours: float
    computed: bool  # True: from the round's targets; False: preview of a planned round


def _target_groups(user: User, rnd: Round) -> list[tuple[str, str, int, int]]:
    """(town path, zone level, pool size, persons) within the user's jurisdiction."""
    if rnd.status == RoundStatus.PLANNED:
        # The preview is by town: only users whose jurisdiction holds a whole town see
        # it (a community worker would otherwise see her whole town's figures).
        own = scope_path(user)
        return [
            (town, level, size, n)
            for town, level, size, n in targets_preview(rnd)
            if own and town.startswith(own)
        ]
    rows = (
        RoundTarget.objects.filter(scope_q(user), round=rnd)
        .annotate(town=level_prefix_expr("jurisdiction_path", TOWN_WIDTH))
        .values("town", "zone_level", "pool_size")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return [(r["town"], r["zone_level"], r["pool_size"], r["n"]) for r in rows]


def _fill(row: PlannerRow, p: Protocol, hours: float) -> None:
    row.samplers = samplers_needed(p, row.population)
    row.tubes = rules.tubes_needed(row.by_pool_size)
    row.swabs = rules.swabs_needed(row.population)
    row.tables_needed = rules.tables_needed(row.population, hours=hours)
    tables_per_point = max(1, round(row.tables / row.points)) if row.points else 2
    row.points_needed = rules.points_needed(
        row.population, tables_per_point=tables_per_point, hours=hours
    )


def planner(*, user: User, rnd: Round) -> Planner:
    """What the round needs per town of the user's jurisdiction: targets by pool size,
    samplers (population ÷ the rule set's samplers_per_population), tubes per pool size,
    swabs, tables and points at the points' capacity over the round's hours, and the
    demand for each supply against the stock at the town's points and warehouses."""
    require(user, Capability.ROUND_VIEW)
    p = Protocol.from_ruleset(rnd.ruleset)
    hours = max(1.0, (rnd.deadline_at - rnd.starts_at) / dt.timedelta(hours=1))
    groups = _target_groups(user, rnd)
    towns = {t for t, *_ in groups}
    names = area_selectors.jurisdiction_names(paths=towns)
    rows: dict[str, PlannerRow] = {}
    for town, level, size, n in groups:
        row = rows.setdefault(town, PlannerRow(town, names.get(town, town)))
        row.population += n
        row.by_pool_size[size] = row.by_pool_size.get(size, 0) + n
        level_key = level or "none"
        row.by_zone_level[level_key] = row.by_zone_level.get(level_key, 0) + n
    capacity: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for point in SamplingPoint.objects.filter(
        scope_q(user), place__kind=PlaceKind.SAMPLING_POINT
    ).values("jurisdiction_path", "tables", "samplers"):
        c = capacity[town_of(point["jurisdiction_path"])]
        c[0] += 1
        c[1] += point["tables"]
        c[2] += point["samplers"]
    stock = supply_selectors.on_hand_by_town(user=user, town_paths=sorted(rows))
    total = PlannerRow("", _("合计"))
    for town, row in sorted(rows.items()):
        row.points, row.tables, row.samplers_on_points = capacity.get(town, [0, 0, 0])
        _fill(row, p, hours)
        row.supplies = _supply_demand(row, stock.get(town, {}), hours)
        total.population += row.population
        for size, n in row.by_pool_size.items():
            total.by_pool_size[size] = total.by_pool_size.get(size, 0) + n
        for level, n in row.by_zone_level.items():
            total.by_zone_level[level] = total.by_zone_level.get(level, 0) + n
        total.points += row.points
        total.tables += row.tables
        total.samplers_on_points += row.samplers_on_points
    _fill(total, p, hours)
    total.samplers = sum(r.samplers for r in rows.values())
    total.tubes = {}
    for r in rows.values():
        for size, n in r.tubes.items():
            total.tubes[size] = total.tubes.get(size, 0) + n
    total.swabs = sum(r.swabs for r in rows.values())
    total.points_needed = sum(r.points_needed for r in rows.values())
    total.tables_needed = sum(r.tables_needed for r in rows.values())
    merged: dict[str, tuple[int, int]] = {}
    for r in rows.values():
        for kind, (need, have) in r.supplies.items():
            old = merged.get(kind, (0, 0))
            merged[kind] = (old[0] + need, old[1] + have)
    total.supplies = merged
    return Planner(
        rows=[rows[t] for t in sorted(rows)],
        total=total,
        hours=hours,
        computed=rnd.status != RoundStatus.PLANNED,
    )


def _supply_demand(
    row: PlannerRow, on_hand: dict[str, int], hours: float
) -> dict[str, tuple[int, int]]:
    need: dict[str, int] = {"swab": row.swabs}
    for size, tubes in row.tubes.items():
        kind = rules.supply_kind_for_pool_size(size)
        need[kind] = need.get(kind, 0) + tubes
    need.update(rules.ppe_needed(row.samplers, hours=hours))
    return {kind: (n, on_hand.get(kind, 0)) for kind, n in need.items()}
