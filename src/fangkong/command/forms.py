"""Forms of command's pages (input parsed with core.pages.PageForm)."""

from __future__ import annotations

from django import forms

from fangkong.core.pages import PageForm


class OverdueFilterForm(PageForm):
    """The overdue board's filters: one kind (a registered code) and one owner
    (`<owner kind>:<owner key>`)."""

    kind = forms.CharField(required=False, max_length=64)
    owner = forms.CharField(required=False, max_length=100)
