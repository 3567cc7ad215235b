"""Quarantine sites (隔离点), their rooms and their closed-loop staff."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.quarantine.choices import RoomKind, RoomState, StaffPost, TestResult


class Site(models.Model):
    """A quarantine site: one place of kind quarantine_site, in use or standing by."""

    place = models.OneToOneField(
        "areas.Place", verbose_name=_("场所"), on_delete=models.PROTECT, related_name="+"
    )
    # The place's path: town staff see the sites of their town, command all.
    jurisdiction_path = models.CharField(max_length=32, db_index=True)
    name = models.CharField(_("名称"), max_length=200)
    active = models.BooleanField(_("启用"), default=True)
    doctor_name = models.CharField(_("驻点医生"), max_length=50, blank=True)
    note = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("隔离点")
        verbose_name_plural = _("隔离点")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class Room(models.Model):
    """One room of a site: building, floor and number, its kind, beds and state."""

    site = models.ForeignKey(
        Site, verbose_name=_("隔离点"), on_delete=models.CASCADE, related_name="rooms"
    )
    building = models.CharField(_("楼栋"), max_length=32)
    floor = models.SmallIntegerField(_("楼层"))
    number = models.CharField(_("房号"), max_length=16)
    kind = models.CharField(
        _("房型"), max_length=16, choices=RoomKind.choices, default=RoomKind.SINGLE
    )
    beds = models.PositiveSmallIntegerField(_("床位数"), default=1)
    accessible = models.BooleanField(_("无障碍"), default=False)
    own_bathroom = models.BooleanField(_("独立卫生间"), default=True)
    state = models.CharField(
        _("状态"), max_length=16, choices=RoomState.choices, default=RoomState.READY
    )
    state_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("隔离房间")
        verbose_name_plural = _("隔离房间")
        ordering = ["site", "building", "floor", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "building", "number"], name="room_number_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(beds__gte=1, beds__lte=8), name="room_beds_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="single") | models.Q(beds=1), name="room_single_one_bed"
            ),
        ]
        indexes = [models.Index(fields=["site", "state"], name="room_site_state")]

    def __str__(self) -> str:
        return f"{self.building}-{self.number}"


class StaffShift(models.Model):
    """A staff member's closed-loop shift (闭环管理) at a site: from the day they enter to
    the day they leave, then their own quarantine after it."""

    site = models.ForeignKey(
        Site, verbose_name=_("隔离点"), on_delete=models.CASCADE, related_name="shifts"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(_("姓名"), max_length=50)
    post = models.CharField(_("岗位"), max_length=16, choices=StaffPost.choices)
    starts_on = models.DateField(_("闭环开始日期"))
    ends_on = models.DateField(_("闭环结束日期"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("闭环工作人员")
        verbose_name_plural = _("闭环工作人员")
        ordering = ["site", "starts_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="shift_dates_ordered"
            )
        ]

    def __str__(self) -> str:
        return self.name


class StaffTest(models.Model):
    """A closed-loop staff member's own test (工作人员核酸)."""

    shift = models.ForeignKey(StaffShift, on_delete=models.CASCADE, related_name="tests")
    tested_on = models.DateField(_("检测日期"))
    result = models.CharField(
        _("结果"), max_length=16, choices=TestResult.choices, default=TestResult.PENDING
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("工作人员检测")
        verbose_name_plural = _("工作人员检测")
        constraints = [
            models.UniqueConstraint(fields=["shift", "tested_on"], name="staff_test_one_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.shift_id} {self.tested_on}"
