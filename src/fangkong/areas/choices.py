"""The vocabulary of areas: levels, place kinds, zone levels, states and actions.

Other apps use these values (filters, labels, rules) without reaching into areas'
models; models.py defines its fields with them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    CITY = "city", _("市")
    TOWN = "town", _("镇街")
    COMMUNITY = "community", _("村社")
    GRID = "grid", _("网格")


class PlaceKind(models.TextChoices):
    VENUE = "venue", _("场所")
    WORKPLACE = "workplace", _("工作单位")
    SCHOOL = "school", _("学校")
    SAMPLING_POINT = "sampling_point", _("采样点")
    QUARANTINE_SITE = "quarantine_site", _("隔离点")
    LAB = "lab", _("检测机构")
    HOSPITAL = "hospital", _("医院")
    CHECKPOINT = "checkpoint", _("卡口")
    WAREHOUSE = "warehouse", _("物资仓库")
    OTHER = "other", _("其他")


class ZoneLevel(models.TextChoices):
    SEALED = "sealed", _("封控区")
    CONTROLLED = "controlled", _("管控区")
    PRECAUTION = "precaution", _("防范区")


class ZoneState(models.TextChoices):
    ACTIVE = "active", _("生效中")
    LIFTED = "lifted", _("已解除")


class ZoneAction(models.TextChoices):
    CREATE = "create", _("划定")
    CASE_RESET = "case_reset", _("新增病例，重新计数")
    ESCALATE = "escalate", _("升级为封控区")
    CLOSE_DAY = "close_day", _("日终计数")
    SCREENING = "screening", _("全员筛查")
    DOWNGRADE = "downgrade", _("降级")
    LIFT = "lift", _("解除")
