"""The words of the codes a rule set keeps in its "who is close" lists.

The lists hold codes of vocabularies owned above protocol (tracing's exposure kinds,
areas' venue kinds), which protocol does not import: the rule set's pages show them
through these label maps (the same Chinese words as the owning apps' choices, so one
msgid keeps one translation). A code without words here is shown as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _

EXPOSURE_KIND_WORDS: dict[str, Any] = {
    "household": _("同住"),
    "workplace": _("同事/同学"),
    "co_presence": _("同一场所同一时段"),
    "manual": _("流调人工添加"),
    "companion": _("同行"),
    "vehicle": _("同乘交通工具"),
}

VENUE_KIND_WORDS: dict[str, Any] = {
    "restaurant": _("餐饮店"),
    "ktv": _("KTV"),
    "internet_bar": _("网吧"),
    "gym": _("健身房"),
    "clinic": _("诊所"),
    "chess_room": _("棋牌室"),
    "market": _("农贸市场"),
    "mall": _("商场"),
    "supermarket": _("超市"),
    "station": _("车站"),
    "hospital_hall": _("医院大厅"),
    "scenic_area": _("景区"),
    "shop": _("商店"),
    "office": _("办事场所"),
    "other": _("其他场所"),
}

# Which map names the codes of each list field.
KIND_LIST_WORDS: dict[str, dict[str, Any]] = {
    "always_close_exposure_kinds": EXPOSURE_KIND_WORDS,
    "small_venue_kinds": VENUE_KIND_WORDS,
    "large_venue_kinds": VENUE_KIND_WORDS,
}


def kind_words(codes: Iterable[str], words: dict[str, Any]) -> str:
    """Codes as words joined by 、 ("无" for none); an unknown code as it is."""
    names = [str(words.get(code, code)) for code in codes]
    return "、".join(names) if names else str(_("无"))


def kind_choices(words: dict[str, Any]) -> str:
    """The codes a list accepts with their words (the admin's help text)."""
    return "，".join(f"{code}（{label}）" for code, label in words.items())
