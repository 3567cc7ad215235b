from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DrillCity(models.Model):
    """The record of one synthetic city build (`fangkong drill city`).

    The parameters make a build reproducible and the command idempotent: the same
    parameters on a database that already holds this build add nothing.
    """

    seed = models.BigIntegerField(_("随机种子"))
    population = models.PositiveIntegerField(_("人口"))
    days = models.PositiveSmallIntegerField(_("扫码天数"))
    start = models.DateField(_("扫码起始日期"))
    root_path = models.CharField(_("根辖区路径"), max_length=32, default="330483")
    counts = models.JSONField(_("各表行数"), default=dict)
    seconds = models.FloatField(_("耗时(秒)"), default=0)
    built_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("演练城市")
        verbose_name_plural = _("演练城市")
        constraints = [
            models.UniqueConstraint(fields=["root_path"], name="drill_city_one_per_root"),
        ]

    def __str__(self) -> str:
        return f"drill city {self.root_path} seed={self.seed} n={self.population}"


class DrillDay(models.Model):
    """One day of the reference outbreak played on a drill city (`fangkong drill outbreak`).

    A day is played once: re-running the command skips the days already recorded here.
    """

    city = models.ForeignKey(DrillCity, on_delete=models.CASCADE, related_name="outbreak_days")
    day = models.PositiveSmallIntegerField(_("演练日"))
    on_date = models.DateField(_("日期"))
    summary = models.JSONField(_("摘要"), default=dict)
    played_at = models.DateTimeField(_("演练时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("演练日")
        verbose_name_plural = _("演练日")
        constraints = [
            models.UniqueConstraint(fields=["city", "day"], name="drill_day_once"),
        ]

    def __str__(self) -> str:
        return f"day {self.day} of drill city {self.city_id}"
