"""The forms of mass testing's pages: every value a page sends is parsed here, and a bad
one is a 400 with a stable code (core.pages.PageForm); the services then check the rules."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.core.pages import (
    DigitsField,
    FlagField,
    LocalDateTimeField,
    PageForm,
    PkField,
    PkListField,
    TruncatingForm,
    one_message,
)


def _text(limit: int | None = None, *, strip: bool = True) -> forms.CharField:
    """An optional text field; the service checks what it means."""
    return forms.CharField(required=False, strip=strip, max_length=limit)


def _time() -> forms.TimeField:
    return forms.TimeField(
        required=False,
        input_formats=["%H:%M", "%H:%M:%S"],
        error_messages=one_message(_("时间格式无效")),
    )


class CursorForm(PageForm):
    """A keyset page's cursor (the selector refuses one it did not issue)."""

    cursor = _text()


# --- points --------------------------------------------------------------------------------


class PointFilterForm(PageForm):
    jurisdiction = forms.RegexField(regex=r"^[0-9]{1,15}$", required=False)
    queue = _text()


class PointForm(PageForm):
    """Register (with `place`) or edit a sampling point."""

    place = DigitsField(max_digits=7, required=False, empty=None)
    tables = DigitsField(max_digits=7, error_messages=one_message(_("请填写非负整数")))
    samplers = DigitsField(max_digits=7, error_messages=one_message(_("请填写非负整数")))
    opens_at = forms.TimeField(
        required=False,
        input_formats=["%H:%M", "%H:%M:%S"],
        error_messages=one_message(_("时间格式无效")),
    )
    closes_at = forms.TimeField(
        required=False,
        input_formats=["%H:%M", "%H:%M:%S"],
        error_messages=one_message(_("时间格式无效")),
    )
    codes: ClassVar[dict[str, str]] = {
        "place": "point_value_invalid",
        "tables": "point_value_invalid",
        "samplers": "point_value_invalid",
        "opens_at": "time_invalid",
        "closes_at": "time_invalid",
    }


class RegisterPointForm(PointForm):
    place = DigitsField(max_digits=7, error_messages=one_message(_("请填写非负整数")))


class QueueForm(PageForm):
    status = _text()
    length = DigitsField(max_digits=7, empty=0, error_messages=one_message(_("请填写非负整数")))
    codes: ClassVar[dict[str, str]] = {"length": "point_value_invalid"}


# --- supplies ------------------------------------------------------------------------------


def _quantity(*, empty: int | None = None) -> DigitsField:
    return DigitsField(max_digits=8, empty=empty, error_messages=one_message(_("请填写非负整数")))


class SupplyFilterForm(PageForm):
    low = FlagField()
    kind = _text()


class SupplyCreateForm(PageForm):
    place = _quantity()
    kind = _text()
    quantity = _quantity(empty=0)
    low_threshold = _quantity(empty=0)
    codes: ClassVar[dict[str, str]] = {
        "place": "quantity_invalid",
        "quantity": "quantity_invalid",
        "low_threshold": "quantity_invalid",
    }


class SupplyMoveForm(PageForm):
    quantity = _quantity()
    to_place = _quantity(empty=None)
    reason = _text()
    codes: ClassVar[dict[str, str]] = {
        "quantity": "quantity_invalid",
        "to_place": "quantity_invalid",
    }

    def __init__(self, data: Any, *, transfer: bool) -> None:
        super().__init__(data)
        self.fields["to_place"].required = transfer


# --- rounds --------------------------------------------------------------------------------


class RoundFilterForm(PageForm):
    status = _text()


class RoundCreateForm(PageForm):
    name = _text(300, strip=False)
    starts_at = LocalDateTimeField(error_messages=one_message(_("时间格式无效")))
    sealed_pooling = _text()
    jurisdictions = PkListField(limit=500, error_messages=one_message(_("选择无效")))
    zones = PkListField(limit=200, error_messages=one_message(_("选择无效")))
    codes: ClassVar[dict[str, str]] = {
        "starts_at": "datetime_invalid",
        "jurisdictions": "id_invalid",
        "zones": "id_invalid",
    }
    field_order = ("jurisdictions", "zones", "name", "starts_at")


class AdviceForm(PageForm):
    prevalence = forms.FloatField(
        required=False,
        min_value=0,
        max_value=100,
        error_messages=one_message(_("估计阳性率须在 0 到 100 之间")),
    )


# --- sampling and labs ---------------------------------------------------------------------


class SamplerPageForm(PageForm):
    point = DigitsField(max_digits=19, required=False)


class BoxOpenForm(PageForm):
    barcode = _text()
    lab = DigitsField(max_digits=19, required=False, empty=0)


class BoxTubesForm(PageForm):
    action = _text()
    barcodes = _text(strip=False)


class BoxReceiveForm(PageForm):
    barcode = _text()


class RecheckSampleForm(PageForm):
    barcode = _text(strip=False)
    lab = PkField(required=False, error_messages=one_message(_("请选择检测机构")))
    codes: ClassVar[dict[str, str]] = {"lab": "lab_invalid"}


class RecheckFilterForm(PageForm):
    status = _text()
    overdue = FlagField()
    cursor = _text()


class HoldFilterForm(PageForm):
    state = _text()
    cursor = _text()


class ResultsUploadForm(PageForm):
    """A lab's results file (CSV or Excel); its size and rows are bounded by the import."""

    file = forms.FileField(error_messages=one_message(_("请选择要导入的结果文件")))
    codes: ClassVar[dict[str, str]] = {"file": "file_required"}


class TubeLookupForm(TruncatingForm):
    """The results page's tube search (a barcode; one with a slash is no lookup)."""

    tube = forms.CharField(required=False, max_length=64)


class RevealForm(PageForm):
    reveal = FlagField()
