"""The vocabulary of quarantine: room kinds and states, measures, statuses, results.

Other apps (command, the drill, tests) use these values without reaching into the
models."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RoomKind(models.TextChoices):
    SINGLE = "single", _("单人间")
    MULTI = "multi", _("多人间")
    ACCESSIBLE = "accessible", _("无障碍间")


class RoomState(models.TextChoices):
    READY = "ready", _("可入住")
    OCCUPIED = "occupied", _("已入住")
    DISINFECT = "disinfect", _("待消杀")
    OUT_OF_SERVICE = "out_of_service", _("停用")


class StaffPost(models.TextChoices):
    DOCTOR = "doctor", _("医生")
    NURSE = "nurse", _("护士")
    SECURITY = "security", _("安保")
    CLEANER = "cleaner", _("保洁消杀")
    LOGISTICS = "logistics", _("后勤")
    MANAGER = "manager", _("负责人")


class Measure(models.TextChoices):
    CENTRALISED = "centralised", _("集中隔离")
    HOME_QUARANTINE = "home", _("居家隔离")
    HOME_MONITORING = "monitoring", _("居家健康监测")


class PlacementSource(models.TextChoices):
    CONTACT = "contact", _("密接/次密接")
    RISK_PERSON = "risk_person", _("风险人员")
    ARRIVAL = "arrival", _("外地来返")
    ZONE_RESIDENT = "zone_resident", _("风险区人员")
    OTHER = "other", _("其他")


class PlacementStatus(models.TextChoices):
    PLANNED = "planned", _("待转运")
    IN_TRANSIT = "in_transit", _("转运中")
    ACTIVE = "active", _("隔离中")
    HOSPITAL = "hospital", _("已送医")
    RELEASED = "released", _("已解除")
    BECAME_CASE = "became_case", _("转为病例")
    CANCELLED = "cancelled", _("已取消")


# Placements still counted (occupying a room, scheduled tests due, dates recomputed).
OPEN_STATUSES: frozenset[str] = frozenset(
    {PlacementStatus.PLANNED, PlacementStatus.IN_TRANSIT, PlacementStatus.ACTIVE}
)


class TransferKind(models.TextChoices):
    TO_SITE = "to_site", _("转运至隔离点")
    TO_HOSPITAL = "to_hospital", _("转运至医院")
    TO_HOME = "to_home", _("解除后送返")


class TransferStatus(models.TextChoices):
    WAITING = "waiting", _("待转运")
    EN_ROUTE = "en_route", _("转运中")
    ARRIVED = "arrived", _("已到达")
    CANCELLED = "cancelled", _("已取消")


class TestKind(models.TextChoices):
    SCHEDULED = "scheduled", _("按方案检测")
    URGENT = "urgent", _("紧急检测")
    RELEASE = "release", _("解除前检测")


class TestResult(models.TextChoices):
    PENDING = "pending", _("待出结果")
    NEGATIVE = "negative", _("阴性")
    POSITIVE = "positive", _("阳性")
    INVALID = "invalid", _("无效")


class Symptom(models.TextChoices):
    FEVER = "fever", _("发热")
    COUGH = "cough", _("咳嗽")
    SORE_THROAT = "sore_throat", _("咽痛")
    FATIGUE = "fatigue", _("乏力")
    TASTE_SMELL = "taste_smell", _("嗅觉味觉减退")
    DIARRHOEA = "diarrhoea", _("腹泻")
    MUSCLE_ACHE = "muscle_ache", _("肌肉酸痛")
    CONGESTION = "congestion", _("鼻塞流涕")


class CheckSlot(models.TextChoices):
    MORNING = "am", _("上午")
    AFTERNOON = "pm", _("下午")


class AlertKind(models.TextChoices):
    FEVER = "fever", _("发热")
    SYMPTOMS = "symptoms", _("出现症状")
    POSITIVE = "positive", _("核酸阳性")


class AlertState(models.TextChoices):
    OPEN = "open", _("待处置")
    HANDLED = "handled", _("已处置")


class RectificationStatus(models.TextChoices):
    OPEN = "open", _("整改中")
    DONE = "done", _("已整改")
