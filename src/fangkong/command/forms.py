"""The page edge of command: one PageForm per page input."""

from __future__ import annotations

from typing import ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.core.pages import IsoDateField, PageForm


class OverdueFilterForm(PageForm):
    """The overdue board's filters: one kind (a registered code) and one owner
    (`<owner kind>:<owner key>`)."""

    kind = forms.CharField(required=False, max_length=64)
    owner = forms.CharField(required=False, max_length=100)


class SituationDayForm(PageForm):
    """The dashboard's day (default today)."""

    day = IsoDateField(required=False, label=_("日期"))
    codes: ClassVar[dict[str, str]] = {"day": "date_invalid"}
