"""Reads of sampling (采样): the sampler's own point, the rounds open there, the pool
sizes a tube may have, and what the point has registered. Every read is limited to the
acting user: a sampler sees only the point they are bound to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require, require_in_scope, scope_q
from fangkong.accounts.roles import Capability
from fangkong.areas.choices import PlaceKind
from fangkong.core.errors import DomainError, NotFound
from fangkong.core.paths import is_under, level_prefixes, under
from fangkong.testing.models import (
    Round,
    RoundStatus,
    RoundTarget,
    Sample,
    SamplingPoint,
    SealedPooling,
    Tube,
)
from fangkong.testing.rules import sampling as rules

if TYPE_CHECKING:
    from fangkong.accounts.models import User


def path_ancestors(path: str) -> list[str]:
    """The path itself and every jurisdiction above it (city, town, community, grid)."""
    return level_prefixes(path)


def point_for_sampler(*, user: User, point_id: int | None = None) -> SamplingPoint:
    """The sampling point a user registers samples at.

    A sampler (a site-bound account) works at the point of its place and nowhere else:
    another point is 404. A city-wide or town role holding `sample.register` (command,
    admin: desk entry) may name any point in its jurisdiction.
    """
    require(user, Capability.SAMPLE_REGISTER)
    queryset = SamplingPoint.objects.select_related("place", "place__jurisdiction")
    place_id = getattr(user, "place_id", None)
    if place_id is not None:
        point = queryset.filter(place_id=place_id).first()
        if point is None:
            raise DomainError(
                "sampler_not_bound", _("您的账号未绑定采样点"), status=403, place=place_id
            )
        if point_id is not None and point.pk != point_id:
            raise NotFound("not_found", _("未找到或不在您的辖区内"), object="point")
        return point
    if point_id is None:
        raise DomainError("point_required", _("请选择采样点"))
    point = queryset.filter(pk=point_id).first()
    if point is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="point")
    require_in_scope(user, point.jurisdiction_path, what="point")
    return point


def points_for_desk(*, user: User) -> list[SamplingPoint] | None:
    """The points a role without a place of its own (command, admin: desk entry) may
    register samples at, by town and name; None for a sampler bound to a point (it has
    no choice to make)."""
    require(user, Capability.SAMPLE_REGISTER)
    if getattr(user, "place_id", None) is not None:
        return None
    return list(
        SamplingPoint.objects.filter(scope_q(user), place__kind=PlaceKind.SAMPLING_POINT)
        .select_related("place", "place__jurisdiction")
        .order_by("jurisdiction_path", "place__name", "pk")
    )


def round_covers_point(rnd: Round, point: SamplingPoint) -> bool:
    """A round covers a point in the jurisdiction that owns it (its scope's ancestor)."""
    return is_under(point.jurisdiction_path, rnd.jurisdiction_path)


def pool_sizes_for(rnd: Round) -> tuple[int, ...]:
    rs = rnd.ruleset
    return rules.allowed_pool_sizes(
        sealed=rs.pool_size_sealed,
        controlled=rs.pool_size_controlled,
        precaution=rs.pool_size_precaution,
        household=rnd.sealed_pooling == SealedPooling.HOUSEHOLD,
    )


@dataclass(frozen=True)
class RoundChoice:
    id: int
    name: str
    deadline_at: Any
    pool_sizes: tuple[int, ...]
    default_pool_size: int


def open_rounds_for_point(*, user: User, point: SamplingPoint) -> list[RoundChoice]:
    """The rounds sampling now whose scope covers the point, with the pool sizes a tube
    may have and the one most of the point's target population is sampled at."""
    rounds = list(
        Round.objects.select_related("ruleset")
        .filter(
            status=RoundStatus.OPEN, jurisdiction_path__in=path_ancestors(point.jurisdiction_path)
        )
        .order_by("-starts_at", "pk")
    )
    sizes_by_round: dict[int, list[tuple[int, int]]] = {}
    if rounds:
        rows = (
            RoundTarget.objects.filter(
                under("jurisdiction_path", point.jurisdiction_path), round__in=rounds
            )
            .values_list("round_id", "pool_size")
            .annotate(n=Count("pk"))
        )
        for round_id, size, n in rows:
            sizes_by_round.setdefault(round_id, []).append((size, n))
    choices = []
    for rnd in rounds:
        sizes = pool_sizes_for(rnd)
        fallback = rnd.ruleset.pool_size_precaution
        default = rules.default_pool_size(sizes_by_round.get(rnd.pk, []), fallback=fallback)
        choices.append(
            RoundChoice(
                id=rnd.pk,
                name=rnd.name,
                deadline_at=rnd.deadline_at,
                pool_sizes=sizes,
                default_pool_size=default if default in sizes else fallback,
            )
        )
    return choices


def point_totals(*, user: User, point: SamplingPoint) -> dict[str, int]:
    """What the point has registered in the rounds open now: tubes (open, closed) and
    samples, as stored on the server."""
    rounds = Round.objects.filter(status=RoundStatus.OPEN)
    tubes = Tube.objects.filter(point=point, round__in=rounds).aggregate(
        open=Count("pk", filter=Q(state="open")), total=Count("pk")
    )
    samples = Sample.objects.filter(tube__point=point, round__in=rounds).count()
    return {
        "tubes": int(tubes["total"] or 0),
        "tubes_open": int(tubes["open"] or 0),
        "samples": samples,
    }


@dataclass(frozen=True, slots=True)
class TubeStatus:
    barcode: str
    round_id: int
    pool_size: int
    state: str
    samples: int


def tube_status(*, user: User, point: SamplingPoint, barcode: str) -> TubeStatus | None:
    """A tube of the point as the server holds it (its round, pool size, state and how
    many samples it holds), for a phone that opens a tube another phone (or this one,
    before a reinstall) started. Two queries. None for an unknown barcode and for a tube
    of another point alike (the phone then opens it as new; the sync refuses a barcode
    taken elsewhere), so that the answer tells nothing about other points."""
    require(user, Capability.SAMPLE_REGISTER)
    tube = (
        Tube.objects.filter(barcode=(barcode or "").strip().upper(), point=point)
        .values("pk", "barcode", "round_id", "pool_size", "state")
        .first()
    )
    if tube is None:
        return None
    return TubeStatus(
        barcode=tube["barcode"],
        round_id=tube["round_id"],
        pool_size=tube["pool_size"],
        state=tube["state"],
        samples=Sample.objects.filter(tube_id=tube["pk"]).count(),
    )
