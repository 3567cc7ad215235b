"""Forms at the edge of mass testing's pages: what a page accepts, checked before any
service is called."""

from __future__ import annotations

from django import forms


class ResultsUploadForm(forms.Form):
    """A lab's results file (CSV or Excel); its size and rows are bounded by the import."""

    file = forms.FileField()
