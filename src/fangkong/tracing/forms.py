"""The forms of tracing's pages: every value a page sends is parsed here, and a bad one is
a 400 with a stable code (core.pages.PageForm); the services then check the rules."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.core.pages import (
    FlagField,
    IsoDateField,
    LocalDateTimeField,
    PageForm,
    PkField,
    TriStateField,
    TruncatingForm,
    one_message,
)
from fangkong.core.paths import TOWN_WIDTH, path_pattern

_DATE_REQUIRED = _("请填写日期")
_DATE_INVALID = _("日期格式无效")
_TIME_INVALID = _("时间格式无效")


def _text(limit: int | None = None, *, strip: bool = True) -> forms.CharField:
    """An optional text field; the service checks what it means (and its length: a limit
    here is one the page cut the value to before the forms, see TruncatingForm)."""
    return forms.CharField(required=False, strip=strip, max_length=limit)


def _date(label: Any = None, *, required: bool = False) -> forms.DateField:
    """A date; with a label the messages name it ("发病日期格式无效，应为 YYYY-MM-DD")."""
    if label is not None:
        return IsoDateField(required=required, label=label)
    return IsoDateField(
        required=required,
        error_messages={"required": _DATE_REQUIRED, "invalid": _DATE_INVALID},
    )


# --- cases ---------------------------------------------------------------------------------


class CaseFilterForm(PageForm):
    """The case list's filters; `towns` are the towns the user may filter by."""

    status = _text()
    kind = _text()
    source = _text()  # "known" / "unknown" (来源不明)
    town = _text()
    since = _date()
    until = _date()
    overdue = TriStateField()
    cursor = _text()
    codes: ClassVar[dict[str, str]] = {
        "since": "date_invalid",
        "until": "date_invalid",
        "town": "unknown_jurisdiction",
    }

    def __init__(self, data: Any, *, towns: list[Any]) -> None:
        super().__init__(data)
        self.towns = towns

    def clean_town(self) -> Any:
        raw = self.cleaned_data.get("town") or ""
        if not raw:
            return None
        town = next((t for t in self.towns if str(t.pk) == raw), None)
        if town is None:
            raise forms.ValidationError(_("辖区不存在"), code="unknown_jurisdiction")
        return town


class PersonSearchForm(TruncatingForm):
    q = _text(100)
    person = _text()
    step = _text()


class ContactPickForm(PageForm):
    """The contact a new case is reported from (`?contact=` on the new-case form)."""

    contact = PkField(required=False)
    codes: ClassVar[dict[str, str]] = {"contact": "contact_invalid"}


class CaseCreateForm(TruncatingForm):
    person = PkField(error_messages=one_message(_("请先查找并选择人员")))
    kind = _text(300)
    origin = _text(300)
    first_positive_sampled_on = _date(_("首次阳性采样日期"), required=True)
    onset_date = _date(_("发病日期"))
    reporting_unit = _text(300)
    q = _text(100)
    codes: ClassVar[dict[str, str]] = {
        "person": "person_required",
        "first_positive_sampled_on.required": "date_required",
        "first_positive_sampled_on": "date_invalid",
        "onset_date": "date_invalid",
    }


class CaseLifecycleForm(PageForm):
    symptoms = _text(strip=False)
    vaccination = _text(strip=False)
    interview_notes = _text(strip=False)
    reason = _text(strip=False)


class StopForm(TruncatingForm):
    venue_code = _text(2000)
    address = _text(2000)
    start = LocalDateTimeField(error_messages=one_message(_TIME_INVALID))
    end = LocalDateTimeField(error_messages=one_message(_TIME_INVALID))
    companions = _text(2000)
    note = _text(2000)
    codes: ClassVar[dict[str, str]] = {"start": "datetime_invalid", "end": "datetime_invalid"}


# --- contacts ------------------------------------------------------------------------------


class FindContactsForm(PageForm):
    tolerance_minutes = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=1440,
        error_messages=one_message(_("时间容差须在 0 到 1440 分钟之间")),
    )
    codes: ClassVar[dict[str, str]] = {"tolerance_minutes": "invalid_tolerance"}


class AddContactForm(TruncatingForm):
    name = _text(100)
    id_kind = _text(100)
    id_number = _text(100)
    phone = _text(100)
    jurisdiction = PkField(error_messages=one_message(_("请选择所属辖区")))
    classification = _text(100)
    kind = _text(100)
    exposed_on = IsoDateField(
        error_messages=one_message(_("请填写正确的暴露日期")),
    )
    note = _text(400)
    codes: ClassVar[dict[str, str]] = {
        "jurisdiction": "jurisdiction_required",
        "exposed_on": "invalid_exposure_date",
    }


class ReclassifyForm(TruncatingForm):
    """An investigator's promotion or demotion of a contact, with its reason."""

    classification = _text(100)
    reason = _text(600)


class FoundForm(PageForm):
    """The count the secondary-contact search redirects with, and the flag a
    promotion or demotion redirects with."""

    found = forms.IntegerField(required=False, min_value=0, max_value=10**9)
    reclassified = FlagField()


class ContactFilterForm(PageForm):
    classification = _text()
    status = _text()
    pushed = FlagField()  # on at least one pushed list
    controlled_24h = FlagField()  # put under a measure within 24 h of a list
    cursor = _text()


# --- chains --------------------------------------------------------------------------------


class ChainFilterForm(PageForm):
    case = PkField(required=False)
    cluster = PkField(required=False)
    number = _text()
    contacts = FlagField()


class ChainActionForm(PageForm):
    infector = _text()
    evidence = _text()
    link = PkField(required=False)
    cluster = PkField(required=False)
    unknown = FlagField()


class ClusterForm(PageForm):
    name = _text(strip=False)
    description = _text(strip=False)


class ClusterCaseForm(PageForm):
    number = _text()


# --- pushes --------------------------------------------------------------------------------


class PushFilterForm(PageForm):
    status = _text()
    overdue = FlagField()
    completion = _text()  # on_time / late (selectors.pushes.PUSH_COMPLETIONS)
    town = forms.RegexField(regex=path_pattern(TOWN_WIDTH), required=False)  # a town's path
    cursor = _text()


class PushItemsFilterForm(PageForm):
    show = _text()  # pending / late / all (selectors.pushes.ITEM_SHOWS)
    cursor = _text()


class PushMarkForm(TruncatingForm):
    status = _text()
    note = _text(1000, strip=False)


class RevealForm(PageForm):
    reveal = FlagField()


class PushImportForm(PageForm):
    file = forms.FileField(
        allow_empty_file=True, error_messages=one_message(_("请选择要导入的 Excel 文件"))
    )
    codes: ClassVar[dict[str, str]] = {"file": "import_file_missing"}


class ScanImportForm(PageForm):
    """A scan log (CSV or Parquet; bounded by the import) and whether one bad row refuses
    the whole file."""

    file = forms.FileField(error_messages=one_message(_("请选择要导入的文件")))
    strict = FlagField()
    codes: ClassVar[dict[str, str]] = {"file": "file_required"}
