"""Reads of the protocol domain."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.db.models.functions import Length

from fangkong.core.errors import NotFound
from fangkong.protocol.models import RuleSet


def ruleset_for(*, on_date: dt.date, path: str = "") -> RuleSet:
    """The rule set in force on `on_date` for the jurisdiction at `path`.

    Among rule sets effective on or before the date whose region is "" (national) or a
    prefix of `path`, the most specific region wins, then the latest date of effect.
    """
    prefixes = [""] + [path[:n] for n in range(1, len(path) + 1)]
    candidate = (
        RuleSet.objects.filter(Q(region__in=prefixes), effective_from__lte=on_date)
        .annotate(region_len=Length("region"))
        .order_by("-region_len", "-effective_from", "-id")
        .first()
    )
    if candidate is None:
        raise NotFound("no_ruleset", "没有适用于该日期的防控方案规则集", on_date=str(on_date))
    return candidate
