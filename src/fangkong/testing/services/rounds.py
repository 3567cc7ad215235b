"""Services of rounds (轮次): create, open (compute the target population), close.

The target population (应检人群) is computed when a round opens, in one INSERT ... SELECT:
every person living under a scope jurisdiction's path, or under a member jurisdiction of
a scope zone that is active, with the zone level of the most severe ACTIVE zone whose
member jurisdictions cover the person's jurisdiction, and the rule set's pool size for
that level (outside every zone: the precaution pooling). A sealed zone sampled "one tube
per household" pools each household's sealed targets in one tube (pool size = their
number, at most 50; a person without a household is a single tube). The zone levels are
areas' (`areas.selectors.zone_levels_under_sql`), the pool sizes the protocol's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require, require_in_scope, scope_path
from fangkong.accounts.roles import Capability
from fangkong.accounts.services import audit_record
from fangkong.areas import selectors as area_selectors
from fangkong.areas.choices import ZoneState
from fangkong.core.errors import Conflict, DomainError, PermissionDenied
from fangkong.core.paths import TOWN_WIDTH, is_under, level_floor, level_prefix_sql
from fangkong.people import selectors as people_selectors
from fangkong.protocol.rules import CONTROLLED, SEALED, Protocol, deadline_after, pool_size_for
from fangkong.protocol.selectors import ruleset_for
from fangkong.testing.models import Round, RoundScope, RoundStatus, RoundTarget, SealedPooling
from fangkong.testing.services.scope import round_scope_prefixes
from fangkong.testing.services.zone_screenings import zone_screenings_record

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.areas.models import Jurisdiction, Zone

NAME_MAX = 200
# A sealed zone sampled "one tube per household" pools at most this many in a tube.
HOUSEHOLD_POOL_MAX = 50


def common_ancestor_path(paths: Iterable[str]) -> str:
    """The deepest jurisdiction path (at a level boundary) that every path is under."""
    items = [p for p in paths if p]
    if not items:
        return ""
    prefix = items[0]
    for p in items[1:]:
        n = 0
        while n < min(len(prefix), len(p)) and prefix[n] == p[n]:
            n += 1
        prefix = prefix[:n]
    return level_floor(prefix)


def _aware(value: dt.datetime, field: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or timezone.is_naive(value):
        raise DomainError("naive_datetime", _("时间必须带时区"), field=field)
    return value


@transaction.atomic
def round_create(
    *,
    actor: User,
    name: str,
    starts_at: dt.datetime,
    jurisdictions: Sequence[Jurisdiction] = (),
    zones: Sequence[Zone] = (),
    sealed_pooling: str = SealedPooling.SINGLE,
    ip: str = "",
) -> Round:
    """Plan a round over towns/communities and/or zones, all within the actor's
    jurisdiction. The owner is their common ancestor; the rule set is the one in force on
    the start date there; the deadline is start + the rule set's `round_deadline_hours`."""
    require(actor, Capability.ROUND_MANAGE)
    name = (name or "").strip()
    if not name:
        raise DomainError("round_name_required", _("请填写轮次名称"), field="name")
    if len(name) > NAME_MAX:
        raise DomainError("round_name_too_long", _("轮次名称过长"), field="name")
    if sealed_pooling not in SealedPooling.values:
        raise DomainError(
            "sealed_pooling_invalid", _("封控区采样方式无效"), sealed_pooling=sealed_pooling
        )
    starts_at = _aware(starts_at, "starts_at")
    juris = {j.pk: j for j in jurisdictions}
    zone_map = {z.pk: z for z in zones}
    if not juris and not zone_map:
        raise DomainError("round_scope_empty", _("请至少选择一个镇街、村社或风险区"))
    own = scope_path(actor)
    for j in juris.values():
        if not own or not is_under(j.path, own):
            raise PermissionDenied(
                "round_scope_outside", _("轮次范围超出您的辖区"), jurisdiction=j.pk
            )
    for z in zone_map.values():
        if not own or not is_under(z.jurisdiction_path, own):
            raise PermissionDenied("round_scope_outside", _("轮次范围超出您的辖区"), zone=z.pk)
        if z.state != ZoneState.ACTIVE:
            raise DomainError("zone_not_active", _("风险区已解除，不能作为轮次范围"), zone=z.pk)
    owner_path = common_ancestor_path(
        [j.path for j in juris.values()] + [z.jurisdiction_path for z in zone_map.values()]
    )
    owner = area_selectors.jurisdictions_at(paths=[owner_path]).get(owner_path)
    if owner is None:
        raise DomainError("round_scope_invalid", _("轮次范围无效"), path=owner_path)
    local_start = timezone.localtime(starts_at)
    ruleset = ruleset_for(on_date=local_start.date(), path=owner_path)
    deadline = deadline_after(Protocol.from_ruleset(ruleset), starts_at, "round")
    rnd = Round.objects.create(
        name=name,
        jurisdiction=owner,
        jurisdiction_path=owner_path,
        ruleset=ruleset,
        sealed_pooling=sealed_pooling,
        starts_at=starts_at,
        deadline_at=deadline.value,
        created_by=actor,
    )
    RoundScope.objects.bulk_create(
        [RoundScope(round=rnd, jurisdiction=j) for j in juris.values()]
        + [RoundScope(round=rnd, zone=z) for z in zone_map.values()]
    )
    audit_record(
        actor=actor,
        action="round.create",
        object_type="round",
        object_id=rnd.pk,
        object_label=rnd.name,
        jurisdiction_path=owner_path,
        detail={
            "jurisdictions": sorted(j.path for j in juris.values()),
            "zones": sorted(zone_map),
            "starts_at": starts_at.isoformat(),
            "deadline_at": deadline.value.isoformat(),
            "ruleset": ruleset.version,
            "sealed_pooling": sealed_pooling,
        },
        ip=ip,
    )
    return rnd


