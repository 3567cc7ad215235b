"""Template filters of the protocol's vocabulary: `{{ rs.small_venue_kinds|venue_kind_words }}`,
`{{ rs.always_close_exposure_kinds|exposure_kind_words }}`."""

from __future__ import annotations

from collections.abc import Iterable

from django import template

from fangkong.protocol.vocabulary import EXPOSURE_KIND_WORDS, VENUE_KIND_WORDS, kind_words

register = template.Library()


@register.filter
def venue_kind_words(codes: Iterable[str]) -> str:
    return kind_words(codes or [], VENUE_KIND_WORDS)


@register.filter
def exposure_kind_words(codes: Iterable[str]) -> str:
    return kind_words(codes or [], EXPOSURE_KIND_WORDS)
