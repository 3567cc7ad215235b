"""The forms of the people pages (core.pages.PageForm: a bad value is a 400 with a stable
code); the services and selectors then check what the values mean."""

from __future__ import annotations

from typing import ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.core.pages import PageForm, PkField, TruncatingForm, one_message


def _text(limit: int | None = None) -> forms.CharField:
    return forms.CharField(required=False, max_length=limit)


class PersonSearchForm(TruncatingForm):
    """The search (and the export of what it shows): `jurisdiction` narrows it to one
    jurisdiction by id; one that is not a row id is no filter."""

    q = _text(100)
    jurisdiction = PkField(required=False)
    cursor = _text()


class RevealForm(PageForm):
    field = _text()


class PersonCreateForm(TruncatingForm):
    name = forms.CharField(required=False, max_length=300, strip=False)
    id_kind = forms.CharField(required=False, max_length=300, strip=False)
    id_number = forms.CharField(required=False, max_length=300, strip=False)
    phone = forms.CharField(required=False, max_length=300, strip=False)
    jurisdiction = PkField(error_messages=one_message(_("请选择所属辖区")))
    codes: ClassVar[dict[str, str]] = {"jurisdiction": "jurisdiction_required"}
    field_order = ("jurisdiction", "name", "id_kind", "id_number", "phone")
