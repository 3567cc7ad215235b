"""Forms of the areas pages (the services do the domain validation)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.areas.models import PlaceKind, ZoneLevel, ZoneState
from fangkong.core.pages import PageForm, PkField, PkListField, TruncatingForm
from fangkong.core.paths import TOWN_WIDTH, path_pattern


class ZoneCreateForm(PageForm):
    name = forms.CharField(label=_("名称"), max_length=200)
    level = forms.ChoiceField(label=_("等级"), choices=ZoneLevel.choices)
    jurisdiction = forms.TypedChoiceField(label=_("所属辖区"), coerce=int)
    # Ticked in the checklist or on the map; the service checks they lie under the
    # owning jurisdiction (and that there is at least one member).
    member_jurisdictions = PkListField(label=_("范围（辖区）"), limit=5000)
    member_places = PkListField(label=_("范围（场所）"), limit=500)
    parent = forms.TypedChoiceField(
        label=_("上级风险区"), coerce=int, required=False, empty_value=None
    )
    started_on = forms.DateField(
        label=_("划定日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    reason = forms.CharField(
        label=_("原因"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self,
        *args: Any,
        owners: list[tuple[int, str]],
        parents: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        for name, choices in (("jurisdiction", owners), ("parent", [("", "—"), *parents])):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = choices
        self.fields["started_on"].initial = timezone.localdate()


class ZonePlaceSearchForm(TruncatingForm):
    """The place search of the zone form (htmx): places under the owner matching `q`,
    with the places already ticked kept."""

    jurisdiction = PkField(required=False)
    q = forms.CharField(required=False, max_length=100)
    member_places = PkListField(limit=500)


class ZoneActionForm(PageForm):
    on_date = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(
        label=_("原因"), max_length=2000, required=False, widget=forms.TextInput()
    )
    all_negative = forms.TypedChoiceField(
        label=_("筛查结果"),
        required=False,
        coerce=lambda v: v == "1",
        choices=[("1", _("全部阴性")), ("0", _("有阳性"))],
    )


class ZoneProposalForm(PageForm):
    """Confirm (reason optional) or decline (reason required: the service says so) the
    downgrade the system proposes."""

    reason = forms.CharField(
        label=_("原因"), max_length=2000, required=False, widget=forms.TextInput()
    )


# --- the filters of the list pages (a value they do not know is no filter) ----------------


class ZoneFilterForm(PageForm):
    level = forms.ChoiceField(required=False, choices=ZoneLevel.choices)
    state = forms.ChoiceField(required=False, choices=ZoneState.choices)
    # A town's path: only the zones drawn under that town (a town's dashboard tiles).
    town = forms.RegexField(regex=path_pattern(TOWN_WIDTH), required=False)


class ZoneOwnerForm(PageForm):
    """The jurisdiction the zone form offers members under (re-chosen by htmx)."""

    jurisdiction = PkField(required=False)


class PlaceFilterForm(TruncatingForm):
    kind = forms.ChoiceField(required=False, choices=PlaceKind.choices)
    q = forms.CharField(required=False, max_length=100)
    town = PkField(required=False)
    cursor = forms.CharField(required=False)


class JurisdictionDepthForm(PageForm):
    depth = forms.TypedChoiceField(
        required=False, choices=[("1", "1"), ("2", "2"), ("3", "3")], coerce=int
    )
