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
from fangkong.core.paths import LEVEL_WIDTHS, path_pattern

_NON_NEGATIVE = _("请填写非负整数")


def _count(label: Any, *, required: bool = True) -> DigitsField:
    """A count typed as digits: "请填写非负整数" when it is not one, the house's "<label>过大，
    最大为 ..." past `max_digits` (core.pages)."""
    return DigitsField(
        max_digits=7,
        required=required,
        label=label,
        error_messages={"required": _NON_NEGATIVE, "invalid": _NON_NEGATIVE},
    )


def _text(limit: int | None = None, *, strip: bool = True) -> forms.CharField:
    """An optional text field; the service checks what it means."""
    return forms.CharField(required=False, strip=strip, max_length=limit)


def _time(label: Any) -> forms.TimeField:
    """An optional time of day ("<label>格式无效，应为 HH:MM" when it is not one)."""
    return forms.TimeField(required=False, label=label, input_formats=["%H:%M", "%H:%M:%S"])


class CursorForm(PageForm):
    """A keyset page's cursor (the selector refuses one it did not issue)."""

    cursor = _text()


# --- points --------------------------------------------------------------------------------


class PointFilterForm(PageForm):
    jurisdiction = forms.RegexField(regex=path_pattern(*LEVEL_WIDTHS), required=False)
    queue = _text()


class PointForm(PageForm):
    """Register (with `place`) or edit a sampling point."""

    place = DigitsField(max_digits=7, required=False, empty=None)
    tables = _count(_("采样台数"))
    samplers = _count(_("采样员人数"))
    opens_at = _time(_("开放时间"))
    closes_at = _time(_("关闭时间"))
    codes: ClassVar[dict[str, str]] = {
        "place": "point_value_invalid",
        "tables": "point_value_invalid",
        "samplers": "point_value_invalid",
        "opens_at": "time_invalid",
        "closes_at": "time_invalid",
    }


class RegisterPointForm(PointForm):
    place = _count(_("场所"))


class QueueForm(PageForm):
    status = _text()
    length = DigitsField(
        max_digits=7,
        empty=0,
        label=_("排队人数"),
        error_messages={"invalid": _NON_NEGATIVE},
    )
    codes: ClassVar[dict[str, str]] = {"length": "point_value_invalid"}


# --- supplies ------------------------------------------------------------------------------


def _quantity(label: Any, *, empty: int | None = None) -> DigitsField:
    return DigitsField(
        max_digits=8,
        empty=empty,
        label=label,
        error_messages={"required": _NON_NEGATIVE, "invalid": _NON_NEGATIVE},
    )


class SupplyFilterForm(PageForm):
    low = FlagField()
    kind = _text()
    town = _text()
    stock = _quantity(_("库存"), empty=None)


class SupplyPickForm(PageForm):
    """The stock and the action of the supplies list's one movement form."""

    stock = _quantity(_("库存"), empty=None)
    action = _text()


class SupplyCreateForm(PageForm):
    place = _quantity(_("场所"))
    kind = _text()
    quantity = _quantity(_("盘点数量"), empty=0)
    low_threshold = _quantity(_("低库存预警线"), empty=0)
    codes: ClassVar[dict[str, str]] = {
        "place": "quantity_invalid",
        "quantity": "quantity_invalid",
        "low_threshold": "quantity_invalid",
    }


class SupplyMoveForm(PageForm):
    quantity = _quantity(_("数量"))
    to_place = _quantity(_("调入场所"), empty=None)
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
    starts_at = LocalDateTimeField(label=_("开始时间"))
    sealed_pooling = _text()
    jurisdictions = PkListField(limit=500, error_messages=one_message(_("选择无效")))
    zones = PkListField(limit=200, error_messages=one_message(_("选择无效")))
    codes: ClassVar[dict[str, str]] = {
        "starts_at.required": "datetime_required",
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
