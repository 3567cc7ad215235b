"""The figures of the situation at a glance, kept per jurisdiction and day by a job.

One row per (jurisdiction path, day): the city and each of its towns. `figures` holds
the day's snapshot as `command.services.figures` computes it (the shape is documented
there and read only by `command.selectors.figures.situation`), so that the dashboard and
the daily report read one row instead of counting millions of rows per request.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class FigureSnapshot(models.Model):
    path = models.CharField(_("辖区编码"), max_length=32)
    day = models.DateField(_("日期"))
    computed_at = models.DateTimeField(_("计算时间"))
    figures = models.JSONField(_("数据"), default=dict)

    class Meta:
        verbose_name = _("态势数据")
        verbose_name_plural = _("态势数据")
        constraints = [
            models.UniqueConstraint(fields=["path", "day"], name="figure_snapshot_path_day"),
        ]

    def __str__(self) -> str:
        return f"{self.path} {self.day}"
