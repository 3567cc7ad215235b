"""The page edge of inspections, rectifications, the checklist and the staff roster."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.core.pages import IsoDateField, LocalDateTimeField, PageForm, PkField
from fangkong.quarantine.choices import RectificationStatus, StaffPost, TestResult

PASS, FAIL = "pass", "fail"


def _text(limit: int, label: Any = None, *, required: bool = False) -> forms.CharField:
    return forms.CharField(required=required, max_length=limit, label=label)


class SiteFilterForm(PageForm):
    site = PkField(required=False)
    cursor = forms.CharField(required=False, max_length=1024)


class RectificationFilterForm(SiteFilterForm):
    status = forms.ChoiceField(required=False, choices=[("", ""), *RectificationStatus.choices])
    overdue = forms.CharField(required=False, max_length=1)


class InspectionForm(PageForm):
    """The new inspection: the date, a summary, the rectifications' owner and deadline,
    and per active checklist item `result_<id>` (pass / fail) and `note_<id>`."""

    codes = {"inspected_on": "inspected_on_invalid", "deadline_at": "deadline_invalid"}

    inspected_on = IsoDateField(label=_("检查日期"))
    summary = _text(2000, _("检查小结"))
    owner_name = _text(50, _("整改责任人"))
    owner = PkField(required=False, label=_("责任人账户"))
    deadline_at = LocalDateTimeField(required=False, label=_("整改时限"))

    def __init__(self, data: Any = None, *, item_ids: list[int], **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.item_ids = item_ids
        for pk in item_ids:
            self.fields[f"result_{pk}"] = forms.ChoiceField(
                required=False, choices=[("", ""), (PASS, PASS), (FAIL, FAIL)]
            )
            self.fields[f"note_{pk}"] = _text(300, _("问题描述"))

    def results(self) -> dict[int, tuple[bool, str]]:
        """The answered items as the service takes them (unanswered ones left out, so the
        service names them)."""
        data = self.cleaned()
        out: dict[int, tuple[bool, str]] = {}
        for pk in self.item_ids:
            answer = data.get(f"result_{pk}")
            if answer in (PASS, FAIL):
                out[pk] = (answer == PASS, data.get(f"note_{pk}") or "")
        return out


class RectificationCompleteForm(PageForm):
    note = _text(300, _("整改情况"))
    next = forms.CharField(required=False, max_length=500)


class ChecklistItemForm(PageForm):
    codes = {"order": "order_invalid"}

    code = _text(16, _("编号"))
    category = _text(50, _("类别"))
    text = _text(300, _("标准要求"))
    order = forms.IntegerField(min_value=0, max_value=32767, label=_("顺序"))


class ShiftForm(PageForm):
    codes = {"starts_on": "shift_dates_invalid", "ends_on": "shift_dates_invalid"}

    site = PkField(label=_("隔离点"))
    name = _text(50, _("姓名"))
    post = forms.ChoiceField(choices=StaffPost.choices, label=_("岗位"))
    starts_on = IsoDateField(label=_("闭环开始日期"))
    ends_on = IsoDateField(label=_("闭环结束日期"))


class StaffTestForm(PageForm):
    codes = {"tested_on": "tested_on_invalid", "result": "result_invalid"}

    tested_on = IsoDateField(label=_("检测日期"))
    result = forms.ChoiceField(choices=TestResult.choices, label=_("结果"))


class RectificationReassignForm(PageForm):
    codes = {"deadline_at": "deadline_invalid"}

    owner_name = _text(50, _("整改责任人"))
    deadline_at = LocalDateTimeField(label=_("整改时限"))
    next = forms.CharField(required=False, max_length=500)
