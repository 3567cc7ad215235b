"""Forms at the edge of tracing's pages: what a page accepts, checked before any service
is called."""

from __future__ import annotations

from django import forms


class ScanImportForm(forms.Form):
    """A scan log (CSV or Parquet; bounded by the import) and whether one bad row refuses
    the whole file."""

    file = forms.FileField()
    strict = forms.BooleanField(required=False)
