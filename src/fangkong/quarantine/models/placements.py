"""Placements (隔离管控措施) of persons, room occupancies, transfers and scheduled tests."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangkong.quarantine.choices import (
    Measure,
    PlacementSource,
    PlacementStatus,
    TestKind,
    TestResult,
    TransferKind,
    TransferStatus,
)


class Occupancy(models.Model):
    """A room in use by one party: one person, or members of one household sharing a
    multi-person room. **No room is ever double-booked**: at most one open occupancy per
    room, a database constraint (`occupancy_one_open_per_room`), so two placers racing
    for the last free room cannot both win. The beds of a shared room are counted under
    a row lock on the occupancy."""

    room = models.ForeignKey(
        "quarantine.Room", on_delete=models.PROTECT, related_name="occupancies"
    )
    # The party: "h<household id>" for a household sharing, "p<person id>" for one person.
    party = models.CharField(max_length=32)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("房间占用")
        verbose_name_plural = _("房间占用")
        constraints = [
            models.UniqueConstraint(
                fields=["room"],
                condition=models.Q(ended_at__isnull=True),
                name="occupancy_one_open_per_room",
            )
        ]

    def __str__(self) -> str:
        return f"{self.room_id} {self.party}"


class Placement(models.Model):
    """One person under one measure: centralised quarantine at a site (in a room), home
    quarantine or home health monitoring at home. Dates come from the person's rule set
    and last exposure (`protocol.rules`); open placements are recomputed when a new
    exposure or a rule-set change arrives, closed ones never."""

    person = models.ForeignKey(
        "people.Person", verbose_name=_("人员"), on_delete=models.PROTECT, related_name="+"
    )
    # The person's home path: a town sees its residents wherever they are placed.
    jurisdiction_path = models.CharField(max_length=32)
    contact = models.ForeignKey(
        "tracing.Contact",
        verbose_name=_("接触者"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.CharField(_("来源"), max_length=16, choices=PlacementSource.choices)
    # The tracing classification at placement time (close, secondary, co_presence) or "".
    classification = models.CharField(_("判定"), max_length=16, blank=True)
    measure = models.CharField(_("管控措施"), max_length=16, choices=Measure.choices)
    status = models.CharField(
        _("状态"), max_length=16, choices=PlacementStatus.choices, default=PlacementStatus.PLANNED
    )
    site = models.ForeignKey(
        "quarantine.Site",
        verbose_name=_("隔离点"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="placements",
    )
    room = models.ForeignKey(
        "quarantine.Room",
        verbose_name=_("房间"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="placements",
    )
    occupancy = models.ForeignKey(
        Occupancy, null=True, blank=True, on_delete=models.PROTECT, related_name="placements"
    )
    # A minor or a dependant elderly person placed with a companion (陪护), who shares
    # the room; the companion's own placement.
    companion_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="companions"
    )
    needs_accessible = models.BooleanField(_("需要无障碍房间"), default=False)
    # Dates (protocol.rules): the rule set named on the page.
    ruleset = models.ForeignKey(
        "protocol.RuleSet", verbose_name=_("规则集"), on_delete=models.PROTECT, related_name="+"
    )
    last_exposure_on = models.DateField(_("末次暴露日期"), null=True, blank=True)
    start_on = models.DateField(_("开始日期"))
    # End of the measure at the site / at home (quarantine), then of home monitoring.
    quarantine_end_on = models.DateField(_("隔离期满日期"), null=True, blank=True)
    monitoring_end_on = models.DateField(_("健康监测期满日期"), null=True, blank=True)
    # The centralised placement this home monitoring follows (handover to the community).
    follows = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="followed_by"
    )
    note = models.CharField(_("备注"), max_length=300, blank=True)
    # Set by `placements_recompute` when an open placement at home is now, under its
    # classification (e.g. a secondary contact upgraded to close), due for centralised
    # quarantine: it stays open until the bulk placement moves the person to a site.
    # db_default: raw inserts (the bench, the drill) need not name it.
    needs_move = models.BooleanField(_("需转集中隔离"), default=False, db_default=False)
    checked_in_at = models.DateTimeField(_("入住时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    certificate_number = models.CharField(_("解除证明编号"), max_length=32, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("隔离管控")
        verbose_name_plural = _("隔离管控")
        indexes = [
            models.Index(fields=["site", "status"], name="placement_site_status"),
            models.Index(fields=["jurisdiction_path", "status"], name="placement_path_status"),
            models.Index(fields=["person", "status"], name="placement_person_status"),
            models.Index(fields=["contact"], name="placement_contact"),
        ]
        constraints = [
            # One open placement per person.
            models.UniqueConstraint(
                fields=["person"],
                condition=models.Q(status__in=["planned", "in_transit", "active"]),
                name="placement_one_open_per_person",
            ),
            models.CheckConstraint(
                condition=~models.Q(measure="centralised") | models.Q(site__isnull=False),
                name="placement_centralised_has_site",
            ),
            models.CheckConstraint(
                condition=models.Q(room__isnull=True) | models.Q(measure="centralised"),
                name="placement_room_only_centralised",
            ),
            models.UniqueConstraint(
                fields=["certificate_number"],
                condition=~models.Q(certificate_number=""),
                name="placement_certificate_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_measure_display()} #{self.pk}"


class Transfer(models.Model):
    """A transfer (转运): from the address to the site, from the site to hospital, or
    home after release; the town that must hand the person over sees it."""

    placement = models.ForeignKey(Placement, on_delete=models.CASCADE, related_name="transfers")
    kind = models.CharField(_("类型"), max_length=16, choices=TransferKind.choices)
    status = models.CharField(
        _("状态"), max_length=16, choices=TransferStatus.choices, default=TransferStatus.WAITING
    )
    vehicle = models.CharField(_("车辆"), max_length=32, blank=True)
    origin = models.CharField(_("出发地"), max_length=300, blank=True)
    destination = models.CharField(_("目的地"), max_length=300, blank=True)
    planned_at = models.DateTimeField(_("计划时间"), null=True, blank=True)
    departed_at = models.DateTimeField(_("出发时间"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("到达时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("转运")
        verbose_name_plural = _("转运")
        indexes = [models.Index(fields=["status", "kind"], name="transfer_status_kind")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class PlacementTest(models.Model):
    """A test of the stay: due on a day of the rule set's schedule (or urgent, after a
    fever), taken at the site as a single-tube sample through testing's services; its
    lab result arrives by the normal results import and lands here (`tube`)."""

    placement = models.ForeignKey(Placement, on_delete=models.CASCADE, related_name="tests")
    kind = models.CharField(_("类型"), max_length=16, choices=TestKind.choices)
    due_on = models.DateField(_("应检日期"))
    # The protocol rule behind a scheduled test ("close_contact.centralised_test.3").
    rule = models.CharField(_("依据"), max_length=64, blank=True)
    tube = models.ForeignKey(
        "testing.Tube", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sampled_at = models.DateTimeField(_("采样时间"), null=True, blank=True)
    sampled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    result = models.CharField(
        _("结果"), max_length=16, choices=TestResult.choices, default=TestResult.PENDING
    )
    resulted_at = models.DateTimeField(_("出结果时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("隔离期检测")
        verbose_name_plural = _("隔离期检测")
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(fields=["placement", "due_on"], name="ptest_placement_due"),
            models.Index(fields=["tube"], name="ptest_tube"),
            # The overdue board: tests not taken, by their day (core.deadlines).
            models.Index(
                fields=["due_on"], condition=Q(tube__isnull=True), name="ptest_untaken_due"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.due_on} {self.result}"
