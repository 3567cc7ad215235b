"""The page edge of the daily report: its date (in the URL or the date picker)."""

from __future__ import annotations

from typing import ClassVar

from django.utils.translation import gettext_lazy as _

from fangkong.core.pages import IsoDateField, PageForm


class ReportDayForm(PageForm):
    """The report's date, YYYY-MM-DD."""

    codes: ClassVar[dict[str, str]] = {"day": "report_day_invalid"}

    day = IsoDateField(label=_("日报日期"))
