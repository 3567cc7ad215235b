"""Forms of the protocol pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class CalculatorForm(forms.Form):
    last_exposure_on = forms.DateField(
        label=_("末次暴露日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    onset_on = forms.DateField(
        label=_("发病日期（有症状）"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    first_positive_sampled_on = forms.DateField(
        label=_("首次阳性采样日期（无症状）"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    on = forms.DateField(
        label=_("按哪天的方案"),
        required=False,
        help_text=_("留空为今天"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    path = forms.RegexField(
        label=_("辖区路径"),
        regex=r"^\d{0,32}$",
        required=False,
        help_text=_("留空表示全国，例如 330483102"),
        error_messages={"invalid": _("辖区路径只能由数字组成")},
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not any(
            cleaned.get(k) for k in ("last_exposure_on", "onset_on", "first_positive_sampled_on")
        ):
            raise forms.ValidationError(
                _("请填写末次暴露日期，或发病日期/首次阳性采样日期"), code="needs_date"
            )
        return cleaned

    def rule_date(self, today: dt.date) -> dt.date:
        on = self.cleaned_data.get("on")
        return on if isinstance(on, dt.date) else today
