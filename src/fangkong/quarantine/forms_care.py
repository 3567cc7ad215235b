"""Page input of the care pages: each a PageForm with stable refusal codes."""

from __future__ import annotations

from typing import ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.core.pages import PageForm, PkField, one_message
from fangkong.quarantine.choices import CheckSlot, Symptom


def _text(limit: int | None = None) -> forms.CharField:
    return forms.CharField(required=False, max_length=limit)


class HealthCheckForm(PageForm):
    slot = forms.ChoiceField(choices=CheckSlot.choices, error_messages=one_message(_("请选择时段")))
    temperature = forms.CharField(max_length=8, error_messages=one_message(_("请填写体温")))
    symptoms = forms.MultipleChoiceField(
        choices=Symptom.choices, required=False, error_messages=one_message(_("未知的症状"))
    )
    note = _text(300)
    codes: ClassVar[dict[str, str]] = {
        "slot": "slot_invalid",
        "temperature": "temperature_required",
        "symptoms": "symptom_invalid",
    }


class HomeCheckInForm(PageForm):
    temperature = _text(8)
    symptoms = forms.MultipleChoiceField(
        choices=Symptom.choices, required=False, error_messages=one_message(_("未知的症状"))
    )
    note = _text(300)
    codes: ClassVar[dict[str, str]] = {"symptoms": "symptom_invalid"}


class SampleForm(PageForm):
    barcode = forms.CharField(max_length=64, error_messages=one_message(_("请扫描或输入试管条码")))
    codes: ClassVar[dict[str, str]] = {"barcode": "barcode_invalid"}


class DispatchForm(PageForm):
    lab = PkField(error_messages=one_message(_("请选择检测机构")))
    box_barcode = forms.CharField(
        max_length=64, error_messages=one_message(_("请扫描或输入转运箱条码"))
    )
    codes: ClassVar[dict[str, str]] = {"lab": "lab_invalid", "box_barcode": "barcode_invalid"}


class HospitalDepartForm(PageForm):
    vehicle = _text(32)
    codes: ClassVar[dict[str, str]] = {"vehicle": "vehicle_invalid"}


class AlertHandleForm(PageForm):
    outcome = forms.CharField(max_length=300, error_messages=one_message(_("请填写处置情况")))
    codes: ClassVar[dict[str, str]] = {"outcome": "outcome_required"}


class ListFilterForm(PageForm):
    state = _text(16)
    missed = _text(4)
    cursor = _text(200)
