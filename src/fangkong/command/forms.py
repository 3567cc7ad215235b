"""The page edge of command: one PageForm per page input."""

from __future__ import annotations

from typing import ClassVar

from django.utils.translation import gettext_lazy as _

from fangkong.core.pages import IsoDateField, PageForm


class SituationDayForm(PageForm):
    """The dashboard's day (default today)."""

    day = IsoDateField(required=False, label=_("日期"))
    codes: ClassVar[dict[str, str]] = {"day": "date_invalid"}
