"""Aggregate reads of testing for command's figures: one grouped pass per table.

As `tracing.selectors.figures`: each function groups by the first `width` digits of the
row's jurisdiction path under the city path `within` and answers {prefix: ...}; command's
figures job scopes what it shows. The round's figures mean what coverage means
(`selectors.coverage`): target persons, persons sampled (not walk-ins), persons with a
result, persons in a positive single tube.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, F, OuterRef

from fangkong.core.paths import level_prefix_expr, under
from fangkong.testing.models import (
    Recheck,
    RecheckStatus,
    ResultValue,
    Round,
    RoundPurpose,
    RoundStatus,
    RoundTarget,
    Sample,
    SupplyStock,
    TubeResult,
)
from fangkong.testing.selectors.supplies import with_on_hand

# A recheck still waiting for its result (what is "due").
RECHECK_DUE_STATUSES: tuple[str, ...] = (RecheckStatus.PENDING, RecheckStatus.SAMPLED)


def screening_rounds(*, within: str) -> list[dict[str, Any]]:
    """The screening rounds under `within` that have started (open or closed), newest
    first: [{id, name, path, status}] — command picks each jurisdiction's current one."""
    rows: Any = (
        Round.objects.filter(
            under("jurisdiction_path", within),
            purpose=RoundPurpose.SCREENING,
            status__in=(RoundStatus.OPEN, RoundStatus.CLOSED),
        )
        .order_by("-starts_at", "-pk")
        .values("id", "name", "jurisdiction_path", "status")
    )
    return list(rows[:50])


def _grouped(qs: Any, width: int, *, distinct_person: bool) -> dict[str, int]:
    counted = Count("person_id", distinct=True) if distinct_person else Count("*")
    return {
        row["prefix"]: row["n"]
        for row in qs.annotate(prefix=level_prefix_expr("jurisdiction_path", width))
        .order_by()
        .values("prefix")
        .annotate(n=counted)
    }


def round_figures_by_prefix(*, round_id: int, width: int) -> dict[str, dict[str, int]]:
    """{prefix: {target, sampled, resulted, positives}} of one round, in four grouped
    passes (targets, samples, samples with a result, samples in a positive single tube)."""
    out: dict[str, dict[str, int]] = {}

    def put(figure: str, counts: dict[str, int]) -> None:
        for prefix, n in counts.items():
            row = out.setdefault(
                prefix, dict.fromkeys(("target", "sampled", "resulted", "positives"), 0)
            )
            row[figure] = n

    put(
        "target",
        _grouped(RoundTarget.objects.filter(round_id=round_id), width, distinct_person=False),
    )
    samples = Sample.objects.filter(round_id=round_id, walk_in=False)
    put("sampled", _grouped(samples, width, distinct_person=True))
    results = TubeResult.objects.filter(tube_id=OuterRef("tube_id"))
    put("resulted", _grouped(samples.filter(Exists(results)), width, distinct_person=True))
    single_positive = TubeResult.objects.filter(
        round_id=round_id, result=ResultValue.POSITIVE, tube__pool_size=1
    ).values("tube_id")
    put(
        "positives",
        _grouped(
            Sample.objects.filter(round_id=round_id, tube_id__in=single_positive),
            width,
            distinct_person=True,
        ),
    )
    return out


def rechecks_due_by_prefix(*, within: str, width: int) -> dict[str, int]:
    """{prefix: single-tube rechecks still waiting for their result}."""
    return _grouped(
        Recheck.objects.filter(under("jurisdiction_path", within), status__in=RECHECK_DUE_STATUSES),
        width,
        distinct_person=False,
    )


def supplies_low_by_prefix(*, within: str, width: int) -> dict[str, int]:
    """{prefix: stocks whose on-hand quantity is below their threshold} (as the supplies
    page's low-stock alerts; stocks are few, one row per place and kind)."""
    low = with_on_hand(SupplyStock.objects.filter(under("jurisdiction_path", within))).filter(
        on_hand__lt=F("low_threshold")  # type: ignore[misc]
    )
    ids = list(low.values_list("pk", flat=True))
    return _grouped(SupplyStock.objects.filter(pk__in=ids), width, distinct_person=False)
