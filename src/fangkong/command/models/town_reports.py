"""The towns' daily reports (镇街工作日报, 听取汇报): one report a town a day in a fixed
form — progress (工作进展), difficulties and problems (困难和问题), one row each so that
command can turn one into a task, and needs (需求) with quantities where they fit — and the
record that a town was reminded of a missing one (once a town a day)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TownReportNeedKind(models.TextChoices):
    SUPPLIES = "supplies", _("物资")
    STAFF = "staff", _("人员")
    VEHICLES = "vehicles", _("车辆")
    SITES = "sites", _("场地")
    OTHER = "other", _("其他")


class TownReport(models.Model):
    """A town's report for one day. Submitted by the town's staff for their own town;
    editable by them until command has read it or the day has ended (Asia/Shanghai).
    `due_at` is the rule set's hour on that day (`protocol.rules.town_report_deadline`),
    kept with the version that set it; a report first submitted after it is late."""

    # The town by its path (no foreign key: the drill rebuilds its city's tree freely).
    town_path = models.CharField(_("镇街路径"), max_length=32)
    day = models.DateField(_("日期"))
    progress = models.TextField(_("工作进展"))
    due_at = models.DateTimeField(_("报送时限"))
    ruleset_version = models.CharField(_("防控方案版本"), max_length=32)
    submitted_at = models.DateTimeField(_("报送时间"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("修改时间"))
    read_at = models.DateTimeField(_("阅知时间"), null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("镇街工作日报")
        verbose_name_plural = _("镇街工作日报")
        constraints = [
            models.UniqueConstraint(fields=["town_path", "day"], name="town_report_one_a_day")
        ]
        indexes = [models.Index(fields=["day", "town_path"], name="town_report_day")]

    def __str__(self) -> str:
        return f"{self.town_path} {self.day}"

    @property
    def late(self) -> bool:
        return self.submitted_at > self.due_at


class TownReportProblem(models.Model):
    """One difficulty or problem of a report; command may turn it into a task
    (`task_id`: the task made from it, which links back here by its source)."""

    report = models.ForeignKey(TownReport, on_delete=models.CASCADE, related_name="problems")
    position = models.PositiveSmallIntegerField(_("序号"))
    text = models.CharField(_("困难和问题"), max_length=300)
    # No foreign key: tasks are another part of command with a migration of its own; the
    # task names this problem as its source (source_type "town_report_problem").
    task_id = models.BigIntegerField(_("转办任务"), null=True, blank=True)
    task_at = models.DateTimeField(_("转办时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("镇街日报问题")
        verbose_name_plural = _("镇街日报问题")
        ordering = ["report", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "position"], name="town_report_problem_position"
            )
        ]

    def __str__(self) -> str:
        return self.text


class TownReportNeed(models.Model):
    """One need of a report: what (supplies, staff ...), how many where it fits."""

    report = models.ForeignKey(TownReport, on_delete=models.CASCADE, related_name="needs")
    position = models.PositiveSmallIntegerField(_("序号"))
    kind = models.CharField(_("类别"), max_length=16, choices=TownReportNeedKind.choices)
    item = models.CharField(_("需求内容"), max_length=100)
    quantity = models.PositiveIntegerField(_("数量"), null=True, blank=True)
    unit = models.CharField(_("单位"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("镇街日报需求")
        verbose_name_plural = _("镇街日报需求")
        ordering = ["report", "position"]
        constraints = [
            models.UniqueConstraint(fields=["report", "position"], name="town_report_need_position")
        ]

    def __str__(self) -> str:
        return self.item


class TownReportReminder(models.Model):
    """A town was told its report for `day` was missing at the hour: once a town a day
    (the periodic job may run any number of times)."""

    town_path = models.CharField(max_length=32)
    day = models.DateField()
    notified_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["town_path", "day"], name="town_report_reminder_once")
        ]

    def __str__(self) -> str:
        return f"{self.town_path} {self.day}"
