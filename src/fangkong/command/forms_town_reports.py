"""The page edge of the towns' daily reports: the town's form, the day picked, the
problem turned into a task."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.command.models import TownReportNeedKind
from fangkong.command.services.town_reports import (
    NEED_ITEM_MAX,
    NEED_UNIT_MAX,
    PROBLEM_MAX,
    PROBLEMS_MAX,
    PROGRESS_MAX,
    QUANTITY_MAX,
)
from fangkong.core.pages import IsoDateField, PageForm

NEED_ROWS = 6  # rows of needs on the form (blank ones are left out)


class DayForm(PageForm):
    day = IsoDateField(required=False, label=_("日期"))


class TownReportForm(PageForm):
    """Progress, problems one a line, and up to NEED_ROWS needs (`need_kind_<n>`,
    `need_item_<n>`, `need_quantity_<n>`, `need_unit_<n>`)."""

    codes = {"progress": "progress_required", "problems": "problems_too_long"}

    progress = forms.CharField(
        label=_("工作进展"), max_length=PROGRESS_MAX, widget=forms.Textarea(attrs={"rows": 5})
    )
    problems = forms.CharField(
        label=_("困难和问题"),
        required=False,
        max_length=PROBLEMS_MAX * (PROBLEM_MAX + 2),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("每行一条，指挥部可将其逐条转为任务"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for n in range(1, NEED_ROWS + 1):
            self.fields[f"need_kind_{n}"] = forms.ChoiceField(
                required=False,
                choices=TownReportNeedKind.choices,
                label=_("需求类别"),
            )
            self.fields[f"need_item_{n}"] = forms.CharField(
                required=False, max_length=NEED_ITEM_MAX, label=_("需求内容")
            )
            self.fields[f"need_quantity_{n}"] = forms.IntegerField(
                required=False, min_value=1, max_value=QUANTITY_MAX, label=_("数量")
            )
            self.fields[f"need_unit_{n}"] = forms.CharField(
                required=False, max_length=NEED_UNIT_MAX, label=_("单位")
            )

    def problem_lines(self) -> list[str]:
        text = str(self.cleaned_data.get("problems") or "")
        return [line.strip() for line in text.splitlines() if line.strip()]

    def need_rows(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        return [
            {
                "kind": data.get(f"need_kind_{n}") or TownReportNeedKind.OTHER,
                "item": data.get(f"need_item_{n}") or "",
                "quantity": data.get(f"need_quantity_{n}"),
                "unit": data.get(f"need_unit_{n}") or "",
            }
            for n in range(1, NEED_ROWS + 1)
        ]