def _require_manage(actor: User, rnd: Round) -> None:
    require(actor, Capability.ROUND_MANAGE)
    require_in_scope(actor, rnd.jurisdiction_path, what="round")


# --- the target population -------------------------------------------------------------


def _targets_cte(prefixes: list[str], rnd: Round) -> tuple[str, list[Any]]:
    """`WITH ... t(person_id, path, level, pool_size)`: the round's target population as
    SQL (both SQLite and PostgreSQL) and its parameters. The zone levels are areas'
    (`zone_levels_under_sql`), the pool sizes the protocol's (`pool_size_for`)."""
    person = f"({people_selectors.person_homes_sql()})"
    p = Protocol.from_ruleset(rnd.ruleset)
    zone_sql, params = area_selectors.zone_levels_under_sql(prefixes)
    household = rnd.sealed_pooling == SealedPooling.HOUSEHOLD
    if household:
        # One tube per household in sealed zones: the pool size is the number of the
        # household's sealed targets (t0 is then read twice, so PostgreSQL materializes it).
        sql = f"""
WITH jl AS ({zone_sql}),
t0 AS (
    SELECT p.id AS person_id, p.jurisdiction_path AS path, p.household_id AS household_id,
           jl.level AS level
    FROM {person} p
    JOIN jl ON jl.path = p.jurisdiction_path
),
hs AS (
    SELECT household_id, COUNT(*) AS n FROM t0
    WHERE level = %s AND household_id IS NOT NULL
    GROUP BY household_id
),
t AS (
    SELECT t0.person_id, t0.path, t0.level,
           CASE t0.level WHEN %s THEN (CASE WHEN t0.household_id IS NULL THEN 1
                                            WHEN hs.n > %s THEN %s ELSE hs.n END)
                         WHEN %s THEN %s ELSE %s END AS pool_size
    FROM t0 LEFT JOIN hs ON hs.household_id = t0.household_id
)
"""  # noqa: S608 - quoted identifiers, values are parameters
        params += [SEALED, SEALED, HOUSEHOLD_POOL_MAX, HOUSEHOLD_POOL_MAX]
        params += [CONTROLLED, pool_size_for(p, CONTROLLED), pool_size_for(p, None)]
        return sql, params
    # Otherwise the person table is read once, in a plain hash join to the few thousand
    # jurisdiction paths of the scope.
    sql = f"""
WITH jl AS ({zone_sql}),
t AS (
    SELECT p.id AS person_id, p.jurisdiction_path AS path, jl.level AS level,
           CASE jl.level WHEN %s THEN %s WHEN %s THEN %s ELSE %s END AS pool_size
    FROM {person} p
    JOIN jl ON jl.path = p.jurisdiction_path
)
"""  # noqa: S608 - quoted identifiers, values are parameters
    params += [SEALED, pool_size_for(p, SEALED), CONTROLLED, pool_size_for(p, CONTROLLED)]
    params.append(pool_size_for(p, None))
    return sql, params


