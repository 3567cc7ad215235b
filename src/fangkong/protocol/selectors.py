"""Reads of the protocol domain.

Rule sets are reference data with no jurisdiction of their own to hide, so the reads that
serve pages and the API only check the capability `ruleset.view`; `ruleset_for` is the
interface every domain calls (no actor: it is a lookup of the rule in force, not a view).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.db.models.functions import Length
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require
from fangkong.accounts.roles import Capability
from fangkong.core.errors import DomainError, NotFound
from fangkong.protocol.models import RuleSet

if TYPE_CHECKING:
    from fangkong.accounts.models import User


def _region_prefixes(path: str) -> list[str]:
    if path and not path.isdigit():
        raise DomainError("invalid_path", _("辖区路径只能由数字组成"), path=path)
    return [""] + [path[:n] for n in range(1, len(path) + 1)]


def ruleset_for(*, on_date: dt.date, path: str = "") -> RuleSet:
    """The rule set in force on `on_date` for the jurisdiction at `path`.

    Among rule sets effective on or before the date whose region is "" (national) or a
    prefix of `path`, the latest date of effect wins, and on the same date the most
    specific region. So a local override applies from its date until a rule set of the
    same or a broader region takes effect after it: when a new national version comes
    out, older local orders lapse unless they are re-issued on the new version (as the
    national texts required when version 9 came out). A rule set dated in the future is
    never used.
    """
    candidate = (
        RuleSet.objects.filter(Q(region__in=_region_prefixes(path)), effective_from__lte=on_date)
        .annotate(region_len=Length("region"))
        .order_by("-effective_from", "-region_len", "-id")
        .first()
    )
    if candidate is None:
        raise NotFound("no_ruleset", _("没有适用于该日期的防控方案规则集"), on_date=str(on_date))
    return candidate


def rulesets_for(*, on_date: dt.date, paths: Iterable[str]) -> dict[str, RuleSet | None]:
    """`ruleset_for` for many jurisdictions in one query: each path's rule set in force
    on `on_date` by the same rule (the latest date of effect, then the most specific
    region, then the newest id), or None where none applies."""
    wanted = list(dict.fromkeys(paths))
    prefixes = {prefix for path in wanted for prefix in _region_prefixes(path)}
    candidates = sorted(
        RuleSet.objects.filter(region__in=prefixes, effective_from__lte=on_date),
        key=lambda rs: (rs.effective_from, len(rs.region), rs.pk),
        reverse=True,
    )
    out: dict[str, RuleSet | None] = {}
    for path in wanted:
        out[path] = next((rs for rs in candidates if path.startswith(rs.region)), None)
    return out


# By region, the newest first within a region (a unique order, for keyset pages).
RULESET_ORDER = ("region", "-effective_from", "pk")


def ruleset_list(*, actor: User) -> QuerySet[RuleSet]:
    require(actor, Capability.RULESET_VIEW)
    return RuleSet.objects.select_related("based_on").order_by(*RULESET_ORDER)


def ruleset_get(*, actor: User, pk: int) -> RuleSet:
    require(actor, Capability.RULESET_VIEW)
    found = RuleSet.objects.select_related("based_on").filter(pk=pk).first()
    if found is None:
        raise NotFound("not_found", _("未找到该规则集"), object="ruleset")
    return found


def ruleset_in_force(*, actor: User, on_date: dt.date, path: str = "") -> RuleSet:
    require(actor, Capability.RULESET_VIEW)
    return ruleset_for(on_date=on_date, path=path)


def in_force_ids(rulesets: list[RuleSet], *, on_date: dt.date) -> set[int]:
    """Ids of the rule sets in force on `on_date` for their own region (no queries:
    the same choice as `ruleset_for`, made over an already-loaded list)."""
    result: set[int] = set()
    regions = {rs.region for rs in rulesets}
    for region in regions:
        prefixes = set(_region_prefixes(region))
        candidates = [
            rs for rs in rulesets if rs.region in prefixes and rs.effective_from <= on_date
        ]
        if candidates:
            best = max(candidates, key=lambda rs: (rs.effective_from, len(rs.region), rs.pk))
            if best.region == region:
                result.add(best.pk)
    return result
