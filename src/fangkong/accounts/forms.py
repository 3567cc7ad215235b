"""The forms of the accounts pages (core.pages.PageForm: a bad value is a 400 with a
stable code, or a filter that is shown as refused)."""

from __future__ import annotations

from typing import ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.core.pages import IsoDateField, PageForm, one_message

_DATE_FORMAT = _("日期格式应为 YYYY-MM-DD")


def _text(*, strip: bool = True) -> forms.CharField:
    return forms.CharField(required=False, strip=strip)


def _date() -> forms.DateField:
    return IsoDateField(required=False, error_messages=one_message(_DATE_FORMAT))


class LoginForm(PageForm):
    username = _text(strip=False)
    password = _text(strip=False)
    next = _text()


class AuditFilterForm(PageForm):
    actor = _text()
    action = _text()
    object_type = _text()
    object_id = _text()
    since = _date()
    until = _date()
    cursor = _text()
    codes: ClassVar[dict[str, str]] = {"since": "date_invalid", "until": "date_invalid"}


class TokenForm(PageForm):
    name = _text(strip=False)
    expires_on = _date()
    codes: ClassVar[dict[str, str]] = {"expires_on": "token_expiry_invalid"}