def targets_preview(rnd: Round) -> list[tuple[str, str, int, int]]:
    """(town path, zone level or '', pool size, persons) of the population the round
    would target if it opened now, in one grouped query (the planner of a planned round)."""
    prefixes = round_scope_prefixes(rnd)
    if not prefixes:
        return []
    cte, params = _targets_cte(prefixes, rnd)
    town = level_prefix_sql("t.path", TOWN_WIDTH)
    # the CTE's identifiers are quoted, the town prefix is built from constants
    grouped = f"SELECT {town}, t.level, t.pool_size, COUNT(*) FROM t "  # noqa: S608
    sql = cte + grouped + f"GROUP BY {town}, t.level, t.pool_size"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(r[0], str(r[1]), int(r[2]), int(r[3])) for r in cursor.fetchall()]


def _targets_insert(rnd: Round) -> int:
    prefixes = round_scope_prefixes(rnd)
    if not prefixes:
        return 0
    cte, params = _targets_cte(prefixes, rnd)
    q = connection.ops.quote_name
    table = q(RoundTarget._meta.db_table)
    columns = "(round_id, person_id, jurisdiction_path, zone_level, pool_size)"
    select = "SELECT %s, t.person_id, t.path, t.level, t.pool_size FROM t"
    sql = f"{cte}INSERT INTO {table} {columns} {select}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, rnd.pk])
        return int(cursor.rowcount)


def target_statistics_refresh() -> None:
    """Refresh PostgreSQL's statistics of the target table after a round's targets are
    written. Sampling starts the minute a round opens, before autovacuum's ANALYZE comes
    round: with the old statistics the planner believes the new round has no targets
    and answers each sync's "which of these persons are targets" by walking the whole
    round (40 ms a batch of 100 instead of 1 ms). ANALYZE reads a fixed sample of rows
    (about 30,000), so it costs the same at any city size; inside the opening
    transaction it counts the rows just written."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(RoundTarget._meta.db_table)}")


@transaction.atomic
def round_open(*, actor: User, round: Round, now: dt.datetime | None = None, ip: str = "") -> Round:
    """Open a planned round: compute its target population (set-based) and start
    sampling. A round opens once (`round_not_planned`)."""
    _require_manage(actor, round)
    rnd = Round.objects.select_for_update().select_related("ruleset").get(pk=round.pk)
    if rnd.status != RoundStatus.PLANNED:
        raise Conflict(
            "round_not_planned", _("只有计划中的轮次可以开始采样"), round_status=rnd.status
        )
    RoundTarget.objects.filter(round=rnd).delete()
    count = _targets_insert(rnd)
    rnd.target_count = RoundTarget.objects.filter(round=rnd).count() if count < 0 else count
    target_statistics_refresh()
    rnd.status = RoundStatus.OPEN
    rnd.opened_at = now or timezone.now()
    rnd.save(update_fields=["target_count", "status", "opened_at", "updated_at"])
    audit_record(
        actor=actor,
        action="round.open",
        object_type="round",
        object_id=rnd.pk,
        object_label=rnd.name,
        jurisdiction_path=rnd.jurisdiction_path,
        detail={"target_count": rnd.target_count},
        ip=ip,
    )
    return rnd


@transaction.atomic
def round_close(
    *,
    actor: User,
    round: Round,
    now: dt.datetime | None = None,
    ip: str = "",
) -> Round:
    """Close an open round: sampling ends (results may still arrive)."""
    _require_manage(actor, round)
    rnd = Round.objects.select_for_update().get(pk=round.pk)
    if rnd.status != RoundStatus.OPEN:
        raise Conflict("round_not_open", _("只有采样中的轮次可以结束"), round_status=rnd.status)
    rnd.status = RoundStatus.CLOSED
    rnd.closed_at = now or timezone.now()
    rnd.save(update_fields=["status", "closed_at", "updated_at"])
    # The sampling is over: what was sampled of a zone is its screening.
    zone_screenings_record(actor=actor, round_ids=[rnd.pk], ip=ip)
    audit_record(
        actor=actor,
        action="round.close",
        object_type="round",
        object_id=rnd.pk,
        object_label=rnd.name,
        jurisdiction_path=rnd.jurisdiction_path,
        detail={"target_count": rnd.target_count},
        ip=ip,
    )
    return rnd
