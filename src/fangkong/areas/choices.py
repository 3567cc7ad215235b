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


class VenueKind(models.TextChoices):
    """What kind of venue a place is: the rule set names the kinds where a short overlap
    makes a close contact (small enclosed venues) and those where co-presence makes a
    risk person only (large venues)."""

    RESTAURANT = "restaurant", _("餐饮店")
    KTV = "ktv", _("KTV")
    INTERNET_BAR = "internet_bar", _("网吧")
    GYM = "gym", _("健身房")
    CLINIC = "clinic", _("诊所")
    CHESS_ROOM = "chess_room", _("棋牌室")
    MARKET = "market", _("农贸市场")
    MALL = "mall", _("商场")
    SUPERMARKET = "supermarket", _("超市")
    STATION = "station", _("车站")
    HOSPITAL_HALL = "hospital_hall", _("医院大厅")
    SCENIC_AREA = "scenic_area", _("景区")
    SHOP = "shop", _("商店")
    OFFICE = "office", _("办事场所")
    OTHER = "other", _("其他场所")


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
    # The downgrade proposal: made by the system when the rule set's conditions hold,
    # withdrawn when they stop holding (a new case), declined by command with a reason.
    PROPOSE = "propose", _("建议降级")
    WITHDRAW = "withdraw", _("撤回降级建议")
    DECLINE = "decline", _("不予降级")
