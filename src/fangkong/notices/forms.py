"""The page edge of the inbox: its filter, and where a mark-read goes back to."""

from __future__ import annotations

from django import forms

from fangkong.core.pages import FlagField, PageForm
from fangkong.core.pagination import CURSOR_MAX_LENGTH


class InboxFilterForm(PageForm):
    unread = FlagField()
    cursor = forms.CharField(required=False, max_length=CURSOR_MAX_LENGTH)


class MarkReadForm(PageForm):
    # the inbox page to return to (a path of the inbox only; anything else: the inbox)
    next = forms.CharField(required=False, max_length=1200)
