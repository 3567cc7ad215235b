"""A round's results as the zones' screenings (全员筛查): when the results of a zone's
people in a mass-testing round are all in and all negative, or one is positive, the
zone is told (`areas.services.zones.zone_record_round_screening`), which is what the
downgrade proposal waits for.

Called inside the results import's transaction once results are stored (`results._apply`)
and when a round closes (`round_close`: the sampling is over, so what was sampled is the
screening). Idempotent: areas records a round's outcome on a zone once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from fangkong.areas import selectors as area_selectors
from fangkong.areas.services import zones as zone_services
from fangkong.core.paths import under
from fangkong.protocol import rules as protocol_rules
from fangkong.testing.models import (
    ResultValue,
    Round,
    RoundPurpose,
    RoundStatus,
    RoundTarget,
    Sample,
    TubeResult,
)
from fangkong.testing.services.scope import round_scope_prefixes

if TYPE_CHECKING:
    from fangkong.accounts.models import User


def _paths_q(paths: Iterable[str]) -> Q:
    return reduce(or_, (under("jurisdiction_path", p) for p in paths))


def round_screening_day(rnd: Round) -> dt.date:
    """The day a round screens: its start's local date (Asia/Shanghai)."""
    return timezone.localtime(rnd.starts_at).date()


def _with_result(result: str) -> Exists:
    """The sample's tube has `result`: one probe of the tube's unique result row per
    sample. (An IN over the round's results let the planner, whose statistics still said
    the round had no results right after an import, loop the results over the samples:
    15 minutes for one zone at a million persons.)"""
    return Exists(TubeResult.objects.filter(tube_id=OuterRef("tube_id"), result=result))


def zone_round_outcome(rnd: Round, paths: Iterable[str]) -> str | None:
    """`protocol.rules.zone_screening_outcome` of the round for the people living under
    `paths` (a zone's member jurisdictions): four counts over the round's targets and
    samples there (index ranges on round and path)."""
    where = _paths_q(paths)
    samples = Sample.objects.filter(where, round=rnd)
    positive = (
        samples.filter(_with_result(ResultValue.POSITIVE)).values("person_id").distinct().count()
    )
    if positive:
        return protocol_rules.SCREENING_POSITIVE
    targets_sampled = samples.filter(walk_in=False)
    return protocol_rules.zone_screening_outcome(
        targets=RoundTarget.objects.filter(where, round=rnd).count(),
        sampled=targets_sampled.values("person_id").distinct().count(),
        negative=targets_sampled.filter(_with_result(ResultValue.NEGATIVE))
        .values("person_id")
        .distinct()
        .count(),
        positive=positive,
        sampling_over=rnd.status == RoundStatus.CLOSED,
    )


def zone_screenings_record(*, actor: User | None, round_ids: Iterable[int], ip: str = "") -> int:
    """Tell every active zone a mass-testing round covers whole (all its member
    jurisdictions under the round's scope) what the round's results say of its people,
    once they say something (complete and all negative, or a positive). Returns how many
    zones recorded a screening now."""
    recorded = 0
    rounds = Round.objects.filter(pk__in=set(round_ids), purpose=RoundPurpose.SCREENING).exclude(
        status=RoundStatus.PLANNED
    )
    for rnd in rounds.order_by("pk"):
        prefixes = round_scope_prefixes(rnd)
        if not prefixes:
            continue
        day = round_screening_day(rnd)
        for zone in area_selectors.active_zones_within(prefixes):
            if day < zone.started_on:
                continue
            outcome = zone_round_outcome(rnd, zone.paths)
            if outcome is None:
                continue
            done = zone_services.zone_record_round_screening(
                actor=actor,
                zone=zone.pk,
                on_date=day,
                all_negative=outcome == protocol_rules.SCREENING_NEGATIVE,
                round_id=rnd.pk,
                round_name=rnd.name,
                ip=ip,
            )
            recorded += done is not None
    return recorded
