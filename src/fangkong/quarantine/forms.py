"""The forms of quarantine's pages: every value a page sends is parsed here (a bad one is
a 400 with a stable code); the services then check the rules."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.core.pages import LocalDateTimeField, PageForm, PkField, PkListField
from fangkong.quarantine.choices import RoomKind, RoomState


def _text(limit: int | None = None) -> forms.CharField:
    return forms.CharField(required=False, strip=True, max_length=limit)


class PlacementFilterForm(PageForm):
    status = _text(16)
    measure = _text(16)
    site = PkField(required=False)
    cursor = _text(400)


class TransferFilterForm(PageForm):
    status = _text(16)
    cursor = _text(400)


class BulkChooseForm(PageForm):
    case = _text(32)


class BulkPlaceForm(PageForm):
    case = forms.CharField(max_length=32, label=_("病例编号"))
    sites = PkListField(required=False, limit=100)
    codes: ClassVar[dict[str, str]] = {"case": "case_required", "sites": "invalid_site"}


class RoomAssignForm(PageForm):
    room = PkField(label=_("房间"))
    codes: ClassVar[dict[str, str]] = {"room": "room_required"}


class TransferCreateForm(PageForm):
    vehicle = forms.CharField(required=False, max_length=32, label=_("车辆"))
    planned_at = LocalDateTimeField(required=False, label=_("计划时间"))
    codes: ClassVar[dict[str, str]] = {"vehicle": "invalid_vehicle", "planned_at": "time_invalid"}

    def cleaned_values(self) -> dict[str, Any]:
        data = self.cleaned()
        return {"vehicle": data["vehicle"] or "", "planned_at": data["planned_at"]}


class SiteCreateForm(PageForm):
    place = PkField(label=_("场所"))
    doctor_name = forms.CharField(required=False, max_length=50, label=_("驻点医生"))
    codes: ClassVar[dict[str, str]] = {"place": "place_required", "doctor_name": "invalid_name"}


class RoomsCreateForm(PageForm):
    building = forms.CharField(max_length=32, label=_("楼栋"))
    floors = forms.IntegerField(min_value=1, max_value=60, label=_("楼层数"))
    rooms_per_floor = forms.IntegerField(min_value=1, max_value=200, label=_("每层房间数"))
    kind = forms.ChoiceField(choices=RoomKind.choices, label=_("房型"))
    beds = forms.IntegerField(min_value=1, max_value=8, required=False, label=_("床位数"))
    accessible_per_floor = forms.IntegerField(
        min_value=0, max_value=200, required=False, label=_("每层无障碍间")
    )
    codes: ClassVar[dict[str, str]] = {
        "building": "invalid_building",
        "floors": "invalid_room_count",
        "rooms_per_floor": "invalid_room_count",
        "kind": "invalid_room_kind",
        "beds": "invalid_beds",
        "accessible_per_floor": "invalid_room_count",
    }


class RoomStateForm(PageForm):
    room = PkField(label=_("房间"))
    state = forms.ChoiceField(choices=RoomState.choices, label=_("状态"))
    codes: ClassVar[dict[str, str]] = {"room": "room_required", "state": "invalid_room_state"}
