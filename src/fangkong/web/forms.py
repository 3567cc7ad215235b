"""The forms of the shell's pages (core.pages.PageForm)."""

from __future__ import annotations

from django import forms

from fangkong.core.pages import PageForm


class SearchForm(PageForm):
    """The header's search box: its bounds and their messages are core.search's
    (`clean_query`), so the form only refuses what no one types."""

    q = forms.CharField(required=False, max_length=2000, strip=False)
