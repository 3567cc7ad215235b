"""The scope of a round as jurisdiction paths (rounds and the zones' screenings)."""

from __future__ import annotations

from fangkong.areas import selectors as area_selectors
from fangkong.core.paths import is_under
from fangkong.testing.models import Round, RoundScope


def round_scope_prefixes(rnd: Round) -> list[str]:
    """The jurisdiction paths whose residents the round targets: its scope jurisdictions
    and the member jurisdictions of its scope zones that are still active (sorted,
    without paths already under another)."""
    paths = set(
        RoundScope.objects.filter(round=rnd, jurisdiction__isnull=False).values_list(
            "jurisdiction__path", flat=True
        )
    )
    zone_ids = RoundScope.objects.filter(round=rnd, zone__isnull=False).values("zone_id")
    paths.update(area_selectors.active_zone_member_paths(zone_ids))
    kept: list[str] = []
    for p in sorted(paths, key=lambda x: (len(x), x)):
        if not any(is_under(p, k) for k in kept):
            kept.append(p)
    return sorted(kept)
